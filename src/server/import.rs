//! `billing-center account import FILE.csv`: accounts and their billing
//! contacts from a CSV file, all or nothing. Every bad row is named with
//! its line and field before anything is written.
//!
//! The file: UTF-8, comma-separated, a header line naming the columns in
//! any order. `name`, `country`, `contact_email` and `contact_name` are
//! required; the others may be left out or empty: `kind` (online,
//! corporate), `vat_number`, `time_zone`, `language`, `address_line1`,
//! `address_line2`, `postcode`, `city`, `external_id`,
//! `representative_name`, `representative_email`, `representative_phone`.

use std::collections::HashMap;

use super::accounts::{AccountFields, FieldError, ValidAccount};
use super::state::AppState;
use crate::billing::Currency;
use crate::db::accounts;
use crate::domain::Email;

pub const REQUIRED: [&str; 4] = ["name", "country", "contact_email", "contact_name"];
pub const OPTIONAL: [&str; 12] = [
    "kind",
    "vat_number",
    "time_zone",
    "language",
    "address_line1",
    "address_line2",
    "postcode",
    "city",
    "external_id",
    "representative_name",
    "representative_email",
    "representative_phone",
];

/// One problem, where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            // A row typed on the command line has no line.
            0 => write!(f, "{}: {}", self.field, self.message),
            line => write!(f, "line {line}, {}: {}", self.field, self.message),
        }
    }
}

/// A row that keeps every rule.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportRow {
    pub line: u64,
    pub account: ValidAccount,
    pub contact_email: Email,
    pub contact_name: String,
}

/// Reads and checks the whole file; every error found, or every row.
pub fn parse(text: &str, currency: Currency) -> Result<Vec<ImportRow>, Vec<RowError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let at = |line: u64, field: &str, message: String| RowError {
        line,
        field: field.to_string(),
        message,
    };
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
        Err(e) => return Err(vec![at(1, "header", format!("not CSV ({e})"))]),
    };
    let mut errors = Vec::new();
    for c in &headers {
        if !REQUIRED.contains(&c.as_str()) && !OPTIONAL.contains(&c.as_str()) {
            errors.push(at(
                1,
                c,
                "is not a column of the import (see --help)".into(),
            ));
        }
    }
    for c in REQUIRED {
        if !headers.iter().any(|h| h == c) {
            errors.push(at(1, c, "this required column is missing".into()));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rows = Vec::new();
    let mut emails: HashMap<String, u64> = HashMap::new();
    let mut external_ids: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(at(
                    line,
                    "row",
                    format!("not a CSV row of the header's columns ({e})"),
                ));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let cell = |name: &str| -> Option<String> {
            let i = headers.iter().position(|h| h == name)?;
            record.get(i).map(str::to_string)
        };
        let opt = |name: &str| cell(name).filter(|v| !v.trim().is_empty());
        let representative = match (
            opt("representative_name"),
            opt("representative_email"),
            opt("representative_phone"),
        ) {
            (None, None, None) => None,
            (n, e, p) => Some([
                n.unwrap_or_default(),
                e.unwrap_or_default(),
                p.unwrap_or_default(),
            ]),
        };
        let fields = AccountFields {
            name: cell("name").unwrap_or_default(),
            country: cell("country").unwrap_or_default(),
            kind: opt("kind"),
            vat_number: opt("vat_number"),
            currency: None,
            time_zone: opt("time_zone"),
            language: opt("language"),
            address: [
                cell("address_line1").unwrap_or_default(),
                cell("address_line2").unwrap_or_default(),
                cell("postcode").unwrap_or_default(),
                cell("city").unwrap_or_default(),
            ],
            representative,
            external_id: opt("external_id"),
        };
        let field_error = |e: FieldError| at(line, &csv_column(&e.field), e.message);
        let account = fields.validate(currency).map_err(field_error);
        let email = Email::parse(&cell("contact_email").unwrap_or_default())
            .map_err(|e| at(line, "contact_email", e.to_string()));
        let name = super::accounts::text(
            "contact_name",
            &cell("contact_name").unwrap_or_default(),
            200,
        )
        .map_err(field_error)
        .and_then(|n| n.ok_or_else(|| at(line, "contact_name", "must not be empty".into())));
        match (account, email, name) {
            (Ok(account), Ok(email), Ok(name)) => {
                if let Some(first) = emails.insert(email.as_str().to_string(), line) {
                    errors.push(at(
                        line,
                        "contact_email",
                        format!("is also on line {first}"),
                    ));
                }
                if let Some(e) = &account.external_id
                    && let Some(first) = external_ids.insert(e.clone(), line)
                {
                    errors.push(at(line, "external_id", format!("is also on line {first}")));
                }
                rows.push(ImportRow {
                    line,
                    account,
                    contact_email: email,
                    contact_name: name,
                });
            }
            (a, e, n) => errors.extend([a.err(), e.err(), n.err()].into_iter().flatten()),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(at(2, "row", "the file has no account".into()));
    }
    match errors.is_empty() {
        true => Ok(rows),
        false => Err(errors),
    }
}

/// The CSV column a rule's field is read from.
fn csv_column(field: &str) -> String {
    match field {
        "address" => "address_line1".into(),
        f => f.replace("representative.", "representative_"),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} problem(s), nothing imported", .0.len())]
    Rows(Vec<RowError>),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

/// Writes every row in one transaction, with the contact of each as its
/// billing contact (no password: invited, or signed in by portal link).
/// Emails or external ids the database already has are reported like the
/// file's own problems, and nothing is written. With `invite`, each
/// contact is emailed an invitation in the same transaction.
pub async fn import(
    state: &AppState,
    rows: &[ImportRow],
    invite: bool,
) -> Result<usize, ImportError> {
    let db = &state.db;
    let mut errors = Vec::new();
    for r in rows {
        if accounts::email_taken(db, r.contact_email.as_str()).await? {
            errors.push(RowError {
                line: r.line,
                field: "contact_email".into(),
                message: "a user with this email exists".into(),
            });
        }
        if let Some(e) = &r.account.external_id
            && accounts::find_account_by_external_id(db, e)
                .await?
                .is_some()
        {
            errors.push(RowError {
                line: r.line,
                field: "external_id".into(),
                message: "another account has this external_id".into(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let mut tx = db.begin_write().await?;
    for r in rows {
        let id = accounts::insert_account_in(&mut tx, &r.account.row()).await?;
        let contact = (
            r.contact_email.as_str(),
            r.contact_name.as_str(),
            accounts::NO_PASSWORD,
            true,
        );
        let user_id = accounts::insert_user_in(&mut tx, id, contact).await?;
        if invite {
            let account = accounts::find_account_in(&mut tx, id)
                .await?
                .ok_or(crate::db::DbError::Query(sqlx::Error::RowNotFound))?;
            let user = accounts::UserRecord {
                id: user_id,
                account_id: id,
                email: r.contact_email.clone(),
                name: r.contact_name.clone(),
                is_billing_contact: true,
            };
            super::passwords::invite_in(&mut tx, state, &account, &user, "billing-center").await?;
        }
    }
    tx.commit().await?;
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "name,country,contact_email,contact_name,kind,vat_number,city,external_id\n";

    #[test]
    fn a_good_file_reads_every_row_with_quotes_and_a_bom() {
        let text = format!(
            "\u{feff}{HEADER}Acme,FR,boss@acme.example,Ana,,FR40303265045,Paris,acme-1\n\"Globex, Inc.\",DE,ceo@globex.example,Gus,online,,\"Berlin\",\n"
        );
        let rows = parse(&text, Currency::Eur).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].account.name, "Globex, Inc.");
        assert_eq!(rows[0].account.vat_number.as_deref(), Some("FR40303265045"));
        assert_eq!(rows[0].account.external_id.as_deref(), Some("acme-1"));
        assert_eq!(rows[1].account.external_id, None);
        assert_eq!((rows[0].line, rows[1].line), (2, 3));
    }

    #[test]
    fn every_bad_row_is_named_with_its_line_and_field() {
        let text = format!(
            "{HEADER}Acme,FR,boss@acme.example,Ana,,,Paris,x\n,FR,b@b.example,B,,,,\nC,ZZ,not-an-email,C,,,,\nD,FR,boss@acme.example,D,corporate,,,x\n"
        );
        let errors = parse(&text, Currency::Eur).unwrap_err();
        let said: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let has =
            |line: u64, field: &str| errors.iter().any(|e| e.line == line && e.field == field);
        assert!(has(3, "name"), "{said:?}");
        assert!(has(4, "country"), "{said:?}");
        assert!(has(4, "contact_email"), "{said:?}");
        // A Corporate account without its representative.
        assert!(has(5, "representative"), "{said:?}");
        assert!(!has(2, "name"), "{said:?}");
        assert!(said.iter().all(|s| s.starts_with("line ")), "{said:?}");
    }

    #[test]
    fn duplicates_and_unknown_or_missing_columns_are_refused() {
        let text = format!("{HEADER}A,FR,a@a.example,A,,,,x\nB,FR,a@a.example,B,,,,x\n");
        let errors = parse(&text, Currency::Eur).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.line == 3 && e.field == "contact_email" && e.message.contains("line 2"))
        );
        assert!(
            errors
                .iter()
                .any(|e| e.line == 3 && e.field == "external_id")
        );
        let errors = parse("name,country,colour\nA,FR,red\n", Currency::Eur).unwrap_err();
        assert!(errors.iter().any(|e| e.line == 1 && e.field == "colour"));
        assert!(
            errors
                .iter()
                .any(|e| e.line == 1 && e.field == "contact_email")
        );
        let errors = parse(&format!("{HEADER}A,FR\n"), Currency::Eur).unwrap_err();
        assert_eq!(errors[0].line, 2, "{errors:?}");
    }
}
