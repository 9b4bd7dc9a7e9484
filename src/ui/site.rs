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
    crate::server::state::current()
        .map(|s| s.identity.site_info())
        .ok()
        .and_then(|i| serde_json::to_string(&i).ok())
        .unwrap_or_default()
        .replace('<', "\\u003c")
}

pub fn provide_site() {
    #[cfg(feature = "ssr")]
    let info = crate::server::state::current()
        .map(|s| s.identity.site_info())
        .ok();
    #[cfg(not(feature = "ssr"))]
    let info = document()
        .get_element_by_id(SITE_ID)
        .and_then(|e| e.text_content())
        .and_then(|json| serde_json::from_str::<SiteInfo>(&json).ok());
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
