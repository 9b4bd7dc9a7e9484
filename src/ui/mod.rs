//! Components and pages, rendered on the server and hydrated in the browser.

pub mod components;
pub mod i18n;
pub mod pages;
pub mod resource;
pub mod site;
pub mod stripe_js;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

use pages::auth::{AccountPage, ForgotPasswordPage, LoginPage, SetPasswordPage};
use pages::authenticate::AuthenticatePage;
use pages::cart::CartPage;
use pages::checkout::{CheckoutPage, OrderPage, PaymentMethodPage};
use pages::corporate::{PortalPage, SupportPage};
use pages::help::HelpPage;
use pages::home::HomePage;
use pages::invoices::{InvoicePage, InvoicesPage, MailboxPage};
use pages::not_found::{FormErrorPage, NotFound};
use pages::plan::PlanPage;
use pages::subscriptions::SubscriptionsPage;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The page's CSP names the nonce Leptos puts on its inline scripts.
    #[cfg(feature = "ssr")]
    let stripe = use_context::<crate::server::state::AppState>().and_then(|s| s.stripe.clone());
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(resp)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(policy) = axum::http::HeaderValue::from_str(
        &crate::server::headers::page_policy(&nonce, stripe.as_ref()),
    ) {
        resp.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, policy);
    }
    #[cfg(feature = "ssr")]
    let lang = crate::server::lang::current();
    #[cfg(not(feature = "ssr"))]
    let lang = crate::i18n::Lang::En; // the shell is only rendered on the server
    #[cfg(feature = "ssr")]
    let texts = i18n::texts_json(lang);
    #[cfg(not(feature = "ssr"))]
    let texts = String::new();
    #[cfg(feature = "ssr")]
    let site = site::site_json();
    #[cfg(not(feature = "ssr"))]
    let site = String::new();
    // The client's files by their hashed names (`server::site_files`).
    #[cfg(feature = "ssr")]
    let (js, wasm, css) = crate::server::state::current()
        .map(|s| s.site_files.assets())
        .map(|a| (a.js, a.wasm, a.css))
        .unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let (js, wasm, css) = (String::new(), String::new(), String::new());
    view! {
        <!DOCTYPE html>
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8"/>
                // The page's texts, as data for the browser (not executed).
                <script type="application/json" id=i18n::TEXTS_ID inner_html=texts></script>
                <script type="application/json" id=site::SITE_ID inner_html=site></script>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <link rel="stylesheet" href=css/>
                // The configured brand colour, after the stylesheet it overrides.
                <link rel="stylesheet" href="/brand.css"/>
                <AutoReload options/>
                <Hydration js wasm/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Loads and starts the client, as Leptos's `HydrationScripts` does, but
/// from the names the server knows (hashed, embedded) rather than from a
/// hash file beside the binary.
#[component]
fn Hydration(js: String, wasm: String) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    let script = format!(
        "import({js:?}).then(m => m.default({{module_or_path: {wasm:?}}}).then(() => m.hydrate()));"
    );
    view! {
        <link rel="modulepreload" href=js crossorigin=""/>
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin=""/>
        <script type="module" nonce=nonce>{script}</script>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    i18n::provide_lang();
    site::provide_site();
    let t = i18n::use_ui();
    let brand = site::use_site();
    // Effects run only in the browser: this marks the page as hydrated, for
    // tests and for CSS that should wait for interactivity.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title text=brand.product_name.clone()/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/">
                    {brand.has_logo.then(|| view! { <img class="logo" src="/brand/logo" alt="" height="28"/> })}
                    {brand.product_name.clone()}
                </a>
                <nav aria-label=t.nav_main>
                    <a href="/account">{t.nav_account}</a>
                    <a href="/billing">{t.nav_subscriptions}</a>
                    <a href="/billing/cart">{t.nav_cart}</a>
                    <a href="/billing/invoices">{t.nav_invoices}</a>
                    <a href="/billing/payment">{t.nav_payment}</a>
                    <a href="/help">{t.nav_help}</a>
                </nav>
                <i18n::LanguageSwitch/>
            </header>
            <main>
                // Async SSR: data is inline in the first HTML, so the page is
                // complete without JavaScript.
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("password"), StaticSegment("forgot")) view=ForgotPasswordPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("password"), StaticSegment("reset"), ParamSegment("token")) view=|| view! { <SetPasswordPage invitation=false/> } ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("invitation"), ParamSegment("token")) view=|| view! { <SetPasswordPage invitation=true/> } ssr=SsrMode::Async/>
                    <Route path=StaticSegment("help") view=HelpPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("form-error") view=FormErrorPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("help"), ParamSegment("slug")) view=HelpPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("billing") view=SubscriptionsPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("billing"), StaticSegment("plan"), ParamSegment("id")) view=PlanPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("billing"), StaticSegment("cart")) view=CartPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("billing"), StaticSegment("checkout")) view=CheckoutPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("billing"), StaticSegment("orders"), ParamSegment("key")) view=OrderPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("billing"), StaticSegment("invoices")) view=InvoicesPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("billing"), StaticSegment("invoices"), ParamSegment("id")) view=InvoicePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("billing"), StaticSegment("mailbox")) view=MailboxPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("billing"), StaticSegment("support")) view=SupportPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("billing"), StaticSegment("payment")) view=PaymentMethodPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("billing"), StaticSegment("portal")) view=PortalPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("billing"), StaticSegment("authenticate"), ParamSegment("intent")) view=AuthenticatePage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
