//! The page language: Accept-Language, the switch and its cookie, the
//! billing contact's choice becoming the account's (emails), and server
//! errors in the request's language.

use reqwest::header::{ACCEPT_LANGUAGE, COOKIE, LOCATION, REFERER, SET_COOKIE};

use crate::helpers::{TestApp, backends};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn accept_language_then_the_switch_cookie_choose_the_page_language() {
    let app = TestApp::spawn(billing_center::db::Backend::Sqlite).await;
    let get = |path: &str, headers: &[(reqwest::header::HeaderName, &str)]| {
        let mut r = no_redirects().get(format!("{}{path}", app.base));
        for (k, v) in headers {
            r = r.header(k, *v);
        }
        r.send()
    };
    let page = |r: reqwest::Response| async move { r.text().await.unwrap() };

    let en = page(get("/help", &[]).await.unwrap()).await;
    assert!(en.contains(r#"<html lang="en""#), "{en}");
    assert!(en.contains("Reactivate your subscription"));
    let fr = page(
        get("/help", &[(ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9,en;q=0.8")])
            .await
            .unwrap(),
    )
    .await;
    assert!(fr.contains(r#"<html lang="fr""#));
    assert!(fr.contains("Réactiver votre abonnement"));
    // The texts the browser hydrates with travel in the page, in its language.
    assert!(fr.contains(r#"id="bc-ui""#) && fr.contains("Passer la commande"));
    assert!(!fr.contains("\"Place order\""));

    // The switch: a cookie for a year, back to the page it was on.
    let r = get("/lang/en?back=/help/reactivate", &[]).await.unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(r.headers()[LOCATION], "/help/reactivate");
    let cookie = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("bc_lang=en;") && cookie.contains("Max-Age=31536000"),
        "{cookie}"
    );
    // The cookie wins over the browser's preference.
    let en = page(
        get("/help", &[(ACCEPT_LANGUAGE, "fr"), (COOKIE, "bc_lang=en")])
            .await
            .unwrap(),
    )
    .await;
    assert!(en.contains(r#"<html lang="en""#));
    // Without ?back, the Referer's path; never another site.
    let r = get(
        "/lang/fr",
        &[(REFERER, &format!("{}/billing/invoices?before=9", app.base))],
    )
    .await
    .unwrap();
    assert_eq!(r.headers()[LOCATION], "/billing/invoices?before=9");
    for evil in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let r = get(&format!("/lang/fr?back={}", evil.replace('/', "%2F")), &[])
            .await
            .unwrap();
        assert_eq!(r.headers()[LOCATION], "/", "{evil}");
    }
    let r = get("/lang/fr", &[(REFERER, "https://evil.example/phish")])
        .await
        .unwrap();
    assert_eq!(
        r.headers()[LOCATION],
        "/phish",
        "only the path of a foreign Referer"
    );
}

#[tokio::test]
async fn the_billing_contacts_choice_becomes_the_accounts_language() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let lang_of = |email: &'static str| {
            let db = app.db.clone();
            async move {
                let (l,): (String,) = sqlx::query_as(
                    "SELECT a.language FROM accounts a JOIN users u ON u.account_id = a.id WHERE u.email = $1",
                )
                .bind(email)
                .fetch_one(&db.pool)
                .await
                .unwrap();
                l
            }
        };
        assert_eq!(lang_of("trial@demo.test").await, "fr");
        // A user who is not the billing contact changes only their pages.
        let member = app.sign_in("member@demo.test").await;
        member
            .client
            .get(format!("{}/lang/en", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(lang_of("member@demo.test").await, "fr", "{backend:?}");
        // The billing contact's choice is the account's: its emails follow.
        let contact = app.sign_in("trial@demo.test").await;
        contact
            .client
            .get(format!("{}/lang/en", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(lang_of("trial@demo.test").await, "en", "{backend:?}");
    }
}

#[tokio::test]
async fn server_errors_come_in_the_requests_language() {
    let app = TestApp::spawn_seeded(billing_center::db::Backend::Sqlite).await;
    let s = app.sign_in("trial@demo.test").await;
    let send = |lang: &'static str| {
        s.client
            .post(format!("{}/api/place_order", app.base))
            .header("Accept", "application/json")
            .header(ACCEPT_LANGUAGE, lang)
            .form(&[
                ("key", "short"),
                ("expected_total", "1.00"),
                ("cart_digest", "x"),
            ])
            .send()
    };
    let fr = send("fr").await.unwrap();
    assert_eq!(fr.status(), 422);
    let fr = fr.text().await.unwrap();
    assert!(fr.contains("Ce bon de commande n'est pas valide"), "{fr}");
    let en = send("en").await.unwrap().text().await.unwrap();
    assert!(en.contains("This order form is invalid"), "{en}");
}

/// `back` is a path on this site only: tabs and newlines (which browsers
/// drop, making `/\t/host` a link to `//host`) are refused, never a 500;
/// and another site's link switches the browser's language, not the
/// account's.
#[tokio::test]
async fn the_switch_goes_back_only_on_this_site_and_only_this_site_changes_the_account() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        for back in [
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%0d%0aSet-Cookie:x=1",
            "/ /evil.example",
            "%2F%2Fevil.example",
        ] {
            let r = no_redirects()
                .get(format!("{}/lang/en?back={back}", app.base))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_redirection(), "{back}: {}", r.status());
            assert_eq!(r.headers()[LOCATION], "/", "{back}");
        }
        let contact = app.sign_in("trial@demo.test").await;
        let language = || async {
            let (l,): (String,) = sqlx::query_as("SELECT a.language FROM accounts a JOIN users u ON u.account_id = a.id WHERE u.email = 'trial@demo.test'")
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
            l
        };
        assert_eq!(language().await, "fr");
        let r = contact
            .client
            .get(format!("{}/lang/en", app.base))
            .header("Sec-Fetch-Site", "cross-site")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection());
        assert_eq!(
            language().await,
            "fr",
            "a cross-site GET leaves the account's language"
        );
        let r = contact
            .client
            .get(format!("{}/lang/en", app.base))
            .header("Sec-Fetch-Site", "same-origin")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection());
        assert_eq!(
            language().await,
            "en",
            "the billing contact's own click changes it"
        );
    }
}
