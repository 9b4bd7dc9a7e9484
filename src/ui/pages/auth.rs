//! Sign-in and My Account.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::auth::{SignIn, SignOut, TransferBillingContact, account_users, me};
use crate::ui::components::error::ErrorNotice;

#[component]
pub fn LoginPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = sign_in.value().get() {
            navigate("/account", Default::default());
        }
    });
    view! {
        <section class="page narrow">
            <h1>"Sign in"</h1>
            <ActionForm action=sign_in>
                <label for="email">"Email"</label>
                <input id="email" type="email" name="email" autocomplete="username" required maxlength="254"/>
                <label for="password">"Password"</label>
                <input id="password" type="password" name="password" autocomplete="current-password" required/>
                <button type="submit" disabled=move || sign_in.pending().get()>
                    {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            {move || sign_in.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
            <p class="muted">"Demo accounts: trial@demo.test, pending@demo.test, trialover@demo.test, expired@demo.test, active@demo.test, corporate@demo.test, member@demo.test; password billing-demo."</p>
        </section>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| me());
    let sign_out = ServerAction::<SignOut>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            navigate("/login", Default::default());
        }
    });
    view! {
        <section class="page">
            <h1>"My Account"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(u)) => view! {
                            <dl class="facts">
                                <dt>"Account"</dt><dd data-testid="account-name">{u.account_name.clone()}</dd>
                                <dt>"Name"</dt><dd>{u.name.clone()}</dd>
                                <dt>"Email"</dt><dd>{u.email.clone()}</dd>
                                <dt>"Role"</dt><dd data-testid="role">{if u.is_billing_contact { "Billing contact" } else { "User" }}</dd>
                            </dl>
                            <h2>"Billing"</h2>
                            <p>"Subscriptions, orders, payment method and invoices."</p>
                            <a class="button" href="/billing">"Go to Billing"</a>
                            {u.is_billing_contact.then(|| view! { <Handover/> })}
                            <ActionForm action=sign_out>
                                <button type="submit" class="secondary">"Sign out"</button>
                            </ActionForm>
                        }.into_any(),
                        Ok(None) => view! { <ErrorNotice error=crate::error::AppError::Unauthorized/> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The billing contact hands the role to another user, after confirming.
#[component]
fn Handover() -> impl IntoView {
    let transfer = ServerAction::<TransferBillingContact>::new();
    let users = Resource::new(|| (), |_| account_users());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) if !list.is_empty() => view! {
                        <details class="handover">
                            <summary>"Hand over the billing contact role"</summary>
                            <Show
                                when=move || matches!(transfer.value().get(), Some(Ok(())))
                                fallback=move || {
                                    let list = list.clone();
                                    view! {
                                        <ActionForm action=transfer>
                                            <label for="handover-user">"New billing contact"</label>
                                            <select id="handover-user" name="user_id">
                                                {list.into_iter().map(|u| view! { <option value=u.id.to_string()>{format!("{} ({})", u.name, u.email)}</option> }).collect_view()}
                                            </select>
                                            <label class="choice">
                                                <input type="checkbox" name="confirm" value="yes" required/>
                                                "I understand that I will no longer manage billing"
                                            </label>
                                            <button type="submit" disabled=move || transfer.pending().get()>"Hand over"</button>
                                        </ActionForm>
                                        {move || transfer.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
                                    }
                                }
                            >
                                <p role="status">"Done: the new billing contact and you have been emailed."</p>
                            </Show>
                        </details>
                    }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}
