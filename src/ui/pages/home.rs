//! The billing center's home (first draft): products read from the database,
//! each with a button that starts a free trial through a server function.

use leptos::prelude::*;

use crate::api::products::{ProductSummary, StartTrial, list_products};

#[component]
pub fn HomePage() -> impl IntoView {
    let start_trial = ServerAction::<StartTrial>::new();
    // Refetch after every completed trial start.
    let products = Resource::new(move || start_trial.version().get(), |_| list_products());
    view! {
        <section class="page">
            <h1>"Products"</h1>
            <Suspense fallback=|| view! { <p>"Loading products…"</p> }>
                {move || Suspend::new(async move {
                    match products.await {
                        Ok(list) => view! { <ProductList list start_trial/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            {move || start_trial.value().get().and_then(|r| r.err()).map(|e| view! {
                <p class="error" role="alert">{e.to_string()}</p>
            })}
        </section>
    }
}

#[component]
fn ProductList(list: Vec<ProductSummary>, start_trial: ServerAction<StartTrial>) -> impl IntoView {
    let pending = start_trial.pending();
    view! {
        <ul class="products">
            {list
                .into_iter()
                .map(|p| {
                    let label = format!("Start free trial of {}", p.name);
                    let code = p.code.clone();
                    view! {
                        <li class="product" data-product=p.code.clone()>
                            <div>
                                <h2>{p.name.clone()}</h2>
                                <p class="price">"From " {p.monthly_from.clone()} " per seat per month"</p>
                                <p class="trials" data-testid=format!("trials-{}", p.code)>
                                    {p.trials_started} {if p.trials_started == 1 { " trial started" } else { " trials started" }}
                                </p>
                            </div>
                            <ActionForm action=start_trial>
                                <input type="hidden" name="product" value=code/>
                                <button type="submit" aria-label=label disabled=move || pending.get()>
                                    "Start free trial"
                                </button>
                            </ActionForm>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
