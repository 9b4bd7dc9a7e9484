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

/// The articles served: the built-in ones, replaced or added to by the
/// files of the configuration's `help_dir` (`DIR/en/SLUG.md`,
/// `DIR/fr/SLUG.md`), read once at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Library {
    /// `(slug, text)` per language, in [`Lang::ALL`]'s order.
    articles: Vec<Vec<(String, String)>>,
}

impl Library {
    pub fn builtin() -> Library {
        Library {
            articles: Lang::ALL
                .iter()
                .map(|l| {
                    sources(*l)
                        .iter()
                        .map(|(s, t)| (s.to_string(), t.to_string()))
                        .collect()
                })
                .collect(),
        }
    }

    /// The built-in articles with those of `dir`; a file that is not an
    /// article (no `# Title` first line, a slug other than lowercase
    /// letters, digits and dashes) is an error naming it.
    pub fn with_overrides(dir: &std::path::Path) -> Result<Library, String> {
        let mut lib = Library::builtin();
        for (i, lang) in Lang::ALL.iter().enumerate() {
            let folder = dir.join(lang.code());
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            files.sort();
            for path in files
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "md"))
            {
                let bad = |why: &str| format!("{}: {why}", path.display());
                let slug = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .filter(|s| {
                        !s.is_empty()
                            && s.bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    })
                    .ok_or_else(|| {
                        bad("the name must be lowercase letters, digits and dashes, then .md")
                    })?
                    .to_string();
                let text = std::fs::read_to_string(&path).map_err(|e| bad(&e.to_string()))?;
                if title(&text).is_empty() {
                    return Err(bad("the first line must be the title, \"# Title\""));
                }
                let list = &mut lib.articles[i];
                match list.iter_mut().find(|(s, _)| *s == slug) {
                    Some(entry) => entry.1 = text,
                    None => list.push((slug, text)),
                }
            }
        }
        Ok(lib)
    }

    fn of(&self, lang: Lang) -> &[(String, String)] {
        let i = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0);
        &self.articles[i]
    }

    /// `(slug, title)` of every article.
    pub fn index(&self, lang: Lang) -> Vec<(&str, String)> {
        self.of(lang)
            .iter()
            .map(|(slug, text)| (slug.as_str(), title(text)))
            .collect()
    }

    /// The list of articles.
    pub fn index_page(&self, lang: Lang) -> Doc {
        let t = lang.ui();
        Doc {
            title: t.help_title.into(),
            body_html: format!(
                "<p>{}</p>{}",
                escape(t.help_intro),
                links(&self.index(lang))
            ),
        }
    }

    pub fn article(&self, lang: Lang, slug: &str) -> Option<Doc> {
        let (slug, text) = self.of(lang).iter().find(|(s, _)| *s == slug)?;
        Some(render(self, lang, slug, text))
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

fn render(lib: &Library, lang: Lang, slug: &str, text: &str) -> Doc {
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
                .filter_map(|s| {
                    lib.index(lang)
                        .into_iter()
                        .find(|(slug, _)| *slug == s.trim())
                })
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
    Doc {
        title: title(text),
        body_html: format!("<div data-article=\"{slug}\">{html}</div>"),
    }
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
                let a = Library::builtin().article(lang, slug).unwrap();
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
    use super::*;

    #[test]
    fn article_text_is_escaped() {
        assert_eq!(
            super::inline("a <b> & **<c>**"),
            "a &lt;b&gt; &amp; <strong>&lt;c&gt;</strong>"
        );
    }

    #[test]
    fn a_help_dir_replaces_and_adds_articles_and_names_a_bad_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("en")).unwrap();
        std::fs::write(
            dir.path().join("en/sign-in.md"),
            "# Signing in at Acme\n\nUse your Acme SSO.\n\nRelated: refunds",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("en/refunds.md"),
            "# Refunds\n\nWithin 14 days.",
        )
        .unwrap();
        let lib = Library::with_overrides(dir.path()).unwrap();
        let a = lib.article(Lang::En, "sign-in").unwrap();
        assert_eq!(a.title, "Signing in at Acme");
        assert!(a.body_html.contains("href=\"/help/refunds\""));
        assert!(lib.index_page(Lang::En).body_html.contains("Refunds"));
        // French keeps the built-in article.
        assert_ne!(
            lib.article(Lang::Fr, "sign-in").unwrap().title,
            "Signing in at Acme"
        );
        assert!(lib.article(Lang::Fr, "refunds").is_none());

        std::fs::write(dir.path().join("en/Bad Name.md"), "# X").unwrap();
        let e = Library::with_overrides(dir.path()).unwrap_err();
        assert!(e.contains("Bad Name.md"), "{e}");
        std::fs::remove_file(dir.path().join("en/Bad Name.md")).unwrap();
        std::fs::write(dir.path().join("en/untitled.md"), "no title").unwrap();
        let e = Library::with_overrides(dir.path()).unwrap_err();
        assert!(e.contains("untitled.md") && e.contains("title"), "{e}");
    }
}
