use leptos::prelude::*;

use super::types::CurrentUser;
use crate::domain::UserId;
use crate::error::AppError;

#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<CurrentUser, AppError> {
    crate::server::error::respond(
        async {
            let state = crate::server::state::current()?;
            let c = crate::server::auth::sign_in(&state, &email, &password).await?;
            leptos_axum::redirect("/account");
            Ok(ssr::me(&c))
        }
        .await,
    )
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    crate::server::error::respond(
        async {
            let state = crate::server::state::current()?;
            crate::server::auth::sign_out(&state).await?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}

/// Emails a link to choose a new password, if `email` signs in here; the
/// same answer for any email (`/password/forgot?sent=1`).
#[server(endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    crate::server::error::respond(
        async {
            let state = crate::server::state::current()?;
            let address = crate::server::auth::client_ip().await;
            crate::server::passwords::request_reset(&state, &email, &address).await?;
            leptos_axum::redirect("/password/forgot?sent=1");
            Ok(())
        }
        .await,
    )
}

/// Sets a new password with a reset link's token and signs in.
#[server(endpoint = "reset_password")]
pub async fn reset_password(
    token: String,
    password: String,
    confirm: String,
) -> Result<(), AppError> {
    set_password_with(
        token,
        password,
        confirm,
        crate::db::user_tokens::Purpose::Reset,
    )
    .await
}

/// Sets the first password with an invitation's token and signs in.
#[server(endpoint = "accept_invitation")]
pub async fn accept_invitation(
    token: String,
    password: String,
    confirm: String,
) -> Result<(), AppError> {
    set_password_with(
        token,
        password,
        confirm,
        crate::db::user_tokens::Purpose::Invite,
    )
    .await
}

#[cfg(feature = "ssr")]
async fn set_password_with(
    token: String,
    password: String,
    confirm: String,
    purpose: crate::db::user_tokens::Purpose,
) -> Result<(), AppError> {
    crate::server::error::respond(
        async {
            let state = crate::server::state::current()?;
            crate::server::passwords::set_password(
                &state,
                (&token, purpose),
                (&password, &confirm),
            )
            .await?;
            leptos_axum::redirect("/billing");
            Ok(())
        }
        .await,
    )
}

/// Invites a person into the caller's account (billing contact only): they
/// get an email to set their password.
#[server(endpoint = "invite_user")]
pub async fn invite_user(name: String, email: String) -> Result<String, AppError> {
    crate::server::error::respond(
        async {
            let state = crate::server::state::current()?;
            let c = crate::server::auth::require_billing_contact(&state).await?;
            crate::server::passwords::invite(&state, &c, &name, &email).await?;
            let email = crate::domain::Email::parse(&email).map_err(AppError::Invalid)?;
            leptos_axum::redirect(&format!(
                "/account?invited={}",
                url::form_urlencoded::byte_serialize(email.as_str().as_bytes()).collect::<String>()
            ));
            Ok(email.to_string())
        }
        .await,
    )
}

/// The signed-in user, or `None`.
#[server(endpoint = "me")]
pub async fn me() -> Result<Option<CurrentUser>, AppError> {
    crate::server::error::respond(
        async {
            let state = crate::server::state::current()?;
            Ok(crate::server::auth::caller(&state)
                .await?
                .map(|c| ssr::me(&c)))
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::server::auth::Caller;

    pub fn me(c: &Caller) -> CurrentUser {
        CurrentUser {
            name: c.user.name.clone(),
            email: c.user.email.to_string(),
            account_name: c.account.name.clone(),
            is_billing_contact: c.user.is_billing_contact,
            corporate: c.account.kind == crate::billing::AccountKind::Corporate,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Colleague {
    pub id: UserId,
    pub name: String,
    pub email: String,
}

/// The other users of the caller's account (billing contact only).
#[server(endpoint = "account_users")]
pub async fn account_users() -> Result<Vec<Colleague>, AppError> {
    crate::server::error::respond(
        async {
            let state = crate::server::state::current()?;
            let c = crate::server::auth::require_billing_contact(&state).await?;
            Ok(crate::db::accounts::users_of(&state.db, c.account.id)
                .await?
                .into_iter()
                .filter(|u| u.id != c.user.id)
                .map(|u| Colleague {
                    id: u.id,
                    name: u.name,
                    email: u.email.into(),
                })
                .collect())
        }
        .await,
    )
}

/// Hands the billing-contact role to another user of the account. `confirm`
/// must be "yes" (the confirmation step); both users get an email.
#[server(endpoint = "transfer_billing_contact")]
pub async fn transfer_billing_contact(user_id: UserId, confirm: String) -> Result<(), AppError> {
    crate::server::error::respond(
        async {
            let state = crate::server::state::current()?;
            let c = crate::server::auth::require_billing_contact(&state).await?;
            if confirm != "yes" {
                return Err(AppError::Invalid(
                    "Confirm that you want to hand over the billing contact role.".into(),
                ));
            }
            let users = crate::db::accounts::users_of(&state.db, c.account.id).await?;
            let Some(to) = users
                .into_iter()
                .find(|u| u.id == user_id && u.id != c.user.id)
            else {
                return Err(AppError::NotFound);
            };
            let lang = crate::server::billing::lang_of(&c.account);
            let t = lang.texts();
            let values = [
                ("account", c.account.name.as_str()),
                ("name", to.name.as_str()),
                ("email", to.email.as_str()),
            ];
            let from_values = [
                ("account", c.account.name.as_str()),
                ("name", c.user.name.as_str()),
            ];
            use crate::server::email::notice;
            let emails = [
                notice(
                    &state.identity,
                    lang,
                    c.user.email.as_str(),
                    t.contact_changed_subject,
                    t.contact_changed_from,
                    &values,
                ),
                notice(
                    &state.identity,
                    lang,
                    to.email.as_str(),
                    t.contact_changed_subject,
                    t.contact_changed_to,
                    &from_values,
                ),
            ];
            if !crate::db::accounts::transfer_billing_contact(
                &state.db,
                c.account.id,
                c.user.id,
                to.id,
                &emails,
            )
            .await?
            {
                return Err(AppError::Stale);
            }
            Ok(())
        }
        .await,
    )
}
