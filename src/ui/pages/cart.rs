//! The cart: each item with its own summary and Remove, the total, Place
//! order, and products the account does not have yet.

use leptos::prelude::*;

use crate::api::billing::{RemoveCartItem, quote_context};
use crate::api::types::EditorContext;
use crate::billing::quote;
use crate::ui::components::error::ErrorNotice;
use crate::ui::components::summary::OrderSummary;

#[component]
pub fn CartPage() -> impl IntoView {
    let remove = ServerAction::<RemoveCartItem>::new();
    let ctx = Resource::new(move || remove.version().get(), |_| quote_context());
    view! {
        <section class="page">
            <h1>"Cart"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
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
    view! {
        {c.cart.is_empty().then(|| view! { <p>"Your cart is empty."</p> })}
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
                            Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        }}
                        <div class="actions">
                            <a class="button secondary" href=edit>"Modify"</a>
                            <ActionForm action=remove>
                                <input type="hidden" name="product" value=hidden/>
                                <button type="submit" class="secondary">"Remove"</button>
                            </ActionForm>
                        </div>
                    </article>
                }
            }).collect_view()}
        </div>
        {total.map(|t| match t {
            Ok(q) => {
                let due = q.totals.total_due.to_string();
                view! {
                    <p class="total-line">"Total amount due today: " <strong data-testid="cart-total">{due}</strong></p>
                    <a class="button" href="/billing/checkout">"Place order"</a>
                }.into_any()
            }
            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
        })}
        <section class="add-product">
            <h2>"Add a product"</h2>
            {if available.is_empty() {
                view! { <p class="muted">"You already have every product."</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {available.into_iter().map(|(code, name)| {
                            let href = format!("/billing/plan/new?product={code}");
                            view! { <li><a href=href>{format!("Subscribe to {name}")}</a></li> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
