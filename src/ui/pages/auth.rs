//! Sign-in and My Account.

use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::auth::{
    AcceptInvitation, InviteUser, RequestPasswordReset, ResetPassword, SignIn, SignOut,
    TransferBillingContact, account_users, me,
};
use crate::i18n::fill;
use crate::ui::components::error::ErrorNotice;
use crate::ui::i18n::use_ui;
use crate::ui::pages::help::HelpFor;

#[component]
pub fn LoginPage() -> impl IntoView {
    let t = use_ui();
    let query = leptos_router::hooks::use_query_map();
    let link_expired = query.with_untracked(|q| q.get("link").as_deref() == Some("expired"));
    view! {
        <section class="page narrow">
            <h1>{t.sign_in_title}</h1>
            {link_expired.then(|| view! { <p class="notice" role="status" data-testid="link-expired">{t.link_expired}</p> })}
            <SignInForm/>
            <p class="muted">{t.demo_accounts}</p>
            <HelpFor slug="sign-in"/>
        </section>
    }
}

/// Email and password, then My Account; "Forgot your password?" below.
#[component]
pub fn SignInForm() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = sign_in.value().get() {
            navigate("/account", Default::default());
        }
    });
    let t = use_ui();
    view! {
        <ActionForm action=sign_in>
            <label for="email">{t.email}</label>
            <input id="email" type="email" name="email" autocomplete="username" required maxlength="254"/>
            <label for="password">{t.password}</label>
            <input id="password" type="password" name="password" autocomplete="current-password" required/>
            <button type="submit" disabled=move || sign_in.pending().get()>
                {move || if sign_in.pending().get() { t.signing_in } else { t.sign_in }}
            </button>
        </ActionForm>
        {move || sign_in.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
        <p><a href="/password/forgot">{t.forgot_link}</a></p>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let me = resource(|| (), |_| me());
    let sign_out = ServerAction::<SignOut>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            navigate("/login", Default::default());
        }
    });
    let t = use_ui();
    view! {
        <section class="page">
            <h1>{t.my_account}</h1>
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(u)) => view! {
                            <dl class="facts">
                                <dt>{t.account}</dt><dd data-testid="account-name">{u.account_name.clone()}</dd>
                                <dt>{t.name}</dt><dd>{u.name.clone()}</dd>
                                <dt>{t.email}</dt><dd>{u.email.clone()}</dd>
                                <dt>{t.role}</dt><dd data-testid="role">{if u.is_billing_contact { t.role_billing_contact } else { t.role_user }}</dd>
                            </dl>
                            <h2>{t.billing}</h2>
                            <p>{t.billing_blurb}</p>
                            <a class="button" href="/billing">{t.go_to_billing}</a>
                            {u.is_billing_contact.then(|| view! { <Handover/> <Invite/> })}
                            <ActionForm action=sign_out>
                                <button type="submit" class="secondary">{t.sign_out}</button>
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
    let users = resource(|| (), |_| account_users());
    let t = use_ui();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) if !list.is_empty() => view! {
                        <details class="handover">
                            <summary>{t.handover_summary}</summary>
                            <Show
                                when=move || matches!(transfer.value().get(), Some(Ok(())))
                                fallback=move || {
                                    let list = list.clone();
                                    view! {
                                        <ActionForm action=transfer>
                                            <label for="handover-user">{t.handover_new}</label>
                                            <select id="handover-user" name="user_id">
                                                {list.into_iter().map(|u| view! { <option value=u.id.to_string()>{format!("{} ({})", u.name, u.email)}</option> }).collect_view()}
                                            </select>
                                            <label class="choice">
                                                <input type="checkbox" name="confirm" value="yes" required/>
                                                {t.handover_confirm}
                                            </label>
                                            <button type="submit" disabled=move || transfer.pending().get()>{t.handover_button}</button>
                                        </ActionForm>
                                        {move || transfer.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
                                    }
                                }
                            >
                                <p role="status">{t.handover_done}</p>
                            </Show>
                        </details>
                    }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/password/forgot`: asks for a reset link; the same answer for any email.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let request = ServerAction::<RequestPasswordReset>::new();
    let t = use_ui();
    let query = leptos_router::hooks::use_query_map();
    let sent = move || {
        query.with(|q| q.get("sent").is_some()) || matches!(request.value().get(), Some(Ok(())))
    };
    view! {
        <section class="page narrow">
            <h1>{t.forgot_title}</h1>
            <Show when=sent fallback=move || view! {
                <p>{t.forgot_blurb}</p>
                <ActionForm action=request>
                    <label for="email">{t.email}</label>
                    <input id="email" type="email" name="email" autocomplete="username" required maxlength="254"/>
                    <button type="submit" disabled=move || request.pending().get()>{t.send_reset_link}</button>
                </ActionForm>
                {move || request.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
            }>
                <p role="status" data-testid="reset-sent">{t.reset_sent}</p>
            </Show>
            <p><a href="/login">{t.sign_in_title}</a></p>
        </section>
    }
}

/// `/password/reset/{token}` and `/invitation/{token}`: choose a password,
/// then land signed in on the billing page.
#[component]
pub fn SetPasswordPage(invitation: bool) -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let accept = ServerAction::<AcceptInvitation>::new();
    let t = use_ui();
    let params = leptos_router::hooks::use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let fields = move || {
        view! {
            <input type="hidden" name="token" value=token()/>
            <label for="password">{t.new_password}</label>
            <input id="password" type="password" name="password" autocomplete="new-password" required minlength="10" maxlength="1024"/>
            <label for="confirm">{t.confirm_password}</label>
            <input id="confirm" type="password" name="confirm" autocomplete="new-password" required minlength="10" maxlength="1024"/>
            <button type="submit">{t.save_password}</button>
        }
    };
    let error = move || {
        reset
            .value()
            .get()
            .or_else(|| accept.value().get())
            .and_then(|r| r.err())
            .map(|e| view! { <ErrorNotice error=e/> })
    };
    view! {
        <section class="page narrow">
            <h1>{if invitation { t.invitation_title } else { t.reset_title }}</h1>
            {if invitation {
                view! { <ActionForm action=accept>{fields()}</ActionForm> }.into_any()
            } else {
                view! { <ActionForm action=reset>{fields()}</ActionForm> }.into_any()
            }}
            {error}
        </section>
    }
}

/// The billing contact invites a person into the account.
#[component]
fn Invite() -> impl IntoView {
    let invite = ServerAction::<InviteUser>::new();
    let t = use_ui();
    let query = leptos_router::hooks::use_query_map();
    let sent = move || {
        invite
            .value()
            .get()
            .and_then(|r| r.ok())
            .or_else(|| query.with(|q| q.get("invited")))
    };
    view! {
        <details class="invite" open=move || sent().is_some()>
            <summary>{t.invite_summary}</summary>
            <p>{t.invite_blurb}</p>
            {move || sent().map(|email| view! { <p role="status" data-testid="invitation-sent">{fill(t.invitation_sent, &[("email", &email)])}</p> })}
            <ActionForm action=invite>
                <label for="invite-name">{t.name}</label>
                <input id="invite-name" name="name" required maxlength="200" autocomplete="off"/>
                <label for="invite-email">{t.email}</label>
                <input id="invite-email" type="email" name="email" required maxlength="254" autocomplete="off"/>
                <button type="submit" disabled=move || invite.pending().get()>{t.send_invitation}</button>
            </ActionForm>
            {move || invite.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNotice error=e/> })}
        </details>
    }
}
