//! The cart: each item with its own summary and Remove, the total, Place
//! order, and products the account does not have yet.

use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::billing::{RemoveCartItem, quote_context};
use crate::api::types::EditorContext;
use crate::billing::quote;
use crate::i18n::fill;
use crate::ui::components::error::{ErrorNotice, error_text};
use crate::ui::components::summary::OrderSummary;
use crate::ui::i18n::{use_lang, use_ui};

#[component]
pub fn CartPage() -> impl IntoView {
    let remove = ServerAction::<RemoveCartItem>::new();
    let ctx = resource(move || remove.version().get(), |_| quote_context());
    let t = use_ui();
    view! {
        <section class="page">
            <h1>{t.cart_title}</h1>
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match ctx.await {
                        Ok(c) => view! { <Cart c remove/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Cart(c: EditorContext, remove: ServerAction<RemoveCartItem>) -> impl IntoView {
    let total = (!c.cart.is_empty())
        .then(|| quote(&c.catalog, &c.account, &c.subscriptions, &c.cart, c.today));
    let available: Vec<(String, String)> = c
        .catalog
        .products
        .iter()
        .filter(|p| !c.subscriptions.iter().any(|s| s.product == p.code))
        .filter(|p| !c.cart.iter().any(|i| matches!(i, crate::billing::CartItem::Subscribe { product, .. } if *product == p.code)))
        .map(|p| (p.code.clone(), p.name.clone()))
        .collect();
    let (lang, t) = (use_lang(), use_ui());
    // Arriving from the plan editor's Add to cart: say so (announced).
    let added = use_query_map()
        .with_untracked(|q| q.get("added"))
        .and_then(|code| c.catalog.product(&code).ok().map(|p| p.name.clone()))
        .map(|name| fill(t.added_to_cart, &[("product", &name)]));
    view! {
        <p role="status" class="status">{added}</p>
        {c.cart.is_empty().then(|| view! { <p>{t.cart_empty}</p> })}
        <div class="cart-items">
            {c.cart.iter().map(|item| {
                let q = quote(&c.catalog, &c.account, &c.subscriptions, std::slice::from_ref(item), c.today);
                let product = q.as_ref().map(|q| q.items[0].product.clone()).unwrap_or_default();
                let edit = item.subscription_id().map(|id| format!("/billing/plan/{id}")).unwrap_or_else(|| format!("/billing/plan/new?product={product}"));
                let hidden = product.clone();
                view! {
                    <article class="card" data-product=product>
                        {match q {
                            Ok(q) => view! { <OrderSummary quote=q/> }.into_any(),
                            Err(e) => view! { <p class="error">{error_text(&e.into())}</p> }.into_any(),
                        }}
                        <div class="actions">
                            <a class="button secondary" href=edit>{t.modify}</a>
                            <ActionForm action=remove>
                                <input type="hidden" name="product" value=hidden/>
                                <button type="submit" class="secondary">{t.remove}</button>
                            </ActionForm>
                        </div>
                    </article>
                }
            }).collect_view()}
        </div>
        {total.map(|total| match total {
            Ok(q) => {
                let due = lang.money(q.totals.total_due);
                view! {
                    <p class="total-line">{t.cart_total} " " <strong data-testid="cart-total">{due}</strong></p>
                    <a class="button" href="/billing/checkout">{t.place_order}</a>
                }.into_any()
            }
            Err(e) => view! { <p class="error" role="alert">{error_text(&e.into())}</p> }.into_any(),
        })}
        <section class="add-product">
            <h2>{t.add_a_product}</h2>
            {if available.is_empty() {
                view! { <p class="muted">{t.have_every_product}</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {available.into_iter().map(|(code, name)| {
                            let href = format!("/billing/plan/new?product={code}");
                            view! { <li><a href=href>{fill(t.subscribe_to, &[("product", &name)])}</a></li> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
