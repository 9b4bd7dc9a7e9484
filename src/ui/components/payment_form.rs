//! Adding a payment method: the card or IBAN goes from this page to the
//! payment provider (Stripe.js, or the demo's built-in provider, which
//! turns it into a token here), and only the provider's answer reaches
//! billing-center. Without JavaScript this cannot work, and the page says
//! so instead of showing a form that would post a card number.

use leptos::prelude::*;

use crate::api::billing::{finish_payment_setup, start_payment_setup};
use crate::api::types::{PaymentMethodView, PaymentSetupView};
use crate::domain::payment::{DemoToken, parse_card};
use crate::domain::{CardNumber, Iban};
use crate::error::AppError;
use crate::ui::components::error::ErrorNotice;
use crate::ui::i18n::{use_lang, use_ui};
use crate::ui::stripe_js::{self, Mounted};

/// True once the page runs its script (never in the server's HTML, so the
/// no-JavaScript page and the hydrated one start alike).
pub fn scripted() -> RwSignal<bool> {
    let on = RwSignal::new(false);
    Effect::new(move |_| on.set(true));
    on
}

/// What the customer typed, kept in the page only: none of these inputs
/// has a `name`, so no form can post them.
#[derive(Clone, Copy)]
pub struct Entry {
    pub number: RwSignal<String>,
    pub expiry: RwSignal<String>,
    pub cvc: RwSignal<String>,
    pub iban: RwSignal<String>,
    pub accepted: RwSignal<bool>,
}

impl Entry {
    pub fn new() -> Entry {
        Entry {
            number: RwSignal::new(String::new()),
            expiry: RwSignal::new(String::new()),
            cvc: RwSignal::new(String::new()),
            iban: RwSignal::new(String::new()),
            accepted: RwSignal::new(false),
        }
    }
}

impl Default for Entry {
    fn default() -> Self {
        Entry::new()
    }
}

/// (year, month) today, for a card's expiry.
fn this_month() -> (i32, u32) {
    #[cfg(feature = "hydrate")]
    {
        let d = js_sys::Date::new_0();
        (d.get_full_year() as i32, d.get_month() + 1)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        use chrono::Datelike;
        let d = chrono::Utc::now().date_naive();
        (d.year(), d.month())
    }
}

/// Hands the entry to the provider of `setup`; the setup id the server
/// then reads back (Stripe: the confirmed SetupIntent; the demo: its
/// token). Nothing of the card leaves the page but to the provider.
pub async fn confirm(
    setup: &PaymentSetupView,
    mounted: Option<Mounted>,
    entry: Entry,
    (sepa, lang): (bool, crate::i18n::Lang),
) -> Result<String, AppError> {
    let invalid = |e: String| AppError::Invalid(crate::i18n::errors::sentence(lang, &e));
    let iban = sepa
        .then(|| Iban::parse(&entry.iban.get_untracked()).map_err(invalid))
        .transpose()?;
    if sepa && !entry.accepted.get_untracked() {
        return Err(AppError::Invalid(
            "Accept the SEPA Direct Debit mandate to save this account.".into(),
        ));
    }
    match (setup.provider.as_str(), iban) {
        ("stripe", iban) => {
            let m = mounted.ok_or_else(|| {
                AppError::Payment("The payment provider's form is not ready yet.".into())
            })?;
            let done = match iban {
                Some(iban) => {
                    let details = (iban.as_str(), setup.holder.as_str(), setup.email.as_str());
                    stripe_js::confirm_sepa_setup(&m, &setup.client_secret, details).await
                }
                None => stripe_js::confirm_card_setup(&m, &setup.client_secret).await,
            };
            done.map_err(AppError::Payment)?;
            Ok(setup.setup_id.clone())
        }
        (_, Some(iban)) => Ok(DemoToken::for_iban(&iban)),
        (_, None) => {
            let (card, expiry) = parse_card(
                &entry.number.get_untracked(),
                &entry.expiry.get_untracked(),
                &entry.cvc.get_untracked(),
                this_month(),
            )
            .map_err(invalid)?;
            Ok(DemoToken::for_card(&card, expiry))
        }
    }
}

/// A form's setup, its Stripe.js objects once mounted, and its error.
pub type Setups = (
    RwSignal<Option<PaymentSetupView>>,
    StoredValue<Option<Mounted>, LocalStorage>,
    RwSignal<Option<AppError>>,
);

/// Starts a setup of the kind chosen, loading Stripe.js when it is the
/// provider; the card Element is mounted once its place is in the page.
pub fn setups(sepa: RwSignal<bool>, element_id: String) -> Setups {
    let setup = RwSignal::new(None::<PaymentSetupView>);
    let mounted = StoredValue::new_local(None::<Mounted>);
    let error = RwSignal::new(None::<AppError>);
    Effect::new(move |_| {
        let kind = if sepa.get() { "sepa" } else { "card" };
        setup.set(None);
        mounted.set_value(None);
        let element_id = element_id.clone();
        leptos::task::spawn_local(async move {
            match start_payment_setup(kind.into()).await {
                Ok(s) => {
                    if let (Some(js), Some(key)) = (&s.js_url, &s.publishable_key) {
                        if let Err(e) = stripe_js::load(js).await {
                            error.set(Some(AppError::Payment(e)));
                            return;
                        }
                        let key = key.clone();
                        setup.set(Some(s));
                        // The Element's place exists once this render is done.
                        leptos::task::spawn_local(async move {
                            let selector = format!("#{element_id}");
                            let on = (kind == "card").then_some(selector.as_str());
                            match stripe_js::mount(&key, on) {
                                Ok(m) => mounted.set_value(Some(m)),
                                Err(e) => error.set(Some(AppError::Payment(e))),
                            }
                        });
                    } else {
                        setup.set(Some(s));
                    }
                }
                Err(e) => error.set(Some(e)),
            }
        });
    });
    (setup, mounted, error)
}

/// The card or IBAN fields of `setup`'s provider.
#[component]
pub fn EntryFields(
    setup: RwSignal<Option<PaymentSetupView>>,
    entry: Entry,
    sepa: RwSignal<bool>,
    /// Ids are prefixed, so several forms can share a page.
    prefix: String,
) -> impl IntoView {
    let t = use_ui();
    let lang = use_lang();
    // Which fields: re-rendered only when this changes, not at every
    // keystroke nor when the same provider's setup is replaced.
    let mode = Memo::new(move |_| {
        let stripe = setup.with(|s| s.as_ref().is_some_and(|s| s.provider == "stripe"));
        (sepa.get(), stripe)
    });
    let card_error = move || {
        let n = entry.number.get();
        (n.chars().filter(char::is_ascii_digit).count() >= 12)
            .then(|| CardNumber::parse(&n).err())
            .flatten()
            .map(|e| crate::i18n::errors::sentence(lang, &e))
    };
    let iban_error = move || {
        let text = entry.iban.get();
        (text.trim().len() >= 15)
            .then(|| Iban::parse(&text).err())
            .flatten()
            .map(|e| crate::i18n::errors::sentence(lang, &e))
    };
    let id = StoredValue::new(prefix);
    let id = move |what: &str| format!("{}-{what}", id.get_value());
    move || {
        match mode.get() {
        (true, _) => view! {
            <label for=id("iban")>{t.iban}</label>
            <input id=id("iban") required aria-describedby=id("iban-error")
                prop:value=move || entry.iban.get()
                on:input=move |ev| entry.iban.set(event_target_value(&ev))/>
            <p id=id("iban-error") class="error" aria-live="polite">{move || iban_error()}</p>
            <p class="mandate" data-testid="sepa-mandate">{move || setup.get().map(|s| s.mandate)}</p>
            <label class="choice">
                <input type="checkbox" required prop:checked=move || entry.accepted.get()
                    on:change=move |ev| entry.accepted.set(event_target_checked(&ev))/>
                {t.accept_mandate}
            </label>
        }
        .into_any(),
        (false, true) => view! {
            <p class="label">{t.card_details}</p>
            <div id=id("element") class="card-element" data-testid="card-element"></div>
        }
        .into_any(),
        (false, false) => view! {
            <label for=id("number")>{t.card_number}</label>
            <input id=id("number") inputmode="numeric" autocomplete="cc-number" required
                aria-describedby=id("number-error")
                prop:value=move || entry.number.get()
                on:input=move |ev| entry.number.set(event_target_value(&ev))/>
            <p id=id("number-error") class="error" aria-live="polite">{move || card_error()}</p>
            <label for=id("expiry")>{t.expiry}</label>
            <input id=id("expiry") autocomplete="cc-exp" placeholder=t.expiry_placeholder required
                prop:value=move || entry.expiry.get()
                on:input=move |ev| entry.expiry.set(event_target_value(&ev))/>
            <label for=id("cvc")>{t.cvc}</label>
            <input id=id("cvc") inputmode="numeric" autocomplete="cc-csc" required maxlength="4"
                prop:value=move || entry.cvc.get()
                on:input=move |ev| entry.cvc.set(event_target_value(&ev))/>
        }
        .into_any(),
    }
    }
}

#[component]
pub fn PaymentForm(
    method: RwSignal<Option<PaymentMethodView>>,
    changing: RwSignal<bool>,
) -> impl IntoView {
    let t = use_ui();
    let on = scripted();
    view! {
        <div class="payment-form">
            <Show
                when=move || on.get()
                fallback=move || view! { <p class="notice" data-testid="needs-javascript">{t.needs_javascript}</p> }
            >
                <AddPaymentMethod method changing/>
            </Show>
        </div>
    }
}

#[component]
fn AddPaymentMethod(
    method: RwSignal<Option<PaymentMethodView>>,
    changing: RwSignal<bool>,
) -> impl IntoView {
    let t = use_ui();
    let sepa = RwSignal::new(false);
    let saved = move |setup_id: String, is_sepa: bool| async move {
        let mandate = is_sepa.then(|| "accepted".to_string());
        let m = finish_payment_setup(setup_id, mandate).await?;
        method.set(Some(m));
        changing.set(false);
        Ok(())
    };
    view! {
        <label class="choice">
            <input type="checkbox" prop:checked=move || sepa.get() on:change=move |ev| sepa.set(event_target_checked(&ev))/>
            {t.pay_by_sepa}
        </label>
        <SetupForm sepa prefix="pm".to_string() then=saved
            label=Signal::derive(move || if sepa.get() { t.save.to_string() } else { t.save_card.to_string() })/>
    }
}

/// The entry fields of a new setup and their submit button: the entry goes
/// to the provider, then `then` gets the setup id and whether it is SEPA.
/// When `then` fails the setup is started again, since a declined one
/// cannot be confirmed twice.
#[component]
pub fn SetupForm<F, Fut>(
    sepa: RwSignal<bool>,
    /// Ids are prefixed, so several forms can share a page.
    prefix: String,
    label: Signal<String>,
    then: F,
    /// Also disables the button (e.g. while the caller's action runs).
    #[prop(optional, into)]
    pending: Signal<bool>,
) -> impl IntoView
where
    F: Fn(String, bool) -> Fut + Copy + 'static,
    Fut: std::future::Future<Output = Result<(), AppError>> + 'static,
{
    let lang = use_lang();
    let entry = Entry::new();
    let (setup, mounted, error) = setups(sepa, format!("{prefix}-element"));
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(s) = setup.get_untracked() else {
            return;
        };
        busy.set(true);
        error.set(None);
        let is_sepa = sepa.get_untracked();
        leptos::task::spawn_local(async move {
            let done = match confirm(&s, mounted.get_value(), entry, (is_sepa, lang)).await {
                Ok(setup_id) => then(setup_id, is_sepa).await,
                Err(e) => Err(e),
            };
            busy.set(false);
            if let Err(e) = done {
                error.set(Some(e));
                sepa.set(is_sepa);
            }
        });
    };
    view! {
        <form on:submit=submit>
            <EntryFields setup entry sepa prefix/>
            <button type="submit" disabled=move || busy.get() || pending.get() || setup.get().is_none()>
                {move || label.get()}
            </button>
        </form>
        {move || error.get().map(|e| view! { <ErrorNotice error=e/> })}
    }
}
