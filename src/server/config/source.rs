//! Where each setting comes from: the environment variable of its key when
//! set, else `billing-center.toml`, else its default. Every problem is one
//! [`ConfigError`] naming the file (or the variable), the key and why.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::keys::{self, Key, Kind};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    Env(&'static str),
    Default,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", place(origin, key))]
pub struct ConfigError {
    pub origin: Origin,
    /// The key (`seller.country`); empty for a file that does not parse.
    pub key: String,
    pub reason: String,
}

fn place(origin: &Origin, key: &str) -> String {
    match (origin, key) {
        (Origin::File(f), "") => f.display().to_string(),
        (Origin::File(f), k) => format!("{}: {k}", f.display()),
        (Origin::Env(v), _) => (*v).to_string(),
        (Origin::Default, k) => format!("default of {k}"),
    }
}

/// One setting's text and where it came from.
#[derive(Clone, Debug)]
pub struct Value {
    pub text: String,
    pub origin: Origin,
    pub key: &'static Key,
}

impl Value {
    pub fn error(&self, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            origin: self.origin.clone(),
            key: self.key.name.to_string(),
            reason: reason.into(),
        }
    }

    /// A path: relative to the configuration file's folder when the file
    /// set it, else to the working directory.
    pub fn path(&self) -> PathBuf {
        let p = PathBuf::from(self.text.trim());
        match &self.origin {
            Origin::File(f) if p.is_relative() => f.parent().unwrap_or(Path::new("")).join(p),
            _ => p,
        }
    }

    /// A list: comma separated in the environment, joined the same way from
    /// the file's array.
    pub fn items(&self) -> Vec<&str> {
        self.text
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .collect()
    }
}

#[derive(Debug)]
pub struct Source {
    pub file: Option<PathBuf>,
    values: BTreeMap<&'static str, Value>,
}

impl Source {
    /// Reads `file` (when given) and the environment through `env`, which
    /// the tests replace; an unknown key or a value of the wrong type is an
    /// error, so that a typo does not silently leave a default in place.
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Source, ConfigError> {
        let mut values = BTreeMap::new();
        if let Some(path) = file {
            let origin = Origin::File(path.to_path_buf());
            let whole = |reason: String| ConfigError {
                origin: origin.clone(),
                key: String::new(),
                reason,
            };
            let text = std::fs::read_to_string(path).map_err(|e| whole(e.to_string()))?;
            let table: toml::Table = text
                .parse()
                .map_err(|e: toml::de::Error| whole(e.message().to_string()))?;
            flatten(&table, "", &mut |name, value| {
                let error = |reason: String| ConfigError {
                    origin: origin.clone(),
                    key: name.to_string(),
                    reason,
                };
                let key = keys::find(name).ok_or_else(|| {
                    error("unknown key (billing-center config example lists them)".into())
                })?;
                let text = scalar(key.kind, value).map_err(error)?;
                values.insert(
                    key.name,
                    Value {
                        text,
                        origin: origin.clone(),
                        key,
                    },
                );
                Ok(())
            })?;
        }
        for key in keys::KEYS {
            if let Some(text) = env(key.env).filter(|v| !v.trim().is_empty()) {
                values.insert(
                    key.name,
                    Value {
                        text,
                        origin: Origin::Env(key.env),
                        key,
                    },
                );
            }
        }
        Ok(Source {
            file: file.map(Path::to_path_buf),
            values,
        })
    }

    /// The value of `name` set by the file or the environment.
    pub fn set(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// The value of `name`, its default when unset; `None` when it has none.
    pub fn get(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.values.get(name) {
            return Some(v.clone());
        }
        let key = keys::find(name).expect("a key of the table");
        (!key.default.is_empty()).then(|| Value {
            text: key.default.to_string(),
            origin: Origin::Default,
            key,
        })
    }
}

/// Calls `each` with every leaf of the file as `table.key`.
fn flatten(
    table: &toml::Table,
    prefix: &str,
    each: &mut dyn FnMut(&str, &toml::Value) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    for (name, value) in table {
        let full = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            // A table is a section, unless the table itself is unknown.
            toml::Value::Table(t) if keys::find(&full).is_none() => flatten(t, &full, each)?,
            v => each(&full, v)?,
        }
    }
    Ok(())
}

fn scalar(kind: Kind, value: &toml::Value) -> Result<String, String> {
    match (kind, value) {
        (Kind::Text, toml::Value::String(s)) => Ok(s.clone()),
        (Kind::Number, toml::Value::Integer(n)) if *n >= 0 => Ok(n.to_string()),
        (Kind::Number, toml::Value::Integer(_)) => Err("must not be negative".into()),
        (Kind::Bool, toml::Value::Boolean(b)) => Ok(b.to_string()),
        (Kind::List, toml::Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                toml::Value::String(s) if !s.contains(',') => Ok(s.trim().to_string()),
                _ => Err("must be a list of strings without commas".to_string()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.join(",")),
        (Kind::List, toml::Value::String(s)) => Ok(s.clone()),
        (Kind::Text, _) => Err("must be a string (in quotes)".into()),
        (Kind::Number, _) => Err("must be a whole number".into()),
        (Kind::Bool, _) => Err("must be true or false".into()),
        (Kind::List, _) => Err("must be a list of strings, e.g. [\"a\", \"b\"]".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("billing-center.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn the_environment_wins_over_the_file_which_wins_over_the_default() {
        let (_d, path) = file("[seller]\nlegal_name = \"Acme SA\"\ncountry = \"DE\"\n");
        let env = |k: &str| (k == "BC_SELLER_COUNTRY").then(|| "BE".to_string());
        let s = Source::load(Some(&path), &env).unwrap();
        assert_eq!(s.get("seller.legal_name").unwrap().text, "Acme SA");
        let country = s.get("seller.country").unwrap();
        assert_eq!(
            (country.text.as_str(), country.origin),
            ("BE", Origin::Env("BC_SELLER_COUNTRY"))
        );
        assert_eq!(
            s.get("seller.invoice_prefix").unwrap().origin,
            Origin::Default
        );
        assert!(s.get("smtp.url").is_none());
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_file_and_the_key() {
        let (_d, path) = file("[seller]\nlegal_nme = \"Acme\"\n");
        let e = Source::load(Some(&path), &|_| None).unwrap_err();
        assert_eq!(e.key, "seller.legal_nme");
        assert!(e.to_string().starts_with(&format!(
            "{}: seller.legal_nme: unknown key",
            path.display()
        )));

        let (_d, path) = file("[payments]\nconcurrency = \"eight\"\n");
        let e = Source::load(Some(&path), &|_| None).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: payments.concurrency: must be a whole number",
                path.display()
            )
        );

        let (_d, path) = file("[seller\nlegal_name = 1");
        let e = Source::load(Some(&path), &|_| None).unwrap_err();
        assert!(e.key.is_empty() && e.to_string().starts_with(&path.display().to_string()));
    }

    #[test]
    fn lists_come_from_arrays_or_commas() {
        let (_d, path) = file("[security]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n");
        let s = Source::load(Some(&path), &|_| None).unwrap();
        assert_eq!(
            s.get("security.trusted_proxies").unwrap().items(),
            ["10.0.0.0/8", "::1"]
        );
        let env = |k: &str| {
            (k == "BC_RETURN_ORIGINS").then(|| "https://a.example, https://b.example".to_string())
        };
        let s = Source::load(None, &env).unwrap();
        assert_eq!(
            s.get("security.return_origins").unwrap().items(),
            ["https://a.example", "https://b.example"]
        );
    }
}
