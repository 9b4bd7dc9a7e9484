//! Languages: English (default) and French.
//!
//! Every text lives in one [`Texts`] struct with one constant per language,
//! so a key missing in one language is a compile error. Amounts and dates
//! are formatted per language here, for pages, emails, PDFs and CSV alike.

mod en;
pub mod errors;
mod fr;
mod ui;
#[cfg(feature = "ssr")]
mod ui_en;
#[cfg(feature = "ssr")]
mod ui_fr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::billing::Money;

pub use texts::Texts;
pub use ui::{Ui, status_label};
mod texts;

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The cookie that remembers the chosen language.
pub const COOKIE: &str = "bc_lang";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// `"fr"`, `"fr-CA"`, `"FR"` → French; anything else is not a language
    /// we have.
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }

    /// The best of our languages for an `Accept-Language` header, by q-value;
    /// English when none matches.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(u32, Lang)> = None;
        for part in header.split(',') {
            let mut fields = part.split(';');
            let Some(lang) = fields.next().and_then(Lang::parse) else {
                continue;
            };
            // q in thousandths; integers keep floats out.
            let q = fields
                .find_map(|f| f.trim().strip_prefix("q="))
                .map(parse_q)
                .unwrap_or(1000);
            if q > 0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &en::EN,
            Lang::Fr => &fr::FR,
        }
    }

    /// The pages' texts. Server only: the browser reads its language's
    /// texts from the page (`ui::i18n`), so neither table is in its bundle.
    #[cfg(feature = "ssr")]
    pub fn ui(self) -> &'static Ui {
        match self {
            Lang::En => &ui_en::UI_EN,
            Lang::Fr => &ui_fr::UI_FR,
        }
    }

    /// The name of the language in itself, for the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
        }
    }

    /// `€1,234.56` in English, `1 234,56 €` in French (no-break spaces).
    pub fn money(self, m: Money) -> String {
        match self {
            Lang::En => m.to_string(),
            Lang::Fr => {
                let plain = m.plain();
                let (sign, digits) = match plain.strip_prefix('-') {
                    Some(rest) => ("-", rest),
                    None => ("", plain.as_str()),
                };
                let (int, frac) = match digits.split_once('.') {
                    Some((i, f)) => (i, Some(f)),
                    None => (digits, None),
                };
                let mut out = String::from(sign);
                for (i, ch) in int.chars().enumerate() {
                    if i > 0 && (int.len() - i) % 3 == 0 {
                        out.push('\u{a0}');
                    }
                    out.push(ch);
                }
                if let Some(f) = frac {
                    out.push(',');
                    out.push_str(f);
                }
                out.push('\u{a0}');
                out.push_str(m.currency().symbol());
                out
            }
        }
    }

    /// `Nov 26, 2026` in English, `26/11/2026` in French.
    pub fn date(self, d: NaiveDate) -> String {
        match self {
            Lang::En => format!(
                "{} {}, {}",
                MONTHS_EN[d.month0() as usize],
                d.day(),
                d.year()
            ),
            Lang::Fr => format!("{:02}/{:02}/{}", d.day(), d.month(), d.year()),
        }
    }

    /// A percentage such as `20%` / `20 %`.
    pub fn percent(self, fraction: rust_decimal::Decimal) -> String {
        let p = (fraction * rust_decimal::Decimal::from(100)).normalize();
        match self {
            Lang::En => format!("{p}%"),
            Lang::Fr => format!("{}\u{a0}%", p.to_string().replace('.', ",")),
        }
    }
}

fn parse_q(text: &str) -> u32 {
    // "0.8" → 800, "1" → 1000; anything unparsable counts as 0 (ignored).
    let text = text.trim();
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let Ok(int) = int.parse::<u32>() else {
        return 0;
    };
    let mut frac: String = frac.chars().take(3).collect();
    while frac.len() < 3 {
        frac.push('0');
    }
    (int * 1000 + frac.parse::<u32>().unwrap_or(0)).min(1000)
}

/// Fills `{name}` placeholders; a missing value leaves the placeholder
/// visible rather than panicking.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::Currency;

    #[test]
    fn amounts_and_dates_per_language() {
        let m = Money::from_minor(123456, Currency::Eur);
        assert_eq!(Lang::En.money(m), "€1,234.56");
        assert_eq!(Lang::Fr.money(m), "1\u{a0}234,56\u{a0}€");
        assert_eq!(
            Lang::Fr.money(Money::from_minor(-500, Currency::Eur)),
            "-5,00\u{a0}€"
        );
        let d = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(Lang::En.date(d), "Nov 26, 2026");
        assert_eq!(Lang::Fr.date(d), "26/11/2026");
        assert_eq!(
            Lang::Fr.percent(rust_decimal::Decimal::new(55, 3)),
            "5,5\u{a0}%"
        );
    }

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(
            Lang::from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"),
            Lang::Fr
        );
        assert_eq!(
            Lang::from_accept_language("de-DE,en;q=0.5,fr;q=0.7"),
            Lang::Fr
        );
        assert_eq!(Lang::from_accept_language("de-DE"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::from_accept_language("fr;q=0,en"), Lang::En);
        assert_eq!(Lang::parse("FR_ca"), Some(Lang::Fr));
    }

    #[test]
    fn page_texts_travel_as_values_and_come_back_whole() {
        for lang in Lang::ALL {
            let values: Vec<String> = lang.ui().values().iter().map(|s| s.to_string()).collect();
            let back = Ui::from_values(values.clone()).unwrap();
            assert_eq!(back.all(), lang.ui().all());
            // One too few or too many is refused, not misaligned.
            assert!(Ui::from_values(values[1..].to_vec()).is_none());
            let mut more = values;
            more.push("extra".into());
            assert!(Ui::from_values(more).is_none());
        }
    }

    #[test]
    fn every_page_text_is_translated() {
        let en = Lang::En.ui().all();
        let fr = Lang::Fr.ui().all();
        assert_eq!(en.len(), fr.len());
        // Words that are the same in both languages.
        let allowed = ["iban", "pdf", "pdf_of", "message", "date", "description"];
        for ((key, e), (_, f)) in en.iter().zip(fr.iter()) {
            assert!(!e.trim().is_empty(), "empty English text for {key}");
            assert!(!f.trim().is_empty(), "empty French text for {key}");
            assert!(
                e != f || allowed.contains(key),
                "{key} is not translated into French"
            );
            // The same placeholders on both sides.
            let holes = |t: &str| {
                let mut h: Vec<String> = t
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                    .collect();
                h.sort();
                h
            };
            assert_eq!(holes(e), holes(f), "placeholders of {key}");
        }
        // The labels users and tests rely on (issue 6's table), exactly.
        let (en, fr) = (Lang::En.ui(), Lang::Fr.ui());
        for (e, f, want_e, want_f) in [
            (
                en.go_to_billing,
                fr.go_to_billing,
                "Go to Billing",
                "Accéder à la facturation",
            ),
            (
                en.subscribe_now,
                fr.subscribe_now,
                "Subscribe now",
                "S'abonner maintenant",
            ),
            (en.reactivate, fr.reactivate, "Reactivate", "Réactiver"),
            (
                en.pending_cancellation,
                fr.pending_cancellation,
                "Pending cancellation",
                "Annulation en attente",
            ),
            (
                en.remove_pending_cancellation,
                fr.remove_pending_cancellation,
                "Remove pending cancellation",
                "Retirer l'annulation en attente",
            ),
            (
                en.yes_remove_cancellation,
                fr.yes_remove_cancellation,
                "Yes, remove cancellation",
                "Oui, retirer l'annulation",
            ),
            (en.close, fr.close, "Close", "Fermer"),
            (en.modify, fr.modify, "Modify", "Modifier"),
            (
                en.place_order,
                fr.place_order,
                "Place order",
                "Passer la commande",
            ),
            (
                en.add_to_cart,
                fr.add_to_cart,
                "Add to cart",
                "Ajouter au panier",
            ),
            (
                en.modify_order,
                fr.modify_order,
                "Modify order",
                "Modifier la commande",
            ),
            (
                en.contact_support,
                fr.contact_support,
                "Contact support",
                "Contacter l'assistance",
            ),
            (
                en.invoices_title,
                fr.invoices_title,
                "Invoice history",
                "Historique des factures",
            ),
            (en.email, fr.email, "Email", "E-mail"),
            (en.password, fr.password, "Password", "Mot de passe"),
            (en.sign_in, fr.sign_in, "Sign in", "Se connecter"),
            (en.sign_out, fr.sign_out, "Sign out", "Se déconnecter"),
            (
                en.add_a_product,
                fr.add_a_product,
                "Add a product",
                "Ajouter un produit",
            ),
            (en.remove, fr.remove, "Remove", "Supprimer"),
            (en.change, fr.change, "Change", "Changer"),
            (en.pay_now, fr.pay_now, "Pay now", "Payer maintenant"),
            (
                en.export_csv,
                fr.export_csv,
                "Export CSV",
                "Exporter en CSV",
            ),
            (en.level, fr.level, "Level", "Niveau"),
            (en.seats, fr.seats, "Seats", "Postes"),
            (
                en.billing_frequency,
                fr.billing_frequency,
                "Billing frequency",
                "Fréquence de facturation",
            ),
            (en.monthly, fr.monthly, "Monthly", "Mensuelle"),
            (en.annual, fr.annual, "Annual", "Annuelle"),
            (
                en.card_number,
                fr.card_number,
                "Card number",
                "Numéro de carte",
            ),
            (
                en.expiry,
                fr.expiry,
                "Expiry date (MM/YY)",
                "Date d'expiration (MM/AA)",
            ),
            (en.cvc, fr.cvc, "CVC", "Cryptogramme"),
        ] {
            assert_eq!((e, f), (want_e, want_f));
        }
    }

    #[test]
    fn every_text_is_translated() {
        // The struct makes a missing key a compile error; this catches a key
        // left empty or copied untranslated where the languages differ.
        let en = Lang::En.texts().all();
        let fr = Lang::Fr.texts().all();
        assert_eq!(en.len(), fr.len());
        for ((key, e), (_, f)) in en.iter().zip(fr.iter()) {
            assert!(!e.trim().is_empty(), "empty English text for {key}");
            assert!(!f.trim().is_empty(), "empty French text for {key}");
        }
        let same: Vec<_> = en
            .iter()
            .zip(fr.iter())
            .filter(|((_, e), (_, f))| e == f)
            .map(|((k, _), _)| *k)
            .collect();
        // Words that are the same in both languages.
        let allowed = ["pdf_page", "csv_date"];
        for k in same {
            assert!(allowed.contains(&k), "{k} is not translated into French");
        }
    }
}
