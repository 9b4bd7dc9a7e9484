//! Subscription states, the actions each offers, and the transitions between
//! them. An invalid transition is a typed error, never a panic.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::BillingError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    Trial,
    TrialExpired,
    Active,
    PendingCancellation,
    PastDue,
    Expired,
}

impl SubscriptionStatus {
    pub const ALL: [SubscriptionStatus; 6] = [
        SubscriptionStatus::Trial,
        SubscriptionStatus::TrialExpired,
        SubscriptionStatus::Active,
        SubscriptionStatus::PendingCancellation,
        SubscriptionStatus::PastDue,
        SubscriptionStatus::Expired,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SubscriptionStatus::Trial => "trial",
            SubscriptionStatus::TrialExpired => "trial_expired",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PendingCancellation => "pending_cancellation",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Expired => "expired",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The badge text.
    pub fn label(self) -> &'static str {
        match self {
            SubscriptionStatus::Trial => "Free trial",
            SubscriptionStatus::TrialExpired => "Trial over",
            SubscriptionStatus::Active => "Active",
            SubscriptionStatus::PendingCancellation => "Pending cancellation",
            SubscriptionStatus::PastDue => "Past due",
            SubscriptionStatus::Expired => "Expired",
        }
    }

    /// Whether the customer can use the product in this state.
    pub fn has_access(self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Trial
                | SubscriptionStatus::Active
                | SubscriptionStatus::PendingCancellation
                | SubscriptionStatus::PastDue
        )
    }
}

impl fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Online,
    Corporate,
}

impl AccountKind {
    pub fn code(self) -> &'static str {
        match self {
            AccountKind::Online => "online",
            AccountKind::Corporate => "corporate",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "online" => Some(AccountKind::Online),
            "corporate" => Some(AccountKind::Corporate),
            _ => None,
        }
    }
}

/// What a billing contact can do from a subscription card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    SubscribeNow,
    Modify,
    Cancel,
    RemovePendingCancellation,
    Reactivate,
    UpdatePaymentMethod,
}

/// Something that happens to a subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Subscribe,
    Change,
    CancelAtPeriodEnd,
    RemoveCancellation,
    Reactivate,
    TrialEnds,
    TermEnds,
    Renew,
    PaymentFailed,
    PaymentRecovered,
    DunningExhausted,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Event::Subscribe => "subscribe",
            Event::Change => "change plan",
            Event::CancelAtPeriodEnd => "cancel",
            Event::RemoveCancellation => "remove pending cancellation",
            Event::Reactivate => "reactivate",
            Event::TrialEnds => "end trial",
            Event::TermEnds => "end term",
            Event::Renew => "renew",
            Event::PaymentFailed => "payment failed",
            Event::PaymentRecovered => "payment recovered",
            Event::DunningExhausted => "retries exhausted",
        })
    }
}

/// The buttons a card shows. Corporate accounts change nothing online.
pub fn available_actions(status: SubscriptionStatus, kind: AccountKind) -> Vec<Action> {
    if kind == AccountKind::Corporate {
        return Vec::new();
    }
    match status {
        SubscriptionStatus::Trial | SubscriptionStatus::TrialExpired => vec![Action::SubscribeNow],
        SubscriptionStatus::Active => vec![Action::Modify, Action::Cancel],
        SubscriptionStatus::PendingCancellation => vec![Action::RemovePendingCancellation],
        SubscriptionStatus::PastDue => vec![Action::UpdatePaymentMethod],
        SubscriptionStatus::Expired => vec![Action::Reactivate],
    }
}

pub fn transition(
    status: SubscriptionStatus,
    event: Event,
) -> Result<SubscriptionStatus, BillingError> {
    use Event as E;
    use SubscriptionStatus as S;
    let next = match (status, event) {
        (S::Trial | S::TrialExpired, E::Subscribe) => S::Active,
        (S::Trial, E::TrialEnds) => S::TrialExpired,
        (S::Active, E::Change) => S::Active,
        (S::Active, E::CancelAtPeriodEnd) => S::PendingCancellation,
        (S::PendingCancellation, E::RemoveCancellation) => S::Active,
        (S::PendingCancellation, E::TermEnds) => S::Expired,
        (S::Expired, E::Reactivate) => S::Active,
        (S::Active, E::Renew) => S::Active,
        (S::Active, E::PaymentFailed) => S::PastDue,
        (S::PastDue, E::PaymentFailed) => S::PastDue,
        (S::PastDue, E::PaymentRecovered) => S::Active,
        (S::PastDue, E::DunningExhausted) => S::Expired,
        _ => return Err(BillingError::InvalidTransition { status, event }),
    };
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionStatus as S;

    #[test]
    fn actions_per_state_for_online_accounts() {
        let a = |s| available_actions(s, AccountKind::Online);
        assert_eq!(a(S::Trial), [Action::SubscribeNow]);
        assert_eq!(a(S::TrialExpired), [Action::SubscribeNow]);
        assert_eq!(a(S::Active), [Action::Modify, Action::Cancel]);
        assert_eq!(
            a(S::PendingCancellation),
            [Action::RemovePendingCancellation]
        );
        assert_eq!(a(S::Expired), [Action::Reactivate]);
        assert_eq!(a(S::PastDue), [Action::UpdatePaymentMethod]);
    }

    #[test]
    fn corporate_accounts_get_no_self_service_action() {
        for s in S::ALL {
            assert!(available_actions(s, AccountKind::Corporate).is_empty());
        }
    }

    #[test]
    fn every_offered_action_is_a_valid_transition() {
        for s in S::ALL {
            for action in available_actions(s, AccountKind::Online) {
                let event = match action {
                    Action::SubscribeNow => Event::Subscribe,
                    Action::Modify => Event::Change,
                    Action::Cancel => Event::CancelAtPeriodEnd,
                    Action::RemovePendingCancellation => Event::RemoveCancellation,
                    Action::Reactivate => Event::Reactivate,
                    Action::UpdatePaymentMethod => Event::PaymentRecovered,
                };
                assert!(transition(s, event).is_ok(), "{s} offers {action:?}");
            }
        }
    }

    #[test]
    fn invalid_transitions_are_typed_errors() {
        assert_eq!(
            transition(S::Expired, Event::RemoveCancellation),
            Err(BillingError::InvalidTransition {
                status: S::Expired,
                event: Event::RemoveCancellation
            })
        );
        assert!(transition(S::Trial, Event::Reactivate).is_err());
        assert!(transition(S::Active, Event::Subscribe).is_err());
        assert_eq!(
            transition(S::PendingCancellation, Event::TermEnds),
            Ok(S::Expired)
        );
        assert_eq!(transition(S::Trial, Event::TrialEnds), Ok(S::TrialExpired));
        assert_eq!(
            transition(S::PastDue, Event::DunningExhausted),
            Ok(S::Expired)
        );
    }

    #[test]
    fn codes_round_trip() {
        for s in S::ALL {
            assert_eq!(S::parse(s.code()), Some(s));
        }
        assert_eq!(S::parse("bogus"), None);
    }
}
