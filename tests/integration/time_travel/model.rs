//! A model-based property test: random sequences of what a billing contact
//! and the clock can do to one subscription, over three years, run against
//! the product (through the same harness as the scenarios) and against a
//! small reference model of what should have been charged, written from
//! the billing rules without the engine. After every step the two must
//! agree on the subscription (status, plan, term, scheduled change) and on
//! every amount charged, and the suite's invariants must hold.

use chrono::{Duration, Months, NaiveDate};
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

use super::{Customer, World, change, reactivate, subscribe};
use crate::helpers::backends;
use billing_center::db::Backend;
use billing_center::server::clock::Clock;

const LEVELS: [&str; 3] = ["lite", "standard", "pro"];
const PRODUCT: &str = "webinar";
/// The French standard rate: the model's accounts are French businesses
/// without a VAT number.
const VAT: Decimal = Decimal::from_parts(20, 0, 0, false, 2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Plan {
    level: usize,
    seats: u32,
    annual: bool,
}

#[derive(Clone, Debug)]
enum Act {
    Subscribe(Plan),
    Change(Plan),
    Cancel,
    Undo,
    Reactivate(Plan),
    /// Saves a card: one that pays, or one that saves and then declines.
    Card {
        good: bool,
    },
    /// The clock moves without a billing run (the job is down).
    Days(u8),
    Run,
    /// A billing run stopped after `micros` (its future dropped at an await,
    /// as a killed process stops), then the job's next run.
    RunKilled(u16),
}

fn plan() -> impl Strategy<Value = Plan> {
    (0..LEVELS.len(), 1u32..=5, any::<bool>()).prop_map(|(level, seats, annual)| Plan {
        level,
        seats,
        annual,
    })
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        2 => plan().prop_map(Act::Subscribe),
        4 => plan().prop_map(Act::Change),
        1 => Just(Act::Cancel),
        2 => Just(Act::Undo),
        3 => plan().prop_map(Act::Reactivate),
        2 => prop_oneof![3 => Just(true), 1 => Just(false)].prop_map(|good| Act::Card { good }),
        8 => (1u8..=90).prop_map(Act::Days),
        3 => Just(Act::Run),
        1 => (0u16..3000).prop_map(Act::RunKilled),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Trial,
    TrialExpired,
    Active,
    Pending,
    PastDue,
    Expired,
}

impl Status {
    fn code(self) -> &'static str {
        match self {
            Status::Trial => "trial",
            Status::TrialExpired => "trial_expired",
            Status::Active => "active",
            Status::Pending => "pending_cancellation",
            Status::PastDue => "past_due",
            Status::Expired => "expired",
        }
    }
}

/// The reference model: one subscription and what it was charged.
#[derive(Clone, Debug)]
struct Model {
    prices: [[Decimal; 2]; 3],
    status: Status,
    plan: Plan,
    trial_ends: NaiveDate,
    /// Terms are [shift(anchor, k), shift(anchor, k + 1)).
    anchor: NaiveDate,
    k: u32,
    paid_unit: Decimal,
    paid_seats: u32,
    period_paid: Decimal,
    period_credited: Decimal,
    scheduled: Option<Plan>,
    /// Failed attempts for the due renewal, and when the next one is.
    dunning: Option<(usize, NaiveDate)>,
    card_good: bool,
    charges: Vec<i64>,
}

fn round(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn minor(x: Decimal) -> i64 {
    i64::try_from(
        (x * Decimal::from(100)).mantissa() / 10i128.pow((x * Decimal::from(100)).scale()),
    )
    .unwrap()
}

/// The gaps between retries after the 1st, 2nd and 3rd failure (+1, +3,
/// +7 days from the first); the 4th failure ends the subscription.
const RETRY_GAPS: [i64; 3] = [1, 2, 4];

impl Model {
    fn unit(&self, p: Plan) -> Decimal {
        self.prices[p.level][usize::from(p.annual)]
    }

    fn shift(&self, k: u32) -> NaiveDate {
        let months = if self.plan.annual { 12 * k } else { k };
        self.anchor.checked_add_months(Months::new(months)).unwrap()
    }

    fn term(&self) -> (NaiveDate, NaiveDate) {
        (self.shift(self.k), self.shift(self.k + 1))
    }

    fn has_term(&self) -> bool {
        matches!(
            self.status,
            Status::Active | Status::Pending | Status::PastDue
        )
    }

    /// Net + VAT, each rounded once (R10, R11).
    fn total(net: Decimal) -> Decimal {
        net + round(net * VAT)
    }

    fn charge(&mut self, total: Decimal) {
        if !total.is_zero() {
            self.charges.push(minor(total));
        }
    }

    /// A new term from `today` at `p` (subscribe, reactivate).
    fn start_term(&mut self, p: Plan, today: NaiveDate) {
        let net = round(self.unit(p) * Decimal::from(p.seats));
        self.charge(Self::total(net));
        self.status = Status::Active;
        self.plan = p;
        self.anchor = today;
        self.k = 0;
        self.paid_unit = self.unit(p);
        self.paid_seats = p.seats;
        self.period_paid = net;
        self.period_credited = Decimal::ZERO;
        self.scheduled = None;
        self.dunning = None;
    }

    /// Credit for the unused part of what was paid, capped at what is left.
    fn credit(&self, remaining: i64, days: i64) -> Decimal {
        let raw = self.paid_unit * Decimal::from(self.paid_seats) * Decimal::from(remaining)
            / Decimal::from(days);
        let cap = (self.period_paid - self.period_credited).max(Decimal::ZERO);
        round(raw.min(cap))
    }

    /// What happens to the plan change `p` today (R6, R7); `None` when
    /// there is nothing to send.
    fn change(&mut self, p: Plan, today: NaiveDate) -> Option<()> {
        let cur = self.plan;
        if p == cur {
            // The current plan again withdraws a scheduled change.
            return self.scheduled.take().map(|_| ());
        }
        let at = |level: usize| self.prices[level][usize::from(p.annual)];
        let lowers = p.seats < cur.seats || at(p.level) < at(cur.level);
        let (start, end) = self.term();
        let (remaining, days) = ((end - today).num_days().max(0), (end - start).num_days());
        let yearly = |plan: Plan| {
            self.unit(plan)
                * Decimal::from(plan.seats)
                * Decimal::from(if plan.annual { 1 } else { 12 })
        };
        if !cur.annual && p.annual && !lowers {
            let term = round(self.unit(p) * Decimal::from(p.seats));
            let credit = if remaining > 0 {
                self.credit(remaining, days)
            } else {
                Decimal::ZERO
            };
            self.charge(Self::total(term - credit));
            let scheduled = None;
            self.start_term_at(p, today, term, scheduled);
        } else if (cur.annual && !p.annual) || lowers || yearly(p) <= yearly(cur) {
            self.scheduled = Some(p);
        } else {
            if remaining > 0 {
                let prorated = round(
                    self.unit(p) * Decimal::from(p.seats) * Decimal::from(remaining)
                        / Decimal::from(days),
                );
                let credit = self.credit(remaining, days);
                assert!(prorated >= credit, "the model has no credit balance");
                self.charge(Self::total(prorated - credit));
                self.period_paid += prorated;
                self.period_credited += credit;
            }
            self.plan = p;
            self.paid_unit = self.unit(p);
            self.paid_seats = p.seats;
        }
        Some(())
    }

    /// A new annual term from a switch, already charged.
    fn start_term_at(&mut self, p: Plan, today: NaiveDate, term: Decimal, scheduled: Option<Plan>) {
        self.plan = p;
        self.anchor = today;
        self.k = 0;
        self.paid_unit = self.unit(p);
        self.paid_seats = p.seats;
        self.period_paid = term;
        self.period_credited = Decimal::ZERO;
        self.scheduled = scheduled;
    }

    /// The renewal after the current term, attempted on `today`.
    fn renew(&mut self, today: NaiveDate) {
        if !self.card_good {
            let failures = self.dunning.map_or(0, |(f, _)| f);
            match RETRY_GAPS.get(failures) {
                Some(gap) => {
                    self.status = Status::PastDue;
                    self.dunning = Some((failures + 1, today + Duration::days(*gap)));
                }
                None => {
                    self.status = Status::Expired;
                    self.dunning = None;
                }
            }
            return;
        }
        let next = self.scheduled.take().unwrap_or(self.plan);
        let (_, end) = self.term();
        if next.annual == self.plan.annual {
            self.k += 1;
        } else {
            self.anchor = end;
            self.k = 0;
        }
        self.plan = next;
        let net = round(self.unit(next) * Decimal::from(next.seats));
        self.charge(Self::total(net));
        self.status = Status::Active;
        self.paid_unit = self.unit(next);
        self.paid_seats = next.seats;
        self.period_paid = net;
        self.period_credited = Decimal::ZERO;
        self.dunning = None;
    }

    /// Whether the billing run has something to do on `today`.
    fn due(&self, today: NaiveDate) -> bool {
        match self.status {
            Status::Trial => self.trial_ends <= today,
            Status::Active | Status::Pending => self.term().1 <= today,
            Status::PastDue => self.dunning.is_some_and(|(_, on)| on <= today),
            Status::TrialExpired | Status::Expired => false,
        }
    }

    /// The billing run on `today`: every step due, until none is.
    fn run(&mut self, today: NaiveDate) {
        while self.due(today) {
            match self.status {
                Status::Trial => self.status = Status::TrialExpired,
                Status::Pending => self.status = Status::Expired,
                Status::Active | Status::PastDue => {
                    let failing = !self.card_good;
                    self.renew(today);
                    if failing {
                        // A failed attempt waits for its retry date.
                        break;
                    }
                }
                Status::TrialExpired | Status::Expired => break,
            }
        }
    }
}

fn plan_json(id: billing_center::domain::SubscriptionId, p: Plan, kind: &str) -> Value {
    let (level, freq) = (LEVELS[p.level], if p.annual { "annual" } else { "monthly" });
    match kind {
        "subscribe" => subscribe(id, PRODUCT, level, i64::from(p.seats), freq),
        "reactivate" => reactivate(id, level, i64::from(p.seats), freq),
        _ => change(id, level, i64::from(p.seats), freq),
    }
}

/// Runs `acts` against the product and the model; the number of steps run.
async fn run_sequence(backend: Backend, acts: &[Act]) -> usize {
    let mut w = World::new(backend, "2026-01-29T09:00:00Z").await;
    let c = w.customer("Model", "Europe/Paris", "tok_ok_4242").await;
    let trial_ends = w.today(c) + Duration::days(14);
    let id = w.trial(c, PRODUCT, "lite", trial_ends).await;
    let catalog = w.app.state().catalog.clone();
    let product = catalog.product(PRODUCT).unwrap();
    let price = |level: &str, f| product.online_price(level, f).unwrap().amount();
    use billing_center::billing::Frequency::{Annual, Monthly};
    let mut m = Model {
        prices: LEVELS.map(|l| [price(l, Monthly), price(l, Annual)]),
        status: Status::Trial,
        plan: Plan {
            level: 0,
            seats: 1,
            annual: false,
        },
        trial_ends,
        anchor: trial_ends,
        k: 0,
        paid_unit: Decimal::ZERO,
        paid_seats: 0,
        period_paid: Decimal::ZERO,
        period_credited: Decimal::ZERO,
        scheduled: None,
        dunning: None,
        card_good: true,
        charges: Vec::new(),
    };
    let mut steps = 0;
    for act in acts {
        let today = w.today(c);
        // The job runs every few minutes: a customer meets a subscription
        // whose due step is done.
        let customer_act = !matches!(act, Act::Days(_) | Act::Run | Act::RunKilled(_));
        if customer_act && m.due(today) {
            billing_run(&mut w, &mut m, c, None).await;
        }
        let today = w.today(c);
        match *act {
            Act::Subscribe(p) | Act::Reactivate(p) => {
                let (wanted, kind) = match act {
                    Act::Subscribe(_) => (
                        matches!(m.status, Status::Trial | Status::TrialExpired),
                        "subscribe",
                    ),
                    _ => (m.status == Status::Expired, "reactivate"),
                };
                if !wanted {
                    continue;
                }
                let result = w.order(c, plan_json(id, p, kind)).await;
                match m.card_good {
                    true => {
                        result.unwrap_or_else(|e| panic!("{act:?}: {e}"));
                        m.start_term(p, today);
                    }
                    false => assert!(result.unwrap_err().contains("declined"), "{act:?}"),
                }
            }
            Act::Change(p) => {
                if m.status != Status::Active {
                    continue;
                }
                let mut after = m.clone();
                if after.change(p, today).is_none() {
                    continue;
                }
                let charges = after.charges.len() > m.charges.len();
                let result = w.order(c, plan_json(id, p, "change")).await;
                match (charges, m.card_good) {
                    (true, false) => assert!(result.unwrap_err().contains("declined"), "{act:?}"),
                    _ => {
                        result.unwrap_or_else(|e| panic!("{act:?} from {m:?}: {e}"));
                        m = after;
                    }
                }
            }
            Act::Cancel => {
                if m.status != Status::Active {
                    continue;
                }
                let (status, body) = w.at_version(c, id, "cancel_subscription", &[]).await;
                assert_eq!(status, 200, "{body}");
                m.status = Status::Pending;
            }
            Act::Undo => {
                if m.status != Status::Pending {
                    continue;
                }
                let (status, body) = w
                    .at_version(c, id, "remove_pending_cancellation", &[])
                    .await;
                assert_eq!(status, 200, "{body}");
                m.status = Status::Active;
            }
            Act::Card { good } => {
                let number = if good {
                    "4242 4242 4242 4242"
                } else {
                    "4000 0000 0000 0341"
                };
                w.call(c, "start_payment_setup", &[("kind", "card")]).await;
                let token = crate::helpers::demo_card_token(number, "12/40");
                let (status, body) = w
                    .call(c, "finish_payment_setup", &[("setup_id", &token)])
                    .await;
                assert_eq!(status, 200, "{body}");
                m.card_good = good;
                // A past-due renewal is attempted at once with the new card.
                if m.status == Status::PastDue {
                    m.renew(today);
                }
            }
            Act::Days(n) => {
                w.skip_days(i64::from(n));
                w.check().await;
            }
            Act::Run => billing_run(&mut w, &mut m, c, None).await,
            Act::RunKilled(micros) => billing_run(&mut w, &mut m, c, Some(micros)).await,
        }
        steps += 1;
        agree(&w, &m, c, act).await;
    }
    // Every sequence spans three years: the clock goes on to the end of
    // the third, and the job runs.
    let end = trial_ends - Duration::days(14) + Duration::days(3 * 365 + 1);
    if w.today(c) < end {
        w.skip_days((end - w.today(c)).num_days());
        billing_run(&mut w, &mut m, c, None).await;
        steps += 1;
        agree(&w, &m, c, &Act::Run).await;
    }
    if std::env::var("BC_MODEL_TRACE").is_ok() {
        println!(
            "{} charges, ends {:?}, {} days",
            m.charges.len(),
            m.status,
            (w.today(c) - trial_ends).num_days()
        );
    }
    steps
}

/// The job's run at the clock's now, after one stopped part-way when
/// `killed_after` is given.
async fn billing_run(w: &mut World, m: &mut Model, c: Customer, killed_after: Option<u16>) {
    use billing_center::server::billing_run::{AsOf, run};
    let state = w.app.state();
    if let Some(micros) = killed_after {
        let stopped = std::time::Duration::from_micros(u64::from(micros));
        let _ = tokio::time::timeout(stopped, run(&state, AsOf::Now)).await;
    }
    w.step = format!("billing run at {}", w.clock.now());
    run(&state, AsOf::Now).await.unwrap();
    w.check().await;
    m.run(w.today(c));
}

/// The product and the model agree on the subscription and the charges.
async fn agree(w: &World, m: &Model, c: Customer, act: &Act) {
    let s = w.sub(c, PRODUCT).await;
    let ctx = format!("after {act:?} on {}: model {m:?}", w.today(c));
    assert_eq!(s.status.code(), m.status.code(), "{ctx}");
    let mut charged: Vec<i64> = w
        .app
        .state()
        .gateway
        .settled()
        .await
        .unwrap()
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    let mut expected = m.charges.clone();
    charged.sort_unstable();
    expected.sort_unstable();
    assert_eq!(charged, expected, "charges, {ctx}");
    if m.has_term() {
        let p = m.plan;
        let freq = if p.annual { "annual" } else { "monthly" };
        assert_eq!(
            (s.level.as_str(), s.seats, s.frequency.code()),
            (LEVELS[p.level], p.seats, freq),
            "{ctx}"
        );
        let (start, end) = m.term();
        assert_eq!(s.period.map(|p| p.end), Some(end), "{ctx}");
        if m.status != Status::PastDue {
            assert_eq!(s.period.map(|p| p.start), Some(start), "{ctx}");
        }
        let scheduled = m.scheduled.map(|p| {
            (
                LEVELS[p.level].to_string(),
                p.seats,
                if p.annual { "annual" } else { "monthly" }.to_string(),
            )
        });
        let stored = s
            .scheduled
            .as_ref()
            .map(|c| (c.level.clone(), c.seats, c.frequency.code().to_string()));
        assert_eq!(stored, scheduled, "scheduled change, {ctx}");
    }
}

/// Sequences per backend: `BC_MODEL_CASES` (default 48 on SQLite, a
/// quarter of that on PostgreSQL).
fn cases(backend: Backend) -> u32 {
    let n: u32 = std::env::var("BC_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    match backend {
        Backend::Sqlite => n,
        Backend::Postgres => (n / 4).max(2),
    }
}

#[test]
fn random_sequences_over_three_years_charge_what_the_model_charges() {
    for backend in backends() {
        let steps = std::sync::atomic::AtomicUsize::new(0);
        let sequences = std::sync::atomic::AtomicUsize::new(0);
        let config = ProptestConfig {
            cases: cases(backend),
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        proptest!(config, |(acts in proptest::collection::vec(act(), 60..100))| {
            // A runtime per sequence: dropping it stops that sequence's
            // server and closes its connections.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap();
            let n = rt.block_on(run_sequence(backend, &acts));
            steps.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            sequences.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        println!(
            "model-based test on {backend:?}: {} sequences, {} steps",
            sequences.into_inner(),
            steps.into_inner()
        );
    }
}
