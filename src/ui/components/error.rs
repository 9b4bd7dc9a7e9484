//! How every page shows an error: sign-in prompts, "who is the billing
//! contact", or the error's own user-safe sentence.

use leptos::prelude::*;

use crate::error::AppError;

#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    match error {
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
        other => view! { <p class="error" role="alert">{other.to_string()}</p> }.into_any(),
    }
}
