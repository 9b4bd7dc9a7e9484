//! The configured identity in components (the product name, the support
//! and sales addresses): the server writes it into the page as JSON data
//! beside the texts, and the browser reads it back when it hydrates.

use leptos::prelude::*;

use crate::api::types::SiteInfo;

pub const SITE_ID: &str = "bc-site";

/// The `<script type="application/json">` body, with `<` escaped so that
/// no value can close the element.
#[cfg(feature = "ssr")]
pub fn site_json() -> String {
    use_context::<crate::server::state::AppState>()
        .map(|s| site_info(&s.identity))
        .and_then(|i| serde_json::to_string(&i).ok())
        .unwrap_or_default()
        .replace('<', "\\u003c")
}

/// What the pages show of the configured identity.
#[cfg(feature = "ssr")]
fn site_info(identity: &crate::server::identity::Identity) -> SiteInfo {
    SiteInfo {
        product_name: identity.product_name.clone(),
        support_email: identity.support.to_string(),
        sales_email: identity.sales.to_string(),
        has_logo: identity.logo.is_some(),
    }
}

pub fn provide_site() {
    // No state when Leptos lists the routes at start: the defaults then.
    #[cfg(feature = "ssr")]
    let info = use_context::<crate::server::state::AppState>().map(|s| site_info(&s.identity));
    // The browser's own JSON reader: serde_json's would add to the bundle.
    #[cfg(not(feature = "ssr"))]
    let info = document()
        .get_element_by_id(SITE_ID)
        .and_then(|e| e.text_content())
        .and_then(|json| js_sys::JSON::parse(&json).ok())
        .map(|v| {
            let field = |k: &str| js_sys::Reflect::get(&v, &k.into()).ok();
            let text = |k: &str| field(k).and_then(|f| f.as_string()).unwrap_or_default();
            SiteInfo {
                product_name: text("product_name"),
                support_email: text("support_email"),
                sales_email: text("sales_email"),
                has_logo: field("has_logo").and_then(|f| f.as_bool()).unwrap_or(false),
            }
        });
    provide_context(info.unwrap_or_else(|| SiteInfo {
        product_name: "Billing Center".into(),
        support_email: String::new(),
        sales_email: String::new(),
        has_logo: false,
    }));
}

pub fn use_site() -> SiteInfo {
    use_context::<SiteInfo>().expect("provide_site runs first, in App")
}
