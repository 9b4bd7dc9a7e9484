//! A billing address, as printed on invoices.

use serde::{Deserialize, Serialize};

/// Lines, postcode and city as the customer writes them (each trimmed, at
/// most 200 characters); the country is the account's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub line1: String,
    pub line2: String,
    pub postcode: String,
    pub city: String,
}

impl Address {
    pub fn parse(line1: &str, line2: &str, postcode: &str, city: &str) -> Result<Self, String> {
        use super::text::{LineError, line};
        let field = |name: &str, v: &str| match line(v, 200) {
            Ok(v) => Ok(v.to_string()),
            Err(LineError::TooLong) => {
                Err(format!("The {name} is too long (200 characters at most)."))
            }
            Err(LineError::ControlCharacter) => {
                Err(format!("The {name} contains a control character."))
            }
        };
        Ok(Address {
            line1: field("first address line", line1)?,
            line2: field("second address line", line2)?,
            postcode: field("postcode", postcode)?,
            city: field("city", city)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_trimmed_and_refuses_control_characters_and_huge_lines() {
        let a = Address::parse(" 1 rue de la Paix ", "", "75002", "Paris").unwrap();
        assert_eq!(a.line1, "1 rue de la Paix");
        assert!(Address::parse("a\nb", "", "", "").is_err());
        assert!(Address::parse(&"x".repeat(201), "", "", "").is_err());
    }
}
