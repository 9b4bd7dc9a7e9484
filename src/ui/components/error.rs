//! How every page shows an error: sign-in prompts, "who is the billing
//! contact", or the error's own user-safe sentence.

use leptos::prelude::*;

use crate::error::AppError;
use crate::ui::i18n::{use_lang, use_ui};

/// An error as text in the page's language (for inline messages).
pub fn error_text(e: &AppError) -> String {
    crate::i18n::errors::message(use_lang(), e)
}

#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let t = use_ui();
    match error.clone() {
        AppError::Unauthorized => view! {
            <div class="notice" role="alert">
                <p>{t.please_sign_in}</p>
                <a class="button" href="/login">{t.sign_in}</a>
            </div>
        }
        .into_any(),
        AppError::NotBillingContact { name, email } => {
            let mailto = format!("mailto:{email}");
            view! {
                <div class="notice" role="alert" data-testid="billing-contact">
                    <p>{t.only_billing_contact}</p>
                    <p>{t.your_billing_contact} " " <a href=mailto>{name} " (" {email} ")"</a> "."</p>
                    <p><a href="/help/billing-contact">{t.help_this_page}</a></p>
                </div>
            }
            .into_any()
        }
        AppError::NotFound => {
            set_status(404);
            view! {
                <div class="error-page" role="alert">
                    <h2>{t.error_not_found}</h2>
                    <p>{t.error_not_found_body}</p>
                    <a class="button" href="/billing">{t.back_to_subscriptions}</a>
                </div>
            }
            .into_any()
        }
        AppError::Internal | AppError::Unavailable | AppError::Network(_) => {
            // The page could not load at all: an error page, not a line.
            set_status(503);
            let message = error_text(&error);
            view! {
                <div class="error-page" role="alert" data-testid="error-page">
                    <h2>{t.error_title}</h2>
                    <p>{message}</p>
                    <p>{t.error_nothing_changed}</p>
                    <a class="button" href="" rel="external">{t.try_again}</a>
                    " "
                    <a href="/help">{t.nav_help}</a>
                </div>
            }
            .into_any()
        }
        other => view! { <p class="error" role="alert">{error_text(&other)}</p> }.into_any(),
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
