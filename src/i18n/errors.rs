//! Error messages in the page's language. The server and the domain types
//! speak English (logs, API clients); what a person reads goes through
//! here. A test finds every fixed sentence in the sources and fails when
//! one has no French.

use super::Lang;
use crate::billing::BillingError;
use crate::error::AppError;

/// English → French for the domain's parse errors, which the browser also
/// shows as a field is typed.
const FR_DOMAIN: &[(&str, &str)] = &[
    (
        "Enter your email address.",
        "Saisissez votre adresse e-mail.",
    ),
    (
        "That email address is too long.",
        "Cette adresse e-mail est trop longue.",
    ),
    (
        "Enter a valid email address, like name@example.com.",
        "Saisissez une adresse e-mail valide, comme nom@exemple.fr.",
    ),
    (
        "Enter the 12 to 19 digits of your card number.",
        "Saisissez les 12 à 19 chiffres de votre numéro de carte.",
    ),
    (
        "This card number is not valid: check the digits.",
        "Ce numéro de carte n'est pas valide : vérifiez les chiffres.",
    ),
    ("This card has expired.", "Cette carte a expiré."),
    (
        "Enter the 3 or 4 digits of the security code (CVC).",
        "Saisissez les 3 ou 4 chiffres du cryptogramme.",
    ),
    (
        "Enter the expiry date as MM/YY.",
        "Saisissez la date d'expiration au format MM/AA.",
    ),
    (
        "This IBAN is not valid: check the country code and the digits.",
        "Cet IBAN n'est pas valide : vérifiez le code pays et les chiffres.",
    ),
];

/// English → French for the fixed sentences of `AppError::Invalid` and the
/// payment errors: the server translates them before they leave
/// (`server::error::respond`), so they stay out of the browser's bundle.
#[cfg(feature = "ssr")]
const FR_SERVER: &[(&str, &str)] = &[
    (
        "This link has expired or was already used: ask for a new one.",
        "Ce lien a expiré ou a déjà servi : demandez-en un nouveau.",
    ),
    (
        "Choose a password of at least 10 characters.",
        "Choisissez un mot de passe d’au moins 10 caractères.",
    ),
    (
        "The two passwords differ.",
        "Les deux mots de passe diffèrent.",
    ),
    (
        "Enter the person's name (200 characters at most).",
        "Saisissez le nom de la personne (200 caractères au plus).",
    ),
    (
        "This email address already signs in to the billing center.",
        "Cette adresse e-mail se connecte déjà à l’espace de facturation.",
    ),
    (
        "Add a payment method to place this order.",
        "Ajoutez un moyen de paiement pour passer cette commande.",
    ),
    ("Enter your password.", "Saisissez votre mot de passe."),
    (
        "The form was incomplete or malformed.",
        "Le formulaire était incomplet ou mal formé.",
    ),
    (
        "Your order is still being processed. Reload the page in a moment.",
        "Votre commande est en cours de traitement. Rechargez la page dans un instant.",
    ),
    (
        "That password is too long (1,024 bytes at most).",
        "Ce mot de passe est trop long (1 024 octets au plus).",
    ),
    (
        "This order form is invalid: reload the page.",
        "Ce bon de commande n'est pas valide : rechargez la page.",
    ),
    (
        "This order was already placed with different content. Reload the page.",
        "Cette commande a déjà été passée avec un autre contenu. Rechargez la page.",
    ),
    (
        "Confirm that you want to hand over the billing contact role.",
        "Confirmez que vous voulez transmettre le rôle de contact de facturation.",
    ),
    (
        "Choose a subject: reactivation, change or other.",
        "Choisissez un objet : réactivation, modification ou autre.",
    ),
    (
        "Write a message for the support team.",
        "Écrivez un message pour l'équipe d'assistance.",
    ),
    (
        "Your message is too long (5,000 characters at most).",
        "Votre message est trop long (5 000 caractères au plus).",
    ),
    (
        "The email or password is incorrect.",
        "L'e-mail ou le mot de passe est incorrect.",
    ),
    (
        "Your card was declined. Use another card or payment method.",
        "Votre carte a été refusée. Utilisez une autre carte ou un autre moyen de paiement.",
    ),
    (
        "Your card was declined for insufficient funds. Use another card or payment method.",
        "Votre carte a été refusée pour provision insuffisante. Utilisez une autre carte ou un autre moyen de paiement.",
    ),
    (
        "Your bank refused this payment method for good (lost, stolen or closed). Add a new payment method.",
        "Votre banque a refusé définitivement ce moyen de paiement (perdu, volé ou clôturé). Ajoutez un nouveau moyen de paiement.",
    ),
    (
        "Keep the reason under 500 characters.",
        "Limitez le motif à 500 caractères.",
    ),
    (
        "Your bank asks you to confirm this payment (3-D Secure).",
        "Votre banque vous demande de confirmer ce paiement (3-D Secure).",
    ),
    (
        "The payment service refused the request. Nothing was charged; try again later.",
        "Le service de paiement a refusé la demande. Rien n'a été débité ; réessayez plus tard.",
    ),
    (
        "Accept the SEPA Direct Debit mandate to save this account.",
        "Acceptez le mandat de prélèvement SEPA pour enregistrer ce compte.",
    ),
    (
        "Choose a card or SEPA Direct Debit.",
        "Choisissez une carte ou le prélèvement SEPA.",
    ),
    ("Enter the card again.", "Saisissez à nouveau la carte."),
    (
        "Start adding the payment method again.",
        "Recommencez l'ajout du moyen de paiement.",
    ),
    (
        "The payment provider's form is not ready yet.",
        "Le formulaire du prestataire de paiement n'est pas encore prêt.",
    ),
    (
        "The payment service did not answer in time. Nothing will be charged twice: place the order again.",
        "Le service de paiement n'a pas répondu à temps. Rien ne sera débité deux fois : passez à nouveau la commande.",
    ),
    (
        "The payment could not be confirmed and nothing was recorded as paid. Try again.",
        "Le paiement n'a pas pu être confirmé et rien n'a été enregistré comme payé. Réessayez.",
    ),
];

/// A fixed English sentence in `lang` (itself when there is no translation).
pub fn sentence(lang: Lang, english: &str) -> String {
    match lang {
        Lang::En => english.to_string(),
        Lang::Fr => {
            #[cfg(feature = "ssr")]
            let tables = [FR_DOMAIN, FR_SERVER];
            #[cfg(not(feature = "ssr"))]
            let tables = [FR_DOMAIN];
            tables
                .iter()
                .flat_map(|t| t.iter())
                .find(|(e, _)| *e == english)
                .map(|(_, f)| f.to_string())
                .unwrap_or_else(|| english.to_string())
        }
    }
}

/// An error as the server sends it to a request in `lang`: in French, every
/// sentence the browser would otherwise have to translate itself (so the
/// tables stay out of its bundle). The HTTP status is taken before this.
#[cfg(feature = "ssr")]
pub fn localize(lang: Lang, e: AppError) -> AppError {
    if lang == Lang::En {
        return e;
    }
    match e {
        AppError::Invalid(s) => AppError::Invalid(sentence(lang, &s)),
        AppError::Payment(s) => AppError::Payment(sentence(lang, &s)),
        AppError::Billing(b) => AppError::Invalid(billing_fr(&b)),
        AppError::TooManyAttempts { minutes } => AppError::Invalid(format!(
            "Trop de tentatives de connexion. Réessayez dans {minutes} minutes."
        )),
        AppError::QuoteChanged => AppError::Invalid("Le récapitulatif de votre commande a changé : vérifiez le nouveau total avant de passer la commande.".into()),
        AppError::Stale => AppError::Invalid("Cet abonnement a été modifié dans une autre fenêtre. Rechargez la page pour voir son état actuel.".into()),
        other => other,
    }
}

/// What the page says for an error. Errors from the server arrive already
/// in the page's language (`localize`); this translates what the browser
/// produces itself: the engine's refusals in the live summary and the
/// transport and server failures of the error page.
pub fn message(lang: Lang, e: &AppError) -> String {
    if lang == Lang::En {
        return e.to_string();
    }
    match e {
        AppError::Billing(b) => billing_fr_in_browser(b).unwrap_or_else(|| b.to_string()),
        AppError::Invalid(s) | AppError::Payment(s) => s.clone(),
        AppError::ActionRequired { .. } => {
            "Votre banque vous demande de confirmer ce paiement (3-D Secure).".into()
        }
        AppError::Internal => "Un problème est survenu de notre côté. Réessayez dans un instant.".into(),
        AppError::Unavailable => "Le service est momentanément indisponible. Rien n'a été modifié : réessayez dans un instant.".into(),
        AppError::Network(_) => "Le serveur est injoignable. Vérifiez votre connexion et réessayez.".into(),
        other => other.to_string(),
    }
}

/// The engine's refusals the plan editor can meet while quoting in the
/// browser.
fn billing_fr_in_browser(e: &BillingError) -> Option<String> {
    Some(match e {
        BillingError::NotSoldOnline { level, .. } => {
            format!("{level} n'est pas vendu en ligne : contactez le service commercial.")
        }
        BillingError::SeatsOutOfRange { product, min, max, got } => format!(
            "Le nombre de postes doit être compris entre {min} et {max} pour {product} ; reçu : {got}."
        ),
        BillingError::ChangeNotAllowed { product, change } => {
            format!("Ce changement ({change}) n'est pas autorisé pour {product}.")
        }
        BillingError::InvalidTransition { .. } => {
            "Cette action n'est pas possible pour un abonnement dans cet état.".into()
        }
        BillingError::CorporateAccount => "Votre compte est un compte Entreprise : les modifications se font avec votre représentant dédié.".into(),
        BillingError::EmptyCart => "Votre panier est vide.".into(),
        BillingError::TermEnded { on } => format!("Cet abonnement a pris fin le {on} : il ne peut plus être renouvelé en retirant la résiliation. Réactivez-le pour vous réabonner."),
        _ => return None,
    })
}

#[cfg(feature = "ssr")]
fn billing_fr(e: &BillingError) -> String {
    if let Some(m) = billing_fr_in_browser(e) {
        return m;
    }
    match e {
        BillingError::UnknownProduct { product } => format!("Produit inconnu « {product} »."),
        BillingError::UnknownLevel { product, level } => {
            format!("Niveau inconnu « {level} » pour {product}.")
        }
        BillingError::CurrencyMismatch { expected, found } => format!(
            "Des montants en {} ne peuvent pas être mélangés avec des montants en {}.",
            found.code(),
            expected.code()
        ),
        BillingError::UnknownCurrency { code } => format!("Devise inconnue « {code} »."),
        BillingError::InvalidAmount { text } => format!("« {text} » n'est pas un montant valide."),
        BillingError::UnknownFrequency { code } => {
            format!("Fréquence de facturation inconnue « {code} ».")
        }
        BillingError::UnsupportedCountry { country } => {
            format!("Nous ne facturons pas encore de clients dans le pays « {country} ».")
        }
        BillingError::InvalidVatNumber { text } => {
            format!("« {text} » n'est pas un numéro de TVA bien formé.")
        }
        BillingError::UnknownSubscription { id } => format!("L'abonnement {id} est introuvable."),
        BillingError::AlreadySubscribed { product } => {
            format!("Vous avez déjà un abonnement {product}.")
        }
        BillingError::DuplicateCartItem { .. } => {
            "Cet abonnement est déjà dans votre panier.".into()
        }
        BillingError::DateOutOfRange => "Cette date est hors limites.".into(),
        BillingError::InconsistentInvoice => {
            "Les montants de cette facture ne concordent pas. Contactez le support.".into()
        }
        // Translated in the browser too (above).
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every fixed sentence the sources give `AppError::Invalid`, the
    /// payment errors and the domain's parse errors has a French version.
    #[test]
    fn every_error_sentence_has_french() {
        fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    files(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let mut all = Vec::new();
        files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut all,
        );
        let mut found = 0;
        for path in all {
            if path.ends_with("i18n/errors.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let in_domain = path.to_string_lossy().contains("/domain/");
            for marker in [
                "Invalid( \"",
                "Invalid(\"",
                "#[error( \"",
                "#[error(\"",
                "Err(\"",
                "|| \"",
            ] {
                for piece in flat.split(marker).skip(1) {
                    let Some((english, _)) = piece.split_once('"') else {
                        continue;
                    };
                    // Only sentences shown to people: payment errors and
                    // domain messages; BillingError/AppError are matched above.
                    let relevant = marker.starts_with("Invalid")
                        || (in_domain && !english.contains('{'))
                        || (path.ends_with("server/payments/mod.rs")
                            && marker.starts_with("#[error"));
                    if !relevant || english.is_empty() || !english.ends_with('.') {
                        continue;
                    }
                    found += 1;
                    assert_ne!(
                        sentence(Lang::Fr, english),
                        english,
                        "no French for {english:?} ({})",
                        path.display()
                    );
                }
            }
        }
        assert!(found >= 15, "the scan found only {found} sentences");
    }
}
