use serde::{Deserialize, Serialize};

/// A plausible email address, lower-cased, at most 254 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// Deserialized only through [`Email::parse`].
impl TryFrom<String> for Email {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Email::parse(&text)
    }
}

impl From<Email> for String {
    fn from(v: Email) -> String {
        v.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Email {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("Enter your email address.".into());
        }
        if t.len() > 254 {
            return Err("That email address is too long.".into());
        }
        let Some((local, domain)) = t.split_once('@') else {
            return Err("Enter a valid email address, like name@example.com.".into());
        };
        let ok = !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !t.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err("Enter a valid email address, like name@example.com.".into());
        }
        Ok(Email(t.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalizes() {
        assert_eq!(
            Email::parse(" Trial@Demo.test ").unwrap().as_str(),
            "trial@demo.test"
        );
        for bad in ["", "a", "a@b", "@b.c", "a@.c", "a b@c.d", "a@b@c.d"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@x.io", "a".repeat(250))).is_err());
    }
}
