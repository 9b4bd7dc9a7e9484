use leptos::prelude::*;

use super::types::CurrentUser;
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
            email: c.user.email.clone(),
            account_name: c.account.name.clone(),
            is_billing_contact: c.user.is_billing_contact,
            corporate: c.account.kind == "corporate",
        }
    }
}
