//! The clock is passed in, so tests and demos can travel in time.

use chrono::{DateTime, NaiveDate, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A fixed instant (tests; `BC_FAKE_NOW` in demos).
#[derive(Debug)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A clock the test moves (time-travel tests): never `sleep`.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(std::sync::Mutex::new(at))
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The local date in `time_zone` (IANA name); unknown zones fall back to UTC.
pub fn local_date(now: DateTime<Utc>, time_zone: &str) -> NaiveDate {
    match time_zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => now.with_timezone(&tz).date_naive(),
        Err(_) => now.date_naive(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_dates_cross_midnight_in_the_accounts_zone() {
        // 23:30 UTC on Nov 25 is already Nov 26 in Paris (UTC+1).
        let t = "2026-11-25T23:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(local_date(t, "Europe/Paris").to_string(), "2026-11-26");
        assert_eq!(local_date(t, "UTC").to_string(), "2026-11-25");
        assert_eq!(local_date(t, "America/New_York").to_string(), "2026-11-25");
        // Summer time: 22:30 UTC on Jun 30 is 00:30 Jul 1 in Paris (UTC+2).
        let t = "2026-06-30T22:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(local_date(t, "Europe/Paris").to_string(), "2026-07-01");
        let t = "2026-06-30T21:59:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(local_date(t, "Europe/Paris").to_string(), "2026-06-30");
    }
}
