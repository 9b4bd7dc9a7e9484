//! The billing center's home (first draft): products read from the database,
//! each with a button that starts a free trial through a server function.

use crate::ui::resource::resource;
use leptos::prelude::*;

use crate::api::products::{ProductSummary, StartTrial, list_products};
use crate::i18n::fill;
use crate::ui::components::error::error_text;
use crate::ui::i18n::use_ui;

#[component]
pub fn HomePage() -> impl IntoView {
    let start_trial = ServerAction::<StartTrial>::new();
    // Refetch after every completed trial start.
    let products = resource(move || start_trial.version().get(), |_| list_products());
    let t = use_ui();
    view! {
        <section class="page">
            <h1>{t.products_title}</h1>
            <Suspense fallback=move || view! { <p>{t.loading_products}</p> }>
                {move || Suspend::new(async move {
                    match products.await {
                        Ok(list) => view! { <ProductList list start_trial/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
            {move || start_trial.value().get().and_then(|r| r.err()).map(|e| view! {
                <p class="error" role="alert">{error_text(&e)}</p>
            })}
        </section>
    }
}

#[component]
fn ProductList(list: Vec<ProductSummary>, start_trial: ServerAction<StartTrial>) -> impl IntoView {
    let pending = start_trial.pending();
    let t = use_ui();
    view! {
        <ul class="products">
            {list
                .into_iter()
                .map(|p| {
                    let label = fill(t.start_free_trial_of, &[("product", &p.name)]);
                    let code = p.code.clone();
                    view! {
                        <li class="product" data-product=p.code.clone()>
                            <div>
                                <h2>{p.name.clone()}</h2>
                                <p class="price">{fill(t.from_price, &[("price", &p.monthly_from)])}</p>
                                <p class="trials" data-testid=format!("trials-{}", p.code)>
                                    {fill(t.trials_started, &[("n", &p.trials_started.to_string())])}
                                </p>
                            </div>
                            <ActionForm action=start_trial>
                                <input type="hidden" name="product" value=code/>
                                <button type="submit" aria-label=label disabled=move || pending.get()>
                                    {t.start_free_trial}
                                </button>
                            </ActionForm>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
