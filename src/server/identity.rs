//! Who sells and how the portal looks to its customers, from the
//! configuration (`seller.*`, `brand.*`, `email.*`): printed on invoices
//! and mandates, shown in the pages, signed under in emails.

use crate::billing::tax::{Country, VatNumber};
use crate::domain::Email;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seller {
    pub legal_name: String,
    /// The postal address on one line.
    pub address: String,
    pub country: Country,
    pub vat_number: Option<VatNumber>,
    /// SIREN, HRB, company number…, as it should be printed.
    pub registration: Option<String>,
    /// The invoice numbers' series: `PREFIX-000001`.
    pub invoice_prefix: String,
}

impl Seller {
    /// The seller's block of an invoice, copied onto it at issue: a later
    /// change of address leaves issued invoices as they were.
    pub fn details(&self) -> String {
        let mut s = format!(
            "{}, {}.",
            self.legal_name,
            self.address.trim_end_matches('.')
        );
        if let Some(v) = &self.vat_number {
            s.push_str(&format!(" VAT {}.", v.as_str()));
        }
        if let Some(r) = &self.registration {
            s.push_str(&format!(" {}.", r.trim_end_matches('.')));
        }
        s
    }
}

/// An image for the pages' header, checked at start.
#[derive(Clone, PartialEq, Eq)]
pub struct Logo {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

impl std::fmt::Debug for Logo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Logo({}, {} bytes)", self.content_type, self.bytes.len())
    }
}

impl Logo {
    pub const MAX_BYTES: usize = 512 * 1024;

    /// PNG, JPEG or SVG, told by their first bytes (not the file's name).
    pub fn parse(bytes: Vec<u8>) -> Result<Logo, String> {
        if bytes.len() > Self::MAX_BYTES {
            return Err(format!("is {} KB; at most 512 KB", bytes.len() / 1024));
        }
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
        let content_type = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else if head.contains("<svg") {
            "image/svg+xml"
        } else {
            return Err("is not a PNG, JPEG or SVG image".into());
        };
        Ok(Logo {
            bytes,
            content_type,
        })
    }
}

/// `#rrggbb`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Colour(String);

impl Colour {
    pub fn parse(text: &str) -> Result<Colour, String> {
        let t = text.trim();
        match t.strip_prefix('#') {
            Some(hex) if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(Colour(t.to_ascii_lowercase()))
            }
            _ => Err(format!("{text:?} is not a colour written #rrggbb")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub seller: Seller,
    pub product_name: String,
    pub colour: Colour,
    pub logo: Option<Logo>,
    /// The From of every email, `Name <address>` (checked at start).
    pub from: String,
    pub support: Email,
    pub sales: Email,
    /// Where customers reach the billing center, without a final slash:
    /// the start of every link in an email.
    pub public_url: String,
}

impl Identity {
    /// `path` as an absolute link for an email.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// The stylesheet that gives the pages the brand colour, served at
    /// `/brand.css` (a file, so the Content Security Policy stays strict).
    pub fn stylesheet(&self) -> String {
        format!(":root {{ --brand: {}; }}\n", self.colour.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seller_details_read_as_one_line() {
        let s = Seller {
            legal_name: "Acme GmbH".into(),
            address: "Unter den Linden 1, 10117 Berlin, Germany".into(),
            country: Country::parse("DE").unwrap(),
            vat_number: Some(VatNumber::parse("DE123456789").unwrap()),
            registration: Some("HRB 12345".into()),
            invoice_prefix: "AC".into(),
        };
        assert_eq!(
            s.details(),
            "Acme GmbH, Unter den Linden 1, 10117 Berlin, Germany. VAT DE123456789. HRB 12345."
        );
    }

    #[test]
    fn logos_are_told_by_their_bytes_and_colours_by_their_form() {
        assert_eq!(
            Logo::parse(b"\x89PNG\r\n\x1a\nrest".to_vec())
                .unwrap()
                .content_type,
            "image/png"
        );
        assert_eq!(
            Logo::parse(
                b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec()
            )
            .unwrap()
            .content_type,
            "image/svg+xml"
        );
        assert!(Logo::parse(b"GIF89a".to_vec()).is_err());
        assert!(Logo::parse(vec![0xFF; Logo::MAX_BYTES + 1]).is_err());
        assert_eq!(Colour::parse("#0B5CD5").unwrap().as_str(), "#0b5cd5");
        for bad in ["0b5cd5", "#0b5cd", "#0b5cdz", "blue"] {
            assert!(Colour::parse(bad).is_err(), "{bad}");
        }
    }
}
