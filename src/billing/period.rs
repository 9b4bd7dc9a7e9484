//! Billing periods: half-open `[start, end)` local dates, computed from the
//! anchor date by adding whole months to the *anchor* (never to the previous
//! period), so the anchor day is clamped per month and never drifts:
//! Jan 31 → Feb 28/29 → Mar 31 → Apr 30 (Stripe, Kill Bill BillCycleDayCalculator).

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::error::BillingError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Monthly,
    Annual,
}

impl Frequency {
    pub fn months(self) -> u32 {
        match self {
            Frequency::Monthly => 1,
            Frequency::Annual => 12,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Frequency::Monthly => "monthly",
            Frequency::Annual => "annual",
        }
    }

    pub fn parse(code: &str) -> Result<Self, BillingError> {
        match code {
            "monthly" => Ok(Frequency::Monthly),
            "annual" => Ok(Frequency::Annual),
            other => Err(BillingError::UnknownFrequency {
                code: other.to_string(),
            }),
        }
    }
}

/// `[start, end)`: the end date is the first day of the next period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BillingPeriod {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl BillingPeriod {
    /// The `n`-th period (0-based) of a term anchored on `anchor`.
    pub fn nth(anchor: NaiveDate, frequency: Frequency, n: u32) -> Result<Self, BillingError> {
        Ok(BillingPeriod {
            start: add_months(anchor, frequency.months() * n)?,
            end: add_months(anchor, frequency.months() * (n + 1))?,
        })
    }

    /// The first period of a term starting on `start`.
    pub fn starting(start: NaiveDate, frequency: Frequency) -> Result<Self, BillingError> {
        Self::nth(start, frequency, 0)
    }

    /// The period of the term anchored on `anchor` that contains `date`.
    /// Dates before the anchor belong to the first period.
    pub fn containing(
        anchor: NaiveDate,
        frequency: Frequency,
        date: NaiveDate,
    ) -> Result<Self, BillingError> {
        if date < anchor {
            return Self::nth(anchor, frequency, 0);
        }
        // Estimate from the month difference, then correct by at most one step.
        let months = (date.year_month_index() - anchor.year_month_index()).max(0) as u32;
        let mut n = months / frequency.months();
        loop {
            let p = Self::nth(anchor, frequency, n)?;
            if date < p.start {
                n = n.saturating_sub(1);
            } else if date >= p.end {
                n += 1;
            } else {
                return Ok(p);
            }
        }
    }

    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days()
    }

    /// Days from `date` (inclusive) to the end of the period, clamped to the
    /// period: `date` before the start gives the whole period, after it zero.
    pub fn remaining_days(&self, date: NaiveDate) -> i64 {
        if date <= self.start {
            self.days()
        } else if date >= self.end {
            0
        } else {
            (self.end - date).num_days()
        }
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end
    }

    /// Last day covered, for display ("Nov 26, 2026 – Dec 25, 2026").
    pub fn last_day(&self) -> NaiveDate {
        self.end.pred_opt().unwrap_or(self.end)
    }
}

fn add_months(date: NaiveDate, months: u32) -> Result<NaiveDate, BillingError> {
    date.checked_add_months(Months::new(months))
        .ok_or(BillingError::DateOutOfRange)
}

trait YearMonthIndex {
    fn year_month_index(&self) -> i64;
}

impl YearMonthIndex for NaiveDate {
    fn year_month_index(&self) -> i64 {
        use chrono::Datelike;
        i64::from(self.year()) * 12 + i64::from(self.month0())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn anchor_31_clamps_per_month_and_never_drifts() {
        let anchor = date("2023-01-31");
        let starts: Vec<String> = (0..24)
            .map(|n| {
                BillingPeriod::nth(anchor, Frequency::Monthly, n)
                    .unwrap()
                    .start
                    .to_string()
            })
            .collect();
        assert_eq!(
            &starts[..6],
            [
                "2023-01-31",
                "2023-02-28",
                "2023-03-31",
                "2023-04-30",
                "2023-05-31",
                "2023-06-30"
            ]
        );
        // Leap year 2024: February 29; the 31st comes back every long month.
        assert_eq!(starts[13], "2024-02-29");
        assert_eq!(starts[14], "2024-03-31");
        assert_eq!(starts[23], "2024-12-31");
        assert_tiles(anchor, Frequency::Monthly, 24);
    }

    #[test]
    fn anchor_30_keeps_the_30th_after_february() {
        let anchor = date("2024-01-30");
        let p1 = BillingPeriod::nth(anchor, Frequency::Monthly, 1).unwrap();
        assert_eq!(p1.start, date("2024-02-29"));
        assert_eq!(p1.end, date("2024-03-30"));
        let p13 = BillingPeriod::nth(anchor, Frequency::Monthly, 13).unwrap();
        assert_eq!(p13.start, date("2025-02-28"));
        assert_eq!(p13.end, date("2025-03-30"));
        assert_tiles(anchor, Frequency::Monthly, 24);
    }

    #[test]
    fn annual_from_february_29_renews_february_28_then_29_again() {
        let anchor = date("2024-02-29");
        let ends: Vec<String> = (0..4)
            .map(|n| {
                BillingPeriod::nth(anchor, Frequency::Annual, n)
                    .unwrap()
                    .end
                    .to_string()
            })
            .collect();
        assert_eq!(
            ends,
            ["2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29"]
        );
        assert_eq!(
            BillingPeriod::nth(anchor, Frequency::Annual, 0)
                .unwrap()
                .days(),
            365
        );
    }

    #[test]
    fn day_fractions_match_kill_bill_vectors() {
        let p = BillingPeriod {
            start: date("2023-02-15"),
            end: date("2023-03-15"),
        };
        assert_eq!((p.remaining_days(date("2023-02-23")), p.days()), (20, 28));
        let p = BillingPeriod {
            start: date("2024-02-15"),
            end: date("2024-03-15"),
        };
        assert_eq!((p.remaining_days(date("2024-02-23")), p.days()), (21, 29));
        let p = BillingPeriod {
            start: date("2023-05-15"),
            end: date("2023-06-15"),
        };
        assert_eq!((p.remaining_days(date("2023-05-23")), p.days()), (23, 31));
    }

    #[test]
    fn containing_finds_the_period_of_a_date() {
        let anchor = date("2023-01-31");
        let p = BillingPeriod::containing(anchor, Frequency::Monthly, date("2023-03-30")).unwrap();
        assert_eq!((p.start, p.end), (date("2023-02-28"), date("2023-03-31")));
        let p = BillingPeriod::containing(anchor, Frequency::Monthly, date("2023-03-31")).unwrap();
        assert_eq!((p.start, p.end), (date("2023-03-31"), date("2023-04-30")));
        let p = BillingPeriod::containing(anchor, Frequency::Annual, date("2025-01-30")).unwrap();
        assert_eq!((p.start, p.end), (date("2024-01-31"), date("2025-01-31")));
    }

    #[test]
    fn frequency_codes_round_trip() {
        for f in [Frequency::Monthly, Frequency::Annual] {
            assert_eq!(Frequency::parse(f.code()).unwrap(), f);
        }
        assert!(Frequency::parse("weekly").is_err());
    }

    fn assert_tiles(anchor: NaiveDate, frequency: Frequency, count: u32) {
        let mut previous_end = anchor;
        for n in 0..count {
            let p = BillingPeriod::nth(anchor, frequency, n).unwrap();
            assert_eq!(p.start, previous_end, "gap or overlap before period {n}");
            assert!(p.end > p.start);
            previous_end = p.end;
        }
    }

    proptest! {
        #[test]
        fn periods_tile_for_ten_years_from_any_start(days in 0i64..(365 * 60), annual in any::<bool>()) {
            let anchor = date("1990-01-01") + chrono::Duration::days(days);
            let frequency = if annual { Frequency::Annual } else { Frequency::Monthly };
            let count = if annual { 10 } else { 120 };
            let mut previous_end = anchor;
            for n in 0..count {
                let p = BillingPeriod::nth(anchor, frequency, n).unwrap();
                prop_assert_eq!(p.start, previous_end);
                prop_assert!(p.days() >= 28 && p.days() <= 366);
                // The anchor day is kept whenever the month has it.
                use chrono::Datelike;
                let wanted = anchor.day();
                prop_assert!(p.start.day() == wanted || p.start.day() < wanted && (p.start + chrono::Duration::days(1)).day() == 1);
                prop_assert!(BillingPeriod::containing(anchor, frequency, p.start).unwrap() == p);
                prop_assert!(BillingPeriod::containing(anchor, frequency, p.last_day()).unwrap() == p);
                previous_end = p.end;
            }
        }
    }
}
