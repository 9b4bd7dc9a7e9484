//! The help pages. Their text is data the server sends as HTML it builds
//! from our own articles (every piece escaped), not code: the browser's
//! bundle stays the same however many articles there are.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpDoc {
    pub title: String,
    pub body_html: String,
}

/// An article by its slug; the empty slug is the list of articles.
#[server(endpoint = "help_page")]
pub async fn help_page(slug: String) -> Result<HelpDoc, AppError> {
    let lang = crate::server::lang::current();
    let help = &crate::server::state::current()?.help;
    let doc = if slug.is_empty() {
        Ok(help.index_page(lang))
    } else {
        help.article(lang, &slug).ok_or(AppError::NotFound)
    };
    crate::server::error::respond(doc.map(|d| HelpDoc {
        title: d.title,
        body_html: d.body_html,
    }))
}
