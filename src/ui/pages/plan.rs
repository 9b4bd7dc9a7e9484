//! The plan editor: level, seats and billing frequency, with a live order
//! summary at the bottom recomputed in the browser by the shared engine on
//! every change (no server round trip).

use crate::domain::SubscriptionId;
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::api::billing::{put_cart_item, quote_context};
use crate::api::types::EditorContext;
use crate::billing::{CartItem, Frequency, PlanChoice, SubscriptionStatus, quote};
use crate::error::AppError;
use crate::i18n::fill;
use crate::ui::components::error::{ErrorNotice, error_text};
use crate::ui::components::summary::OrderSummary;
use crate::ui::i18n::{use_lang, use_ui};
use crate::ui::pages::help::HelpFor;

#[component]
pub fn PlanPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let ctx = resource(|| (), |_| quote_context());
    let t = use_ui();
    view! {
        <section class="page">
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    let target = params.with(|p| p.get("id")).unwrap_or_default();
                    let product = query.with(|q| q.get("product"));
                    // JavaScript off, "Update summary" sends the choice here.
                    let asked = query.with(|q| Asked {
                        level: q.get("level"),
                        seats: q.get("seats").and_then(|s| s.trim().parse().ok()),
                        frequency: match q.get("frequency").as_deref() {
                            Some("annual") => Some(Frequency::Annual),
                            Some("monthly") => Some(Frequency::Monthly),
                            _ => None,
                        },
                    });
                    match ctx.await {
                        Ok(ctx) => view! { <Editor ctx target product asked/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
            <HelpFor slug="modify-subscription"/>
        </section>
    }
}

/// A choice carried in the address (the no-JavaScript "Update summary").
#[derive(Clone, Default)]
struct Asked {
    level: Option<String>,
    seats: Option<i64>,
    frequency: Option<Frequency>,
}

/// Which cart item the editor builds, from the subscription's state.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    Subscribe(Option<SubscriptionId>),
    Reactivate(SubscriptionId),
    Change(SubscriptionId),
}

#[component]
fn Editor(
    ctx: EditorContext,
    target: String,
    product: Option<String>,
    asked: Asked,
) -> impl IntoView {
    let sub = target
        .parse::<SubscriptionId>()
        .ok()
        .and_then(|id| ctx.subscriptions.iter().find(|s| s.id == id).cloned());
    let (kind, product_code) = match (&sub, product) {
        (Some(s), _) => (
            match s.status {
                SubscriptionStatus::Trial | SubscriptionStatus::TrialExpired => {
                    Target::Subscribe(Some(s.id))
                }
                SubscriptionStatus::Expired => Target::Reactivate(s.id),
                _ => Target::Change(s.id),
            },
            s.product.clone(),
        ),
        (None, Some(p)) => (Target::Subscribe(None), p),
        (None, None) => return view! { <ErrorNotice error=AppError::NotFound/> }.into_any(),
    };
    let Ok(product) = ctx.catalog.product(&product_code).cloned() else {
        return view! { <ErrorNotice error=AppError::NotFound/> }.into_any();
    };
    // Editing an item already in the cart starts from the cart's choice.
    let in_cart = ctx.cart.iter().find_map(|i| match (i, kind) {
        (
            CartItem::Subscribe {
                subscription_id,
                product,
                plan,
            },
            Target::Subscribe(id),
        ) if *subscription_id == id && *product == product_code => Some(plan.clone()),
        (
            CartItem::Reactivate {
                subscription_id,
                plan,
            },
            Target::Reactivate(id),
        )
        | (
            CartItem::Change {
                subscription_id,
                plan,
            },
            Target::Change(id),
        ) if *subscription_id == id => Some(plan.clone()),
        _ => None,
    });
    let first_online = product
        .online_levels()
        .next()
        .map(|l| l.code.clone())
        .unwrap_or_default();
    let start_level = asked
        .level
        .clone()
        .or_else(|| in_cart.as_ref().map(|p| p.level.clone()))
        .or_else(|| sub.as_ref().map(|s| s.level.clone()))
        .filter(|l| product.level(l).is_ok_and(|l| l.online))
        .unwrap_or(first_online);
    let level = RwSignal::new(start_level);
    let seats = RwSignal::new(
        asked
            .seats
            .or_else(|| in_cart.as_ref().map(|p| p.seats))
            .or(sub.as_ref().map(|s| i64::from(s.seats)))
            .unwrap_or(1),
    );
    let frequency = RwSignal::new(
        asked
            .frequency
            .or_else(|| in_cart.as_ref().map(|p| p.frequency))
            .or(sub.as_ref().map(|s| s.frequency))
            .unwrap_or(Frequency::Monthly),
    );
    let (min, max) = (i64::from(product.min_seats), i64::from(product.max_seats));

    let item = move || {
        let plan = PlanChoice {
            level: level.get(),
            seats: seats.get(),
            frequency: frequency.get(),
        };
        match kind {
            Target::Subscribe(id) => CartItem::Subscribe {
                subscription_id: id,
                product: product_code.clone(),
                plan,
            },
            Target::Reactivate(id) => CartItem::Reactivate {
                subscription_id: id,
                plan,
            },
            Target::Change(id) => CartItem::Change {
                subscription_id: id,
                plan,
            },
        }
    };
    let item = Memo::new(move |_| item());
    let ctx = StoredValue::new(ctx);
    let preview = Memo::new(move |_| {
        ctx.with_value(|c| {
            quote(
                &c.catalog,
                &c.account,
                &c.subscriptions,
                &[item.get()],
                c.today,
            )
        })
    });
    // "Place order" with an empty cart (or one holding only this product),
    // "Add to cart" otherwise.
    let product_for_cart = product.code.clone();
    let cart_has_others = ctx.with_value(|c| {
        c.cart.iter().any(|i| match i {
            CartItem::Subscribe { product, .. } => *product != product_for_cart,
            other => other.subscription_id() != sub.as_ref().map(|s| s.id),
        })
    });
    let navigate = use_navigate();
    let added = format!("/billing/cart?added={}", product.code);
    let save = Action::new(move |item: &CartItem| {
        let item = item.clone();
        async move { put_cart_item(item, !cart_has_others).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            navigate(
                if cart_has_others {
                    &added
                } else {
                    "/billing/checkout"
                },
                Default::default(),
            );
        }
    });
    let (lang, t) = (use_lang(), use_ui());
    let (target_kind, target_id) = match kind {
        Target::Subscribe(id) => ("subscribe", id),
        Target::Reactivate(id) => ("reactivate", Some(id)),
        Target::Change(id) => ("change", Some(id)),
    };
    let here = leptos_router::hooks::use_location()
        .pathname
        .get_untracked();
    let title = fill(
        match kind {
            Target::Subscribe(_) => t.subscribe_to,
            Target::Reactivate(_) => t.reactivate_product,
            Target::Change(_) => t.modify_product,
        },
        &[("product", &product.name)],
    );
    let saving = |p: &crate::billing::Product, code: &str| -> Option<String> {
        let m = p.online_price(code, Frequency::Monthly).ok()?;
        let a = p.online_price(code, Frequency::Annual).ok()?;
        let year = m.amount() * rust_decimal::Decimal::from(12);
        let pct = ((year - a.amount()) * rust_decimal::Decimal::from(100) / year).round();
        (pct > rust_decimal::Decimal::ZERO).then(|| fill(t.save_pct, &[("pct", &pct.to_string())]))
    };
    let annual_saving = {
        let product = product.clone();
        move || saving(&product, &level.get())
    };
    view! {
        <h1>{title}</h1>
        // A real form: with JavaScript the submit stays in the page; without,
        // it posts to put_plan, and "Update summary" reloads with the choice.
        <form class="editor" method="post" action="/api/put_plan"
            on:submit=move |ev| { ev.prevent_default(); save.dispatch(item.get_untracked()); }>
            <input type="hidden" name="target" value=target_kind/>
            {target_id.map(|id| view! { <input type="hidden" name="subscription_id" value=id.to_string()/> })}
            <input type="hidden" name="product" value=product.code.clone()/>
            <input type="hidden" name="replace" value=(!cart_has_others).to_string()/>
            <fieldset>
                <legend>{t.level}</legend>
                {product.levels.iter().map(|l| {
                    if l.online {
                        let code = l.code.clone();
                        let code2 = l.code.clone();
                        let price = l.monthly.map(|m| fill(t.per_seat_per_month, &[("price", &lang.money(m))])).unwrap_or_default();
                        view! {
                            <label class="choice">
                                <input type="radio" name="level" value=code.clone()
                                    // The attribute for the server's HTML, the property after.
                                    checked=code == level.get_untracked()
                                    prop:checked=move || level.get() == code
                                    on:change=move |_| level.set(code2.clone())/>
                                {l.name.clone()} <span class="muted">{price}</span>
                            </label>
                        }.into_any()
                    } else {
                        let sales = format!("mailto:{}", crate::ui::site::use_site().sales_email);
                        view! { <p class="choice muted">{l.name.clone()} ": " <a href=sales>{t.contact_sales}</a></p> }.into_any()
                    }
                }).collect_view()}
            </fieldset>
            <fieldset>
                <legend>{t.seats}</legend>
                <div class="stepper">
                    <button type="button" class="secondary" aria-label=t.fewer_seats
                        disabled=move || { seats.get() <= min }
                        on:click=move |_| seats.update(|s| *s = (*s - 1).max(min))>"−"</button>
                    <label for="seats" class="sr-only">{t.seats}</label>
                    <input id="seats" name="seats" type="number" inputmode="numeric" min=min max=max
                        value=seats.get_untracked().to_string()
                        prop:value=move || seats.get().to_string()
                        on:input=move |ev| {
                            // An empty or non-numeric field shows the engine's message.
                            seats.set(event_target_value(&ev).trim().parse().unwrap_or(0));
                        }/>
                    <button type="button" class="secondary" aria-label=t.more_seats
                        disabled=move || { seats.get() >= max }
                        on:click=move |_| seats.update(|s| *s = (*s + 1).min(max))>"+"</button>
                </div>
                <p class="muted">{fill(t.seats_range, &[("min", &min.to_string()), ("max", &max.to_string())])}</p>
            </fieldset>
            <fieldset>
                <legend>{t.billing_frequency}</legend>
                <label class="choice">
                    <input type="radio" name="frequency" value="monthly"
                        checked=frequency.get_untracked() == Frequency::Monthly
                        prop:checked=move || frequency.get() == Frequency::Monthly
                        on:change=move |_| frequency.set(Frequency::Monthly)/>
                    {t.monthly}
                </label>
                <label class="choice">
                    <input type="radio" name="frequency" value="annual"
                        checked=frequency.get_untracked() == Frequency::Annual
                        prop:checked=move || frequency.get() == Frequency::Annual
                        on:change=move |_| frequency.set(Frequency::Annual)/>
                    {t.annual} {move || annual_saving().map(|s| view! { <span class="saving">{s}</span> })}
                </label>
            </fieldset>
            {move || match preview.get() {
                Ok(q) => view! { <OrderSummary quote=q/> }.into_any(),
                Err(e) => view! { <p class="error" role="alert" data-testid="editor-error">{error_text(&e.into())}</p> }.into_any(),
            }}
            {move || save.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
            <div class="actions sticky">
                <button type="submit" class="secondary nojs-only" formmethod="get" formaction=here>{t.update_summary}</button>
                <button type="submit" disabled=move || preview.get().is_err() || save.pending().get()>
                    {if cart_has_others { t.add_to_cart } else { t.place_order }}
                </button>
                <a href="/billing" class="button secondary">{t.back_to_subscriptions}</a>
            </div>
        </form>
    }
    .into_any()
}
