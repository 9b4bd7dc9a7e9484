//! The billing center's home: one card per subscription, with the actions
//! the engine allows for its state.

use crate::domain::SubscriptionId;
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;

use crate::api::billing::{CancelSubscription, RemovePendingCancellation, overview};
use crate::api::types::{BillingOverview, SubscriptionCard};
use crate::billing::{Action, SubscriptionStatus};
use crate::i18n::fill;
use crate::ui::components::error::ErrorNotice;
use crate::ui::i18n::use_ui;
use crate::ui::pages::help::HelpFor;

#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    let remove = ServerAction::<RemovePendingCancellation>::new();
    let cancel = ServerAction::<CancelSubscription>::new();
    // Refetch when the dialog is closed after a change.
    let refresh = RwSignal::new(0u32);
    let data = resource(move || refresh.get(), |_| overview());
    let dialog: RwSignal<Option<SubscriptionCard>> = RwSignal::new(None);
    let cancel_dialog: RwSignal<Option<SubscriptionCard>> = RwSignal::new(None);
    // Without JavaScript the dialog is a state in the address
    // (`?confirm=ID`, then `?removed=ID`); read once, on the first render.
    let from_address = StoredValue::new(true);
    let t = use_ui();
    view! {
        <section class="page">
            // Focusable from script: where the focus goes when its target is gone.
            <h1 tabindex="-1">{t.subscriptions_title}</h1>
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(o) => view! { <Overview o dialog remove cancel_dialog cancel refresh from_address/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
            <HelpFor slug="reactivate"/>
        </section>
    }
}

#[component]
fn Overview(
    o: BillingOverview,
    dialog: RwSignal<Option<SubscriptionCard>>,
    remove: ServerAction<RemovePendingCancellation>,
    cancel_dialog: RwSignal<Option<SubscriptionCard>>,
    cancel: ServerAction<CancelSubscription>,
    refresh: RwSignal<u32>,
    from_address: StoredValue<bool>,
) -> impl IntoView {
    let t = use_ui();
    let query = leptos_router::hooks::use_query_map();
    let removed = query.with_untracked(|q| {
        q.get("removed")
            .and_then(|v| v.parse::<SubscriptionId>().ok())
    });
    let cancelled = query.with_untracked(|q| {
        q.get("cancelled")
            .and_then(|v| v.parse::<SubscriptionId>().ok())
    });
    if from_address.get_value() {
        from_address.set_value(false);
        let wanted = query.with_untracked(|q| {
            q.get("confirm")
                .and_then(|v| v.parse::<SubscriptionId>().ok())
        });
        if let Some(card) = wanted
            .or(removed)
            .and_then(|id| o.cards.iter().find(|c| c.id == id))
        {
            dialog.set(Some(card.clone()));
        }
        let cancelling = query.with_untracked(|q| {
            q.get("cancel")
                .and_then(|v| v.parse::<SubscriptionId>().ok())
        });
        if let Some(card) = cancelling
            .or(cancelled)
            .and_then(|id| o.cards.iter().find(|c| c.id == id))
        {
            cancel_dialog.set(Some(card.clone()));
        }
    }
    view! {
        <p class="muted">{o.account_name.clone()}</p>
        {o.corporate.then(|| {
            let rep = o.representative.clone();
            view! {
                <div class="notice" role="note" data-testid="corporate-notice">
                    <p>{t.corporate_notice} " " <a href="/help/corporate-why">{t.corporate_why}</a></p>
                    {rep.map(|r| {
                        let mail = format!("mailto:{}", r.email);
                        let tel = format!("tel:{}", r.phone.replace(' ', ""));
                        view! {
                            <p>{t.representative} " " <strong>{r.name.clone()}</strong> ", "
                                <a href=mail>{r.email.clone()}</a> ", " <a href=tel>{r.phone.clone()}</a></p>
                        }
                    })}
                    <div class="actions">
                        <a class="button" href="/billing/support">{t.contact_support}</a>
                        <a class="button secondary" href="/billing/portal">{t.corporate_portal}</a>
                    </div>
                </div>
            }
        })}
        {o.back_to.map(|(url, app)| view! {
            <p><a class="button secondary" href=url data-testid="back-to-app">{fill(t.back_to_app, &[("app", &app)])}</a></p>
        })}
        {(o.cart_count > 0).then(|| view! {
            <p><a href="/billing/cart">{fill(t.cart_holds, &[("n", &o.cart_count.to_string())])}</a></p>
        })}
        <div class="cards">
            {o.cards.into_iter().map(|c| view! { <Card c dialog cancel_dialog/> }).collect_view()}
        </div>
        {(!o.corporate).then(|| view! { <p><a href="/billing/cart">{t.add_a_product}</a></p> })}
        {move || dialog.get().map(|card| view! { <RemoveDialog card remove dialog refresh removed/> })}
        {move || cancel_dialog.get().map(|card| view! { <CancelDialog card cancel dialog=cancel_dialog refresh cancelled/> })}
    }
}

#[component]
fn Card(
    c: SubscriptionCard,
    dialog: RwSignal<Option<SubscriptionCard>>,
    cancel_dialog: RwSignal<Option<SubscriptionCard>>,
) -> impl IntoView {
    let plan = format!("/billing/plan/{}", c.id);
    let status_class = format!("badge status-{}", c.status.code());
    let pending = c.status == SubscriptionStatus::PendingCancellation;
    let card_for_dialog = c.clone();
    let t = use_ui();
    let seats = fill(t.seat_count, &[("n", &c.seats.to_string())]);
    view! {
        <article class="card" data-product=c.product.clone() data-status=c.status.code()>
            {pending.then(|| view! { <div class="banner" role="status">{t.pending_cancellation}</div> })}
            <header>
                <h2>{c.product_name.clone()}</h2>
                <span class=status_class>{c.status_label.clone()}</span>
            </header>
            <p>{format!("{} · {seats} · {}", c.level_name, c.frequency)}</p>
            <p class="muted" data-testid="dates">{c.dates.clone()}</p>
            {c.renewal.clone().map(|r| view! { <p data-testid="renewal">{r}</p> })}
            {c.scheduled_change.clone().map(|r| view! { <p class="scheduled" data-testid="scheduled-change">{r}</p> })}
            <div class="actions">
                {c.actions.iter().map(|a| match a {
                    Action::SubscribeNow => view! { <a class="button" href=plan.clone()>{t.subscribe_now}</a> }.into_any(),
                    Action::Reactivate => view! { <a class="button" href=plan.clone()>{t.reactivate}</a> }.into_any(),
                    Action::Modify => view! { <a class="button" href=plan.clone()>{t.modify}</a> }.into_any(),
                    Action::RemovePendingCancellation => {
                        let card = card_for_dialog.clone();
                        let id = card.id.to_string();
                        // A form for pages without JavaScript (the dialog
                        // comes back from the server); with it, it opens here.
                        view! {
                            <form method="get" action="/billing">
                                <input type="hidden" name="confirm" value=id/>
                                <button type="submit" id=format!("remove-{}", card.id)
                                    on:click=move |ev| { ev.prevent_default(); dialog.set(Some(card.clone())); }>
                                    {t.remove_pending_cancellation}
                                </button>
                            </form>
                        }.into_any()
                    }
                    Action::UpdatePaymentMethod => view! { <a class="button" href="/billing/payment">{t.update_payment_method}</a> }.into_any(),
                    Action::Cancel => {
                        let card = card_for_dialog.clone();
                        let id = card.id.to_string();
                        view! {
                            <form method="get" action="/billing">
                                <input type="hidden" name="cancel" value=id/>
                                <button type="submit" class="secondary destructive" id=format!("cancel-{}", card.id)
                                    on:click=move |ev| { ev.prevent_default(); cancel_dialog.set(Some(card.clone())); }>
                                    {t.cancel_subscription}
                                </button>
                            </form>
                        }.into_any()
                    }
                }).collect_view()}
            </div>
        </article>
    }
}

#[component]
fn RemoveDialog(
    card: SubscriptionCard,
    remove: ServerAction<RemovePendingCancellation>,
    dialog: RwSignal<Option<SubscriptionCard>>,
    refresh: RwSignal<u32>,
    removed: Option<SubscriptionId>,
) -> impl IntoView {
    let (id, version) = (card.id, card.version);
    let done = move || matches!(remove.value().get(), Some(Ok(()))) || removed == Some(id);
    let t = use_ui();
    let title = fill(t.dialog_title, &[("product", &card.product_name)]);
    let close_dialog = move |changed: bool| {
        remove.value().set(None);
        dialog.set(None);
        if changed {
            refresh.update(|n| *n += 1);
        }
        return_focus(format!("remove-{id}"));
    };
    let close = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        close_dialog(true);
    };
    // A modal dialog keeps the focus inside (Tab and Shift+Tab cycle over
    // its buttons) and closes with Escape.
    let container = NodeRef::<leptos::html::Div>::new();
    // Focus on its first button when it opens, and again when its content
    // changes to the confirmation (the button that had it is gone).
    Effect::new(move |_| {
        let _ = done();
        focus_first(container, "button");
    });
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            close_dialog(done());
        }
        "Tab" => {
            let Some(c) = container.get() else { return };
            let buttons = c.get_elements_by_tag_name("button");
            let (Some(first), Some(last)) = (
                buttons.item(0),
                buttons.item(buttons.length().saturating_sub(1)),
            ) else {
                return;
            };
            let active = document().active_element();
            let wrap_to = if ev.shift_key() && active.as_ref() == Some(&first) {
                Some(last)
            } else if !ev.shift_key() && active.as_ref() == Some(&last) {
                Some(first)
            } else {
                None
            };
            if let Some(el) =
                wrap_to.and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
            {
                ev.prevent_default();
                let _ = el.focus();
            }
        }
        _ => {}
    };
    view! {
        <div class="backdrop">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="remove-title" node_ref=container on:keydown=on_key>
                <h2 id="remove-title">{title}</h2>
                <Show
                    when=done
                    fallback=move || view! {
                        <p>{t.dialog_body}</p>
                        {move || remove.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
                        // Real forms, so that it also works without JavaScript.
                        <form class="actions" method="post" action="/api/remove_pending_cancellation"
                            on:submit=move |ev| { ev.prevent_default(); remove.dispatch(RemovePendingCancellation { id, version }); }>
                            <input type="hidden" name="id" value=id.to_string()/>
                            <input type="hidden" name="version" value=version.to_string()/>
                            <button type="submit" disabled=move || remove.pending().get()>
                                {t.yes_remove_cancellation}
                            </button>
                            <button type="submit" class="secondary" formmethod="get" formaction="/billing"
                                on:click=move |ev| { ev.prevent_default(); close_dialog(false); }>
                                {t.keep_cancellation}
                            </button>
                        </form>
                    }
                >
                    <p role="status">{t.cancellation_removed}</p>
                    <form method="get" action="/billing">
                        <button type="submit" on:click=close>{t.close}</button>
                    </form>
                </Show>
            </div>
        </div>
    }
}

/// Closing a dialog gives the focus back to the button that opened it
/// (`opener`), or to the page's heading when that button is gone (the card
/// changed).
fn return_focus(opener: String) {
    request_animation_frame(move || {
        let doc = document();
        let target = doc
            .get_element_by_id(&opener)
            .or_else(|| doc.query_selector("main h1").ok().flatten());
        if let Some(el) = target.and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    });
}

/// Focuses the dialog's first element matching `selector` once it is drawn.
fn focus_first(container: NodeRef<leptos::html::Div>, selector: &'static str) {
    request_animation_frame(move || {
        // The dialog may be gone by then (closed): nothing to focus.
        if let Some(first) = container
            .try_get_untracked()
            .flatten()
            .and_then(|c| c.query_selector(selector).ok().flatten())
            && let Ok(b) = first.dyn_into::<leptos::web_sys::HtmlElement>()
        {
            let _ = b.focus();
        }
    });
}

/// Cancel at the end of the term: the dialog states the last day of access
/// and the renewal that will not be charged; a real form, so that it works
/// without JavaScript too (`?cancel=ID`, then `?cancelled=ID`).
#[component]
fn CancelDialog(
    card: SubscriptionCard,
    cancel: ServerAction<CancelSubscription>,
    dialog: RwSignal<Option<SubscriptionCard>>,
    refresh: RwSignal<u32>,
    cancelled: Option<SubscriptionId>,
) -> impl IntoView {
    let (id, version) = (card.id, card.version);
    let done = move || matches!(cancel.value().get(), Some(Ok(()))) || cancelled == Some(id);
    let t = use_ui();
    let title = fill(t.cancel_dialog_title, &[("product", &card.product_name)]);
    let terms = card.cancel_terms.clone();
    let last_day = terms
        .as_ref()
        .map(|c| c.last_day.clone())
        .unwrap_or_default();
    let body = terms.map(|c| {
        fill(
            t.cancel_dialog_body,
            &[
                ("date", &c.last_day),
                ("amount", &c.amount),
                ("renewal", &c.renewal_date),
            ],
        )
    });
    let reason = RwSignal::new(String::new());
    let close_dialog = move |changed: bool| {
        cancel.value().set(None);
        dialog.set(None);
        if changed {
            refresh.update(|n| *n += 1);
        }
        return_focus(format!("cancel-{id}"));
    };
    let container = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let _ = done();
        focus_first(container, "textarea, button");
    });
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            close_dialog(done());
        }
    };
    view! {
        <div class="backdrop">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="cancel-title" node_ref=container on:keydown=on_key>
                <h2 id="cancel-title">{title}</h2>
                <Show
                    when=done
                    fallback=move || view! {
                        <p data-testid="cancel-terms">{body.clone()}</p>
                        {move || cancel.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
                        <form method="post" action="/api/cancel_subscription"
                            on:submit=move |ev| {
                                ev.prevent_default();
                                let r = reason.get_untracked();
                                cancel.dispatch(CancelSubscription { id, version, reason: (!r.trim().is_empty()).then_some(r) });
                            }>
                            <input type="hidden" name="id" value=id.to_string()/>
                            <input type="hidden" name="version" value=version.to_string()/>
                            <label for="cancel-reason">{t.cancel_reason}</label>
                            <textarea id="cancel-reason" name="reason" maxlength="500" rows="3"
                                on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                            <div class="actions">
                                <button type="submit" class="destructive" disabled=move || cancel.pending().get()>
                                    {t.confirm_cancellation}
                                </button>
                                <button type="submit" class="secondary" formmethod="get" formaction="/billing"
                                    on:click=move |ev| { ev.prevent_default(); close_dialog(false); }>
                                    {t.keep_subscription}
                                </button>
                            </div>
                        </form>
                    }
                >
                    <p role="status">{fill(t.cancellation_done, &[("date", &last_day)])}</p>
                    <form method="get" action="/billing">
                        <button type="submit" on:click=move |ev: leptos::ev::MouseEvent| { ev.prevent_default(); close_dialog(true); }>{t.close}</button>
                    </form>
                </Show>
            </div>
        </div>
    }
}
