//! The billing center's home: one card per subscription, with the actions
//! the engine allows for its state.

use leptos::prelude::*;

use crate::api::billing::{RemovePendingCancellation, overview};
use crate::api::types::{BillingOverview, SubscriptionCard};
use crate::billing::{Action, SubscriptionStatus};
use crate::ui::components::error::ErrorNotice;

#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    let remove = ServerAction::<RemovePendingCancellation>::new();
    // Refetch when the dialog is closed after a change.
    let refresh = RwSignal::new(0u32);
    let data = Resource::new(move || refresh.get(), |_| overview());
    let dialog: RwSignal<Option<SubscriptionCard>> = RwSignal::new(None);
    view! {
        <section class="page">
            <h1>"Subscriptions"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(o) => view! { <Overview o dialog/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
            {move || dialog.get().map(|card| view! { <RemoveDialog card remove dialog refresh/> })}
        </section>
    }
}

#[component]
fn Overview(o: BillingOverview, dialog: RwSignal<Option<SubscriptionCard>>) -> impl IntoView {
    view! {
        <p class="muted">{o.account_name.clone()}</p>
        {o.corporate.then(|| {
            let rep = o.representative.clone();
            view! {
                <div class="notice" role="note" data-testid="corporate-notice">
                    <p>"Your account is a Corporate account: changes are made with your dedicated representative."</p>
                    {rep.map(|r| {
                        let mail = format!("mailto:{}", r.email);
                        let tel = format!("tel:{}", r.phone.replace(' ', ""));
                        view! {
                            <p>"Your representative: " <strong>{r.name.clone()}</strong> ", "
                                <a href=mail>{r.email.clone()}</a> ", " <a href=tel>{r.phone.clone()}</a></p>
                        }
                    })}
                    <div class="actions">
                        <a class="button" href="/billing/support">"Contact support"</a>
                        <a class="button secondary" href="/billing/portal">"Corporate billing portal"</a>
                    </div>
                </div>
            }
        })}
        {(o.cart_count > 0).then(|| view! {
            <p><a href="/billing/cart">{format!("Your cart holds {} item(s)", o.cart_count)}</a></p>
        })}
        <div class="cards">
            {o.cards.into_iter().map(|c| view! { <Card c dialog/> }).collect_view()}
        </div>
        <p><a href="/billing/cart">"Add a product"</a></p>
    }
}

#[component]
fn Card(c: SubscriptionCard, dialog: RwSignal<Option<SubscriptionCard>>) -> impl IntoView {
    let plan = format!("/billing/plan/{}", c.id);
    let status_class = format!("badge status-{}", c.status.code());
    let pending = c.status == SubscriptionStatus::PendingCancellation;
    let card_for_dialog = c.clone();
    view! {
        <article class="card" data-product=c.product.clone() data-status=c.status.code()>
            {pending.then(|| view! { <div class="banner" role="status">"Pending cancellation"</div> })}
            <header>
                <h2>{c.product_name.clone()}</h2>
                <span class=status_class>{c.status_label.clone()}</span>
            </header>
            <p>{format!("{} · {} seat(s) · {}", c.level_name, c.seats, c.frequency)}</p>
            <p class="muted" data-testid="dates">{c.dates.clone()}</p>
            {c.renewal.clone().map(|r| view! { <p data-testid="renewal">{r}</p> })}
            <div class="actions">
                {c.actions.iter().map(|a| match a {
                    Action::SubscribeNow => view! { <a class="button" href=plan.clone()>"Subscribe now"</a> }.into_any(),
                    Action::Reactivate => view! { <a class="button" href=plan.clone()>"Reactivate"</a> }.into_any(),
                    Action::Modify => view! { <a class="button" href=plan.clone()>"Modify"</a> }.into_any(),
                    Action::RemovePendingCancellation => {
                        let card = card_for_dialog.clone();
                        view! {
                            <button type="button" on:click=move |_| dialog.set(Some(card.clone()))>
                                "Remove pending cancellation"
                            </button>
                        }.into_any()
                    }
                    Action::UpdatePaymentMethod => view! { <a class="button" href="/billing/payment">"Update payment method"</a> }.into_any(),
                    Action::Cancel => ().into_any(),
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
) -> impl IntoView {
    let (id, version) = (card.id, card.version);
    let done = move || matches!(remove.value().get(), Some(Ok(())));
    let close = move |_| {
        remove.value().set(None);
        dialog.set(None);
        refresh.update(|n| *n += 1);
    };
    view! {
        <div class="backdrop">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="remove-title">
                <h2 id="remove-title">{format!("{}: pending cancellation", card.product_name)}</h2>
                <Show
                    when=done
                    fallback=move || view! {
                        <p>"Your subscription will renew at the end of the current term instead of ending. Nothing is charged today."</p>
                        {move || remove.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
                        <div class="actions">
                            <button type="button" disabled=move || remove.pending().get()
                                on:click=move |_| { remove.dispatch(RemovePendingCancellation { id, version }); }>
                                "Yes, remove cancellation"
                            </button>
                            <button type="button" class="secondary" on:click=move |_| dialog.set(None)>"Keep cancellation"</button>
                        </div>
                    }
                >
                    <p role="status">"The cancellation was removed: your subscription will renew."</p>
                    <button type="button" on:click=close>"Close"</button>
                </Show>
            </div>
        </div>
    }
}
