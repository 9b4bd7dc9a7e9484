//! The keys. `{name}` placeholders are filled with [`super::fill`].

macro_rules! texts {
    ($($(#[$doc:meta])* $key:ident),* $(,)?) => {
        /// Every text of the product, one field per key.
        pub struct Texts {
            /// Short month names, January first.
            pub months: [&'static str; 12],
            $($(#[$doc])* pub $key: &'static str,)*
        }

        impl Texts {
            /// Every key with its text, for the completeness test.
            pub fn all(&self) -> Vec<(&'static str, &'static str)> {
                vec![$((stringify!($key), self.$key),)*]
            }
        }
    };
}

texts! {
    // Emails
    email_footer,
    order_subject,
    order_subject_no_invoice,
    order_thanks,
    invoice_number,
    billing_period,
    period_range,
    seats,
    price,
    subtotal,
    vat_rate,
    total,
    credit_applied,
    reverse_charge,
    trial_ended_subject,
    trial_ended_body,
    term_ended_subject,
    term_ended_body,
    renewal_subject,
    renewal_body,
    payment_failed_subject,
    payment_failed_body,
    expired_subject,
    expired_body,
    trial_reminder_subject,
    trial_reminder_body,
    cancellation_reminder_subject,
    cancellation_reminder_body,
    payment_receipt_subject,
    payment_receipt_body,
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
    csv_net,
    csv_vat,
    csv_total,
    csv_currency,
    csv_status,
    csv_status_open,
}
