//! One id type per entity, so an invoice's id cannot be passed where an
//! account's is expected. The database assigns them; they carry no rule
//! beyond being that entity's key.

macro_rules! entity_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// The id a stored row or a request names.
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            /// The stored key.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    )*};
}

entity_id! {
    /// A customer company.
    AccountId;
    /// A person who signs in for an account.
    UserId;
    /// One product subscribed by an account.
    SubscriptionId;
    /// A placed (or being placed) order.
    OrderId;
    /// An issued invoice or credit note.
    InvoiceId;
    /// A queued email.
    EmailId;
    /// A key of the operator API.
    ApiKeyId;
    /// A payment received (or reversed, or refunded).
    PaymentId;
    /// A URL of the seller's application that receives webhooks.
    WebhookEndpointId;
    /// One event on its way to one webhook endpoint.
    DeliveryId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_travel_as_bare_numbers_and_keep_their_kind() {
        let id = InvoiceId::new(42);
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<InvoiceId>("42").unwrap(), id);
        assert_eq!("42".parse::<InvoiceId>().unwrap(), id);
        assert!("4x".parse::<InvoiceId>().is_err());
        assert_eq!(id.to_string(), "42");
    }
}
