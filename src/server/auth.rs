//! Sign-in, sessions and the billing-contact check every billing server
//! function starts with.
//!
//! Sessions are rows in the shared database (several server processes see
//! the same ones); the cookie carries a random token, the table only its
//! SHA-256. Cookies are HttpOnly, SameSite=Lax, Secure behind HTTPS.

use crate::domain::AccountId;
use std::net::SocketAddr;
use std::sync::LazyLock;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, Duration, Utc};
use leptos::prelude::{use_context, with_context};
use sha2::{Digest, Sha256};

use super::state::AppState;
use crate::db::accounts::{self, AccountRecord, UserRecord};
use crate::db::sessions;
use crate::domain::Email;
use crate::error::AppError;

pub const COOKIE: &str = "bc_session";
pub const IDLE_TIMEOUT: Duration = Duration::hours(2);
pub const ABSOLUTE_TIMEOUT: Duration = Duration::hours(12);
/// How stale `last_seen_at` may get before a request refreshes it.
const TOUCH_EVERY: Duration = Duration::minutes(1);
const WINDOW_MINUTES: i64 = 15;
/// Tries of one email from one address before that pair is refused.
const MAX_PER_PAIR: i64 = 5;
/// Tries of one email from every address before each of its checks waits
/// [`SLOW_CHECK`]: guessing slows down, but its owner still gets in.
const MAX_PER_EMAIL: i64 = 20;
const MAX_PER_IP: i64 = 30;
const SLOW_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Who is calling, checked on the server for every request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: UserRecord,
    pub account: AccountRecord,
    /// The seller application's page this session came from (a portal
    /// link's `return_url`), for "Back to …".
    pub return_url: Option<String>,
}

pub const SIGN_IN_FAILED: &str = "The email or password is incorrect.";

/// Hash of a password nobody has: unknown emails are verified against it so
/// that they take as long as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| password_auth::generate_hash("not-a-real-password"));

pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || password_auth::generate_hash(password))
        .await
        .map_err(|_| AppError::Internal)
}

async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || password_auth::verify_password(password, &hash).is_ok())
        .await
        .unwrap_or(false)
}

fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The value of the request cookie `name`, if sent.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
        || std::env::var("BC_SECURE_COOKIES").as_deref() == Ok("1")
}

pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        ABSOLUTE_TIMEOUT.num_seconds(),
        if secure { "; Secure" } else { "" }
    )
}

fn set_cookie(value: &str) {
    if let (Some(resp), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(value),
    ) {
        resp.append_header(header::SET_COOKIE, v);
    }
}

/// The request's headers (a copy: extracting them cloned the whole
/// request head, extensions included, on every call).
async fn headers() -> HeaderMap {
    with_context::<axum::http::request::Parts, _>(|p| p.headers.clone()).unwrap_or_default()
}

/// The session token's hash, read from the request without copying it.
fn session_hash() -> Option<String> {
    with_context::<axum::http::request::Parts, _>(|p| cookie_token(&p.headers))
        .flatten()
        .map(|t| token_hash(&t))
}

/// The signed-in user, if the session cookie is valid and not expired.
pub async fn caller(state: &AppState) -> Result<Option<Caller>, AppError> {
    match session_hash() {
        Some(hash) => caller_by_hash(state, &hash).await,
        None => Ok(None),
    }
}

/// [`caller`] for plain axum handlers (downloads), from the request headers.
pub async fn caller_from(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Caller>, AppError> {
    match cookie_token(headers) {
        Some(token) => caller_by_hash(state, &token_hash(&token)).await,
        None => Ok(None),
    }
}

async fn caller_by_hash(state: &AppState, hash: &str) -> Result<Option<Caller>, AppError> {
    match sessions::find_session_caller(&state.db, hash).await? {
        Some(found) => live_caller(state, hash, found).await,
        None => Ok(None),
    }
}

/// The billing contact behind this request with what every billing page
/// reads (subscriptions, cart), found on one connection.
pub async fn billing_contact_with_page(
    state: &AppState,
) -> Result<(Caller, crate::db::sessions::PageRows), AppError> {
    let hash = session_hash().ok_or(AppError::Unauthorized)?;
    let (found, page) = crate::db::sessions::session_with_page(&state.db, &hash)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let caller = live_caller(state, &hash, found)
        .await?
        .ok_or(AppError::Unauthorized)?;
    match page {
        Some(page) => Ok((caller, page)),
        None => Err(not_billing_contact(state, caller.account.id).await?),
    }
}

/// The session's caller when the session is still alive (idle and absolute
/// timeouts); an expired session is deleted.
async fn live_caller(
    state: &AppState,
    hash: &str,
    found: sessions::SessionCaller,
) -> Result<Option<Caller>, AppError> {
    let now = state.clock.now();
    let alive = now < found.expires_at
        && now - found.last_seen_at < IDLE_TIMEOUT
        && now - found.created_at < ABSOLUTE_TIMEOUT;
    if !alive {
        sessions::delete_session(&state.db, hash).await?;
        return Ok(None);
    }
    // A write per request would serialize every page view on SQLite: the
    // idle clock only needs minute precision.
    if now - found.last_seen_at >= TOUCH_EVERY {
        sessions::touch_session(&state.db, hash, &text(now)).await?;
    }
    Ok(Some(Caller {
        user: found.user,
        account: found.account,
        return_url: found.return_url,
    }))
}

pub async fn require_user(state: &AppState) -> Result<Caller, AppError> {
    caller(state).await?.ok_or(AppError::Unauthorized)
}

/// Only the account's billing contact reads or changes billing; anyone else
/// is told who that is.
pub async fn require_billing_contact(state: &AppState) -> Result<Caller, AppError> {
    billing_contact_only(state, require_user(state).await?).await
}

/// The same check for a caller found from headers.
pub async fn billing_contact_only(state: &AppState, c: Caller) -> Result<Caller, AppError> {
    match c.user.is_billing_contact {
        true => Ok(c),
        false => Err(not_billing_contact(state, c.account.id).await?),
    }
}

/// The refusal for anyone but the billing contact, naming who that is.
async fn not_billing_contact(
    state: &AppState,
    account_id: AccountId,
) -> Result<AppError, AppError> {
    Ok(
        match accounts::billing_contact(&state.db, account_id).await? {
            Some(u) => AppError::NotBillingContact {
                name: u.name,
                email: u.email.into(),
            },
            None => AppError::NotFound,
        },
    )
}

/// The address the request came from (rate limits): the connection's, or
/// the one a trusted proxy forwarded (`client_address`).
pub async fn client_ip() -> String {
    let Ok(ConnectInfo(addr)) = leptos_axum::extract::<ConnectInfo<SocketAddr>>().await else {
        return "unknown".into();
    };
    let headers: HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    match super::state::current() {
        Ok(state) => state
            .trusted_proxies
            .client(addr.ip(), &headers)
            .to_string(),
        Err(_) => addr.ip().to_string(),
    }
}

/// Signs in; on success sets a fresh session cookie (a new id every time).
pub async fn sign_in(state: &AppState, email: &str, password: &str) -> Result<Caller, AppError> {
    let email = Email::parse(email).map_err(AppError::Invalid)?;
    if password.is_empty() {
        return Err(AppError::Invalid("Enter your password.".into()));
    }
    if password.len() > 1024 {
        return Err(AppError::Invalid(
            "That password is too long (1,024 bytes at most).".into(),
        ));
    }
    let now = state.clock.now();
    let window = Duration::minutes(WINDOW_MINUTES);
    let address = client_ip().await;
    let pair_key = format!("pair:{}|{address}", email.as_str());
    let email_key = format!("email:{}", email.as_str());
    let ip_key = format!("ip:{address}");
    let hit = |key: String| async move {
        sessions::hit(&state.db, &key, &text(now), &text(now - window)).await
    };
    let refuse = |since: &str| {
        let free_at = since
            .parse::<DateTime<Utc>>()
            .map_or(now + window, |s| s + window);
        let minutes = ((free_at - now).num_seconds() + 59) / 60;
        AppError::TooManyAttempts {
            minutes: minutes.max(1),
        }
    };
    // Counted before the password is checked, in one statement each: a
    // burst of parallel guesses gets no more checks than sequential ones.
    // Limits are per email and address together, and per address: guesses
    // from one place do not lock the owner out from another.
    for (key, max) in [(pair_key.clone(), MAX_PER_PAIR), (ip_key, MAX_PER_IP)] {
        let (hits, since) = hit(key).await?;
        if hits > max {
            return Err(refuse(&since));
        }
    }
    let (email_hits, email_since) = hit(email_key).await?;
    let slowed = email_hits > MAX_PER_EMAIL;
    if slowed {
        tokio::time::sleep(SLOW_CHECK).await;
    }
    let found = accounts::find_login(&state.db, email.as_str()).await?;
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), h),
        None => (None, DUMMY_HASH.clone()),
    };
    let ok = verify(password.to_string(), hash).await;
    let Some(user) = user.filter(|_| ok) else {
        super::metrics::sign_in_failed();
        return Err(match slowed {
            true => refuse(&email_since),
            false => AppError::Invalid(SIGN_IN_FAILED.into()),
        });
    };
    // The right password ends this pair's count; the email's runs out by
    // itself, or a guesser would get a fresh allowance at each of the
    // owner's sign-ins.
    sessions::clear_hits(&state.db, &pair_key).await?;
    sign_in_as(state, user.id).await?;
    let account = accounts::find_account(&state.db, user.account_id)
        .await?
        .ok_or(AppError::Internal)?;
    Ok(Caller {
        user,
        account,
        return_url: None,
    })
}

/// A new session for `user` (its cookie's token): sign-in and portal links.
pub async fn open_session(
    state: &AppState,
    user: crate::domain::UserId,
    return_url: Option<&str>,
) -> Result<String, AppError> {
    let now = state.clock.now();
    let token = new_token();
    let times = (text(now), text(now + ABSOLUTE_TIMEOUT));
    let times = (times.0.as_str(), times.1.as_str());
    sessions::insert_session(&state.db, &token_hash(&token), user, times, return_url).await?;
    Ok(token)
}

/// Signs `user` in on this response (a server function's): the browser's
/// previous session ends and a fresh one is set.
pub async fn sign_in_as(state: &AppState, user: crate::domain::UserId) -> Result<(), AppError> {
    let h = headers().await;
    close_session_of(state, &h).await?;
    let token = open_session(state, user, None).await?;
    set_cookie(&session_cookie(&token, is_https(&h)));
    Ok(())
}

/// Ends the session of this cookie header, if any (a portal link replaces it).
pub async fn close_session_of(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    if let Some(old) = cookie_token(headers) {
        sessions::delete_session(&state.db, &token_hash(&old)).await?;
    }
    Ok(())
}

/// The SHA-256 of a one-time token, as stored (sessions, portal links).
pub fn stored_hash(token: &str) -> String {
    token_hash(token)
}

/// A new random token (32 bytes, hex).
pub fn random_token() -> String {
    new_token()
}

/// Whether the request came over HTTPS (its cookies are then `Secure`).
pub fn over_https(headers: &HeaderMap) -> bool {
    is_https(headers)
}

pub async fn sign_out(state: &AppState) -> Result<(), AppError> {
    if let Some(hash) = session_hash() {
        sessions::delete_session(&state.db, &hash).await?;
    }
    set_cookie(&format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
    ));
    Ok(())
}
