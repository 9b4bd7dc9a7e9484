//! The events the seller's application can subscribe to (outgoing
//! webhooks): what happened to an account, a subscription, an invoice or
//! a payment.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    AccountUpdated,
    SubscriptionCreated,
    /// Plan, seats, frequency, state or period changed.
    SubscriptionUpdated,
    /// A cancellation is pending: the subscription ends with its term.
    SubscriptionCanceled,
    SubscriptionExpired,
    TrialWillEnd,
    InvoiceCreated,
    InvoicePaid,
    PaymentFailed,
}

impl EventType {
    pub const ALL: [EventType; 9] = [
        EventType::AccountUpdated,
        EventType::SubscriptionCreated,
        EventType::SubscriptionUpdated,
        EventType::SubscriptionCanceled,
        EventType::SubscriptionExpired,
        EventType::TrialWillEnd,
        EventType::InvoiceCreated,
        EventType::InvoicePaid,
        EventType::PaymentFailed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EventType::AccountUpdated => "account.updated",
            EventType::SubscriptionCreated => "subscription.created",
            EventType::SubscriptionUpdated => "subscription.updated",
            EventType::SubscriptionCanceled => "subscription.canceled",
            EventType::SubscriptionExpired => "subscription.expired",
            EventType::TrialWillEnd => "trial.will_end",
            EventType::InvoiceCreated => "invoice.created",
            EventType::InvoicePaid => "invoice.paid",
            EventType::PaymentFailed => "payment.failed",
        }
    }

    pub fn parse(code: &str) -> Result<EventType, String> {
        EventType::ALL
            .into_iter()
            .find(|t| t.code() == code)
            .ok_or_else(|| {
                let known: Vec<_> = EventType::ALL.iter().map(|t| t.code()).collect();
                format!("unknown event type {code:?} (known: {})", known.join(", "))
            })
    }
}

/// What an endpoint receives: every event, or the types it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventFilter {
    All,
    Only(Vec<EventType>),
}

impl EventFilter {
    /// `*` (or nothing) for every event; otherwise type codes separated by
    /// commas, each known.
    pub fn parse(list: &str) -> Result<EventFilter, String> {
        let list = list.trim();
        if list.is_empty() || list == "*" {
            return Ok(EventFilter::All);
        }
        let mut types = Vec::new();
        for code in list.split(',').map(str::trim) {
            let t = EventType::parse(code)?;
            if !types.contains(&t) {
                types.push(t);
            }
        }
        Ok(EventFilter::Only(types))
    }

    /// As stored and shown: `*` or the codes joined by commas.
    pub fn code(&self) -> String {
        match self {
            EventFilter::All => "*".to_string(),
            EventFilter::Only(types) => {
                types.iter().map(|t| t.code()).collect::<Vec<_>>().join(",")
            }
        }
    }

    pub fn accepts(&self, t: EventType) -> bool {
        match self {
            EventFilter::All => true,
            EventFilter::Only(types) => types.contains(&t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_known_types_only_and_round_trip() {
        assert_eq!(EventFilter::parse("*"), Ok(EventFilter::All));
        assert_eq!(EventFilter::parse(" "), Ok(EventFilter::All));
        let f = EventFilter::parse("invoice.paid, subscription.created,invoice.paid").unwrap();
        assert_eq!(f.code(), "invoice.paid,subscription.created");
        assert!(f.accepts(EventType::InvoicePaid));
        assert!(!f.accepts(EventType::PaymentFailed));
        assert_eq!(EventFilter::parse(&f.code()), Ok(f));
        let err = EventFilter::parse("invoice.paid,invoice.payed").unwrap_err();
        assert!(err.contains("\"invoice.payed\""), "{err}");
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.code()), Ok(t));
        }
    }
}
