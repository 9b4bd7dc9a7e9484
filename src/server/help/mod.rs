//! The help articles, written in Markdown-like text (`en/`, `fr/`): a
//! `# Title`, `## ` headings, `1. ` steps, `- ` bullets, `**labels**`, and
//! a last `Related: slug, slug` line. Parsed here into blocks the pages
//! render. The reactivation article comes first: the others are the topics
//! it links to.

use crate::i18n::Lang;
use crate::server::email::escape;

const EN: &[(&str, &str)] = &[
    ("reactivate", include_str!("en/reactivate.md")),
    ("payments-faq", include_str!("en/payments-faq.md")),
    (
        "modify-subscription",
        include_str!("en/modify-subscription.md"),
    ),
    ("payment-method", include_str!("en/payment-method.md")),
    ("invoice-history", include_str!("en/invoice-history.md")),
    ("sign-in", include_str!("en/sign-in.md")),
    ("billing-contact", include_str!("en/billing-contact.md")),
    (
        "online-vs-corporate",
        include_str!("en/online-vs-corporate.md"),
    ),
    ("corporate-why", include_str!("en/corporate-why.md")),
    ("corporate-portal", include_str!("en/corporate-portal.md")),
];

const FR: &[(&str, &str)] = &[
    ("reactivate", include_str!("fr/reactivate.md")),
    ("payments-faq", include_str!("fr/payments-faq.md")),
    (
        "modify-subscription",
        include_str!("fr/modify-subscription.md"),
    ),
    ("payment-method", include_str!("fr/payment-method.md")),
    ("invoice-history", include_str!("fr/invoice-history.md")),
    ("sign-in", include_str!("fr/sign-in.md")),
    ("billing-contact", include_str!("fr/billing-contact.md")),
    (
        "online-vs-corporate",
        include_str!("fr/online-vs-corporate.md"),
    ),
    ("corporate-why", include_str!("fr/corporate-why.md")),
    ("corporate-portal", include_str!("fr/corporate-portal.md")),
];

fn sources(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::En => EN,
        Lang::Fr => FR,
    }
}

fn title(text: &str) -> String {
    text.lines()
        .next()
        .and_then(|l| l.strip_prefix("# "))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// `(slug, title)` of every article.
pub fn index(lang: Lang) -> Vec<(&'static str, String)> {
    sources(lang)
        .iter()
        .map(|(slug, text)| (*slug, title(text)))
        .collect()
}

fn links(items: &[(&str, String)]) -> String {
    let li: String = items
        .iter()
        .map(|(slug, title)| format!("<li><a href=\"/help/{slug}\">{}</a></li>", escape(title)))
        .collect();
    format!("<ul class=\"help-index\">{li}</ul>")
}

/// A help page: its title and its HTML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Doc {
    pub title: String,
    pub body_html: String,
}

/// The list of articles.
pub fn index_page(lang: Lang) -> Doc {
    let t = lang.ui();
    Doc {
        title: t.help_title.into(),
        body_html: format!("<p>{}</p>{}", escape(t.help_intro), links(&index(lang))),
    }
}

pub fn article(lang: Lang, slug: &str) -> Option<Doc> {
    let (slug, text) = sources(lang).iter().find(|(s, _)| *s == slug)?;
    let mut html = String::new();
    // The list being built, if any: "ol" or "ul".
    let mut open: Option<&str> = None;
    let mut related = Vec::new();
    for line in text
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let (list, item) = match (numbered(line), line.strip_prefix("- ")) {
            (Some(item), _) => (Some("ol"), item),
            (None, Some(item)) => (Some("ul"), item),
            (None, None) => (None, line),
        };
        if open != list {
            if let Some(tag) = open {
                html.push_str(&format!("</{tag}>"));
            }
            if let Some(tag) = list {
                html.push_str(&format!("<{tag}>"));
            }
            open = list;
        }
        if list.is_some() {
            html.push_str(&format!("<li>{}</li>", inline(item)));
        } else if let Some(h) = line.strip_prefix("## ") {
            html.push_str(&format!("<h2>{}</h2>", escape(h)));
        } else if let Some(names) = line.strip_prefix("Related:") {
            related = names
                .split(',')
                .filter_map(|s| index(lang).into_iter().find(|(slug, _)| *slug == s.trim()))
                .collect::<Vec<_>>();
        } else {
            html.push_str(&format!("<p>{}</p>", inline(line)));
        }
    }
    if let Some(tag) = open {
        html.push_str(&format!("</{tag}>"));
    }
    if !related.is_empty() {
        let heading = escape(lang.ui().help_related);
        html.push_str(&format!(
            "<nav class=\"related\" aria-label=\"{heading}\"><h2>{heading}</h2>{}</nav>",
            links(&related)
        ));
    }
    Some(Doc {
        title: title(text),
        body_html: format!("<div data-article=\"{slug}\">{html}</div>"),
    })
}

/// `"2. Choose…"` → `"Choose…"`.
fn numbered(line: &str) -> Option<&str> {
    let (n, rest) = line.split_once(". ")?;
    n.chars().all(|c| c.is_ascii_digit()).then_some(rest)
}

/// Escaped text with `**labels**` in `<strong>`.
fn inline(text: &str) -> String {
    text.split("**")
        .enumerate()
        .map(|(i, t)| {
            if i % 2 == 1 {
                format!("<strong>{}</strong>", escape(t))
            } else {
                escape(t)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_article_exists_in_both_languages_with_its_links() {
        let slugs = |l: Lang| sources(l).iter().map(|(s, _)| *s).collect::<Vec<_>>();
        assert_eq!(slugs(Lang::En), slugs(Lang::Fr));
        assert_eq!(slugs(Lang::En).len(), 10);
        for lang in Lang::ALL {
            for (slug, text) in sources(lang) {
                let a = article(lang, slug).unwrap();
                assert!(!a.title.is_empty(), "{slug} has no title");
                assert!(a.body_html.len() > 200, "{slug} is empty");
                // Balanced: every list closed, nothing unescaped.
                for tag in ["ol", "p", "h2", "li", "strong"] {
                    assert_eq!(
                        a.body_html.matches(&format!("<{tag}>")).count(),
                        a.body_html.matches(&format!("</{tag}>")).count(),
                        "{slug}: <{tag}>"
                    );
                }
                let named = text.lines().last().unwrap_or_default().split(',').count();
                let related = a
                    .body_html
                    .split("class=\"related\"")
                    .nth(1)
                    .unwrap_or_default();
                assert_eq!(
                    related.matches("<li>").count(),
                    named,
                    "{slug}: a related slug is unknown"
                );
                // Every bold run closes.
                for line in text.lines() {
                    assert_eq!(line.matches("**").count() % 2, 0, "{slug}: {line}");
                }
            }
        }
    }

    /// The articles use the labels the screens show, in each language.
    #[test]
    fn articles_name_the_real_labels() {
        for lang in Lang::ALL {
            let t = lang.ui();
            let text = |slug: &str| sources(lang).iter().find(|(s, _)| *s == slug).unwrap().1;
            for label in [
                t.subscribe_now,
                t.remove_pending_cancellation,
                t.yes_remove_cancellation,
                t.close,
                t.reactivate,
                t.place_order,
                t.contact_support,
            ] {
                assert!(
                    text("reactivate").contains(&format!("**{label}**")),
                    "{lang:?}: {label}"
                );
            }
            for label in [t.card_number, t.expiry, t.cvc, t.change] {
                assert!(text("payment-method").contains(label), "{lang:?}: {label}");
            }
            for label in [t.export_csv, t.download_pdf, t.older_invoices] {
                assert!(text("invoice-history").contains(label), "{lang:?}: {label}");
            }
            for label in [
                t.level,
                t.seats,
                t.billing_frequency,
                t.add_to_cart,
                t.modify_order,
            ] {
                assert!(
                    text("modify-subscription").contains(label),
                    "{lang:?}: {label}"
                );
            }
            assert!(text("corporate-portal").contains(t.pay_now));
            assert!(text("sign-in").contains(t.go_to_billing));
        }
    }
}

#[cfg(test)]
mod escaping {
    #[test]
    fn article_text_is_escaped() {
        assert_eq!(
            super::inline("a <b> & **<c>**"),
            "a &lt;b&gt; &amp; <strong>&lt;c&gt;</strong>"
        );
    }
}
