//! The keys. `{name}` placeholders are filled with [`super::fill`].

/// A struct of texts, one `&'static str` field per key: a constant per
/// language must give every key, or it does not compile.
macro_rules! texts {
    ($(#[$sdoc:meta])* $name:ident { $($(#[$doc:meta])* $key:ident),* $(,)? }) => {
        $(#[$sdoc])*
        pub struct $name {
            $($(#[$doc])* pub $key: &'static str,)*
        }

        impl $name {
            /// The texts in key order, for [`Self::from_values`].
            pub fn values(&self) -> Vec<&'static str> {
                vec![$(self.$key,)*]
            }

            /// Rebuilds the struct from [`Self::values`] (the browser gets
            /// its language's texts as data in the page, not in its code);
            /// `None` when the count is wrong. Written as a loop over the
            /// fields' slots: a per-field construction was 10 KB of WASM.
            pub fn from_values(values: Vec<String>) -> Option<Self> {
                const EMPTY: $name = $name { $($key: "",)* };
                let mut built = EMPTY;
                let slots: Vec<&mut &'static str> = vec![$(&mut built.$key,)*];
                if slots.len() != values.len() {
                    return None;
                }
                for (slot, v) in slots.into_iter().zip(values) {
                    *slot = Box::leak(v.into_boxed_str());
                }
                Some(built)
            }

            /// Every key with its text, for the completeness test.
            pub fn all(&self) -> Vec<(&'static str, &'static str)> {
                vec![$((stringify!($key), self.$key),)*]
            }
        }
    };
}

pub(super) use texts;

texts! {
    /// The texts of documents the server writes: emails, PDF invoices, CSV.
    /// Server-only in practice, so they stay out of the browser's bundle.
    Texts {
    // Emails
    email_footer,
    order_subject,
    order_subject_no_invoice,
    order_thanks,
    invoice_number,
    invoice_link,
    billing_period,
    period_range,
    seats,
    price,
    subtotal,
    vat_rate,
    total,
    credit_applied,
    /// The net after credit, when credit was applied.
    net_after_credit,
    /// What the lines sum below zero, kept as account credit.
    credit_carried_forward,
    reverse_charge,
    trial_ended_subject,
    trial_ended_body,
    term_ended_subject,
    term_ended_body,
    renewal_subject,
    renewal_body,
    payment_failed_subject,
    payment_failed_body,
    payment_failed_hard_body,
    payment_action_subject,
    payment_action_body,
    cancelled_subject,
    cancelled_body,
    expired_subject,
    expired_body,
    trial_reminder_subject,
    trial_reminder_body,
    cancellation_reminder_subject,
    cancellation_reminder_body,
    payment_receipt_subject,
    payment_receipt_body,
    payment_returned_subject,
    payment_returned_body,
    payment_refunded_subject,
    payment_refunded_body,
    reset_subject,
    reset_body,
    invite_subject,
    invite_body,
    contact_changed_subject,
    contact_changed_from,
    contact_changed_to,
    monthly,
    annual,
    renewal_line,
    line_prorated,
    line_credit,
    // Invoices (PDF)
    pdf_title,
    pdf_seller,
    pdf_buyer,
    pdf_issued_on,
    pdf_vat_number,
    pdf_description,
    pdf_unit_price,
    pdf_amount,
    pdf_total_due,
    pdf_status_paid,
    pdf_status_open,
    pdf_late_payment,
    pdf_page,
    // Invoice history (CSV)
    csv_date,
    csv_number,
    csv_period_start,
    csv_period_end,
    csv_subtotal,
    csv_credit_applied,
    csv_net,
    csv_vat,
    csv_total,
    csv_carried_forward,
    csv_currency,
    csv_status,
    csv_status_open,
}
}
