//! How every page shows an error: sign-in prompts, "who is the billing
//! contact", or the error's own user-safe sentence.

use leptos::prelude::*;

use crate::error::AppError;

#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    match error.clone() {
        AppError::Unauthorized => view! {
            <div class="notice" role="alert">
                <p>"Please sign in to see this page."</p>
                <a class="button" href="/login">"Sign in"</a>
            </div>
        }
        .into_any(),
        AppError::NotBillingContact { name, email } => {
            let mailto = format!("mailto:{email}");
            view! {
                <div class="notice" role="alert" data-testid="billing-contact">
                    <p>"Only the billing contact of your account can see and change billing."</p>
                    <p>"Your billing contact is " <a href=mailto>{name} " (" {email} ")"</a> "."</p>
                </div>
            }
            .into_any()
        }
        AppError::NotFound => {
            set_status(404);
            view! {
                <div class="error-page" role="alert">
                    <h2>"Not found"</h2>
                    <p>"What you are looking for does not exist, or belongs to another account."</p>
                    <a class="button" href="/billing">"Back to your subscriptions"</a>
                </div>
            }
            .into_any()
        }
        AppError::Internal | AppError::Unavailable | AppError::Network(_) => {
            // The page could not load at all: an error page, not a line.
            set_status(503);
            let message = error.to_string();
            view! {
                <div class="error-page" role="alert" data-testid="error-page">
                    <h2>"Something went wrong"</h2>
                    <p>{message}</p>
                    <p>"Nothing was charged or changed by this error."</p>
                    <a class="button" href="" rel="external">"Try again"</a>
                    " "
                    <a href="/help">"Help"</a>
                </div>
            }
            .into_any()
        }
        other => view! { <p class="error" role="alert">{other.to_string()}</p> }.into_any(),
    }
}

/// The HTTP status of a server-rendered page that shows this error (the
/// browser ignores it after hydration).
fn set_status(_code: u16) {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(code) = axum::http::StatusCode::from_u16(_code)
    {
        resp.set_status(code);
    }
}
