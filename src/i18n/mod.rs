//! Languages: English (default) and French.
//!
//! Every text lives in one [`Texts`] struct with one constant per language,
//! so a key missing in one language is a compile error. Amounts and dates
//! are formatted per language here, for pages, emails, PDFs and CSV alike.

mod en;
mod fr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::billing::Money;

pub use texts::Texts;
mod texts;

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
                self.texts().months[d.month0() as usize],
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
