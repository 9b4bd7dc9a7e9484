//! The figures an invoice document prints (page, PDF, CSV), from what the
//! invoice stores: every document shows the same rows, and they add up.

use super::{BillingError, Money};

/// Whether an invoice still waits for its payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvoiceStatus {
    /// Issued to a Corporate account, paid later.
    Open,
    /// Paid: charged when issued, or an open one paid since.
    Paid,
}

impl InvoiceStatus {
    pub fn code(self) -> &'static str {
        match self {
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "open" => Some(InvoiceStatus::Open),
            "paid" => Some(InvoiceStatus::Paid),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvoiceFigures {
    /// Σ of the lines (below zero for a credit note or a downgrade).
    pub subtotal: Money,
    /// Account credit used against this invoice.
    pub credit_applied: Money,
    /// Taxable amount: subtotal − credit applied, never below zero.
    pub net: Money,
    pub vat: Money,
    pub total: Money,
    /// What the lines sum below zero: kept as account credit, never paid out.
    pub carried_forward: Money,
}

impl InvoiceFigures {
    /// The figures of an invoice whose lines are `lines`, refused when the
    /// stored net, VAT and total do not follow from them (a document never
    /// prints a sum that does not hold).
    pub fn new(
        lines: &[Money],
        credit_applied: Money,
        net: Money,
        vat: Money,
        total: Money,
    ) -> Result<InvoiceFigures, BillingError> {
        let zero = Money::zero(net.currency());
        let subtotal = lines.iter().try_fold(zero, |acc, m| acc.checked_add(*m))?;
        let carried_forward = (-subtotal).max(zero);
        let expected_net = subtotal.checked_sub(credit_applied)?.max(zero);
        let adds_up = expected_net == net
            && net.checked_add(vat)? == total
            && !credit_applied.is_negative()
            && (credit_applied.is_zero() || !subtotal.checked_sub(credit_applied)?.is_negative());
        if !adds_up {
            return Err(BillingError::InconsistentInvoice);
        }
        Ok(InvoiceFigures {
            subtotal,
            credit_applied,
            net,
            vat,
            total,
            carried_forward,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::Currency;

    fn eur(minor: i64) -> Money {
        Money::from_minor(minor, Currency::Eur)
    }

    #[test]
    fn credit_applied_sits_between_the_lines_and_the_net() {
        let f = InvoiceFigures::new(
            &[eur(5000), eur(2000)],
            eur(1500),
            eur(5500),
            eur(1100),
            eur(6600),
        )
        .unwrap();
        assert_eq!((f.subtotal, f.carried_forward), (eur(7000), eur(0)));
    }

    #[test]
    fn lines_below_zero_are_carried_forward() {
        let f =
            InvoiceFigures::new(&[eur(-3000), eur(1000)], eur(0), eur(0), eur(0), eur(0)).unwrap();
        assert_eq!((f.subtotal, f.carried_forward), (eur(-2000), eur(2000)));
    }

    #[test]
    fn figures_that_do_not_add_up_are_refused() {
        // The net printed as if the credit had not been taken off.
        assert!(
            InvoiceFigures::new(&[eur(7000)], eur(1500), eur(7000), eur(1400), eur(8400)).is_err()
        );
        assert!(
            InvoiceFigures::new(&[eur(7000)], eur(0), eur(7000), eur(1400), eur(8300)).is_err()
        );
    }
}
