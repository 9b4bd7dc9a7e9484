//! Forgotten passwords and invitations: a one-time link by email (the
//! outbox), valid an hour for a reset and a day for an invitation, that
//! lets its user set a password and come in signed in.
//!
//! Asking for a reset answers the same for a known and an unknown email,
//! and is limited per email and per address either way.

use chrono::Duration;

use super::auth::{Caller, random_token, stored_hash};
use super::state::AppState;
use crate::db::accounts;
use crate::db::user_tokens::{self, Purpose};
use crate::db::{instant_text, sessions};
use crate::domain::{Email, UserId};
use crate::error::AppError;

pub const RESET_LIFETIME: Duration = Duration::hours(1);
pub const INVITE_LIFETIME: Duration = Duration::hours(24);
const WINDOW: Duration = Duration::hours(1);
const RESETS_PER_EMAIL: i64 = 3;
const RESETS_PER_ADDRESS: i64 = 10;
const INVITES_PER_USER: i64 = 20;
pub const MIN_PASSWORD: usize = 10;

/// At most `max` tries of `key` per hour; this one is counted first, so
/// a burst of parallel tries is limited too.
async fn limited(state: &AppState, key: &str, max: i64) -> Result<(), AppError> {
    let now = state.clock.now();
    let (hits, since) = sessions::hit(
        &state.db,
        key,
        &instant_text(now),
        &instant_text(now - WINDOW),
    )
    .await?;
    if hits > max {
        let free_at = since
            .parse::<chrono::DateTime<chrono::Utc>>()
            .map_or(now + WINDOW, |s| s + WINDOW);
        let minutes = ((free_at - now).num_seconds() + 59) / 60;
        return Err(AppError::TooManyAttempts {
            minutes: minutes.max(1),
        });
    }
    Ok(())
}

/// Emails a reset link if `email` is a user's; the same answer either way.
pub async fn request_reset(state: &AppState, email: &str, address: &str) -> Result<(), AppError> {
    let email = Email::parse(email).map_err(AppError::Invalid)?;
    limited(state, &format!("reset-ip:{address}"), RESETS_PER_ADDRESS).await?;
    limited(
        state,
        &format!("reset-email:{}", email.as_str()),
        RESETS_PER_EMAIL,
    )
    .await?;
    let Some((user, _)) = accounts::find_login(&state.db, email.as_str()).await? else {
        return Ok(());
    };
    let account = accounts::find_account(&state.db, user.account_id)
        .await?
        .ok_or(AppError::Internal)?;
    let lang = super::billing::lang_of(&account);
    let t = lang.texts();
    let now = state.clock.now();
    let token = random_token();
    let link = state.identity.link(&format!("/password/reset/{token}"));
    let values = [
        ("email", email.as_str()),
        ("account", account.name.as_str()),
        ("link", link.as_str()),
    ];
    let mail = super::email::notice(
        &state.identity,
        lang,
        email.as_str(),
        t.reset_subject,
        t.reset_body,
        &values,
    );
    let times = (instant_text(now), instant_text(now + RESET_LIFETIME));
    user_tokens::insert_token_with_email(
        &state.db,
        (&stored_hash(&token), Purpose::Reset),
        (user.id, account.id),
        (&times.0, &times.1),
        &mail,
    )
    .await?;
    Ok(())
}

/// Adds `email` to the caller's account as a member (no password yet) and
/// emails them an invitation.
pub async fn invite(
    state: &AppState,
    by: &Caller,
    name: &str,
    email: &str,
) -> Result<UserId, AppError> {
    let email = Email::parse(email).map_err(AppError::Invalid)?;
    let name = crate::domain::text::line(name, 200)
        .ok()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            AppError::Invalid("Enter the person's name (200 characters at most).".into())
        })?;
    limited(state, &format!("invite:{}", by.user.id), INVITES_PER_USER).await?;
    let taken =
        || AppError::Invalid("This email address already signs in to the billing center.".into());
    if accounts::email_taken(&state.db, email.as_str()).await? {
        return Err(taken());
    }
    let inv = invitation(state, &by.account, email.as_str(), &by.user.name);
    let invited = user_tokens::insert_user_with_invitation(
        &state.db,
        by.account.id,
        (email.as_str(), name, accounts::NO_PASSWORD),
        (&inv.token_hash, (&inv.times.0, &inv.times.1)),
        &inv.email,
    )
    .await;
    match invited {
        Ok(id) => Ok(id),
        Err(e) if e.is_unique_violation() => Err(taken()),
        Err(e) => Err(e.into()),
    }
}

/// An invitation to `to` into `account` from `inviter` (a user's or an API
/// key's name): the token's hash, its times and its email, for the caller
/// to store in its own transaction.
pub struct Invitation {
    pub token_hash: String,
    pub times: (String, String),
    pub email: crate::db::writes::EmailWrite,
}

pub fn invitation(
    state: &AppState,
    account: &crate::db::accounts::AccountRecord,
    to: &str,
    inviter: &str,
) -> Invitation {
    let lang = super::billing::lang_of(account);
    let t = lang.texts();
    let now = state.clock.now();
    let token = random_token();
    let link = state.identity.link(&format!("/invitation/{token}"));
    let values = [
        ("inviter", inviter),
        ("account", account.name.as_str()),
        ("link", link.as_str()),
    ];
    Invitation {
        token_hash: stored_hash(&token),
        times: (instant_text(now), instant_text(now + INVITE_LIFETIME)),
        email: super::email::notice(
            &state.identity,
            lang,
            to,
            t.invite_subject,
            t.invite_body,
            &values,
        ),
    }
}

/// Invites `user` of `account` (by `inviter`) in the caller's transaction:
/// the token and its email are written together. The link's expiry.
pub async fn invite_in(
    tx: &mut crate::db::WriteTx,
    state: &AppState,
    account: &crate::db::accounts::AccountRecord,
    user: &crate::db::accounts::UserRecord,
    inviter: &str,
) -> Result<String, crate::db::DbError> {
    let inv = invitation(state, account, user.email.as_str(), inviter);
    crate::db::user_tokens::insert_token_with_email_in(
        tx,
        (&inv.token_hash, crate::db::user_tokens::Purpose::Invite),
        (user.id, account.id),
        (&inv.times.0, &inv.times.1),
        &inv.email,
    )
    .await?;
    Ok(inv.times.1)
}

/// Sets the password of the link's user and signs them in (a new session;
/// their other sessions end).
pub async fn set_password(
    state: &AppState,
    (token, purpose): (&str, Purpose),
    (password, confirm): (&str, &str),
) -> Result<UserId, AppError> {
    let spent = || {
        AppError::Invalid("This link has expired or was already used: ask for a new one.".into())
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(spent());
    }
    if password.chars().count() < MIN_PASSWORD {
        return Err(AppError::Invalid(
            "Choose a password of at least 10 characters.".into(),
        ));
    }
    if password.len() > 1024 {
        return Err(AppError::Invalid(
            "That password is too long (1,024 bytes at most).".into(),
        ));
    }
    if password != confirm {
        return Err(AppError::Invalid("The two passwords differ.".into()));
    }
    let hash = stored_hash(token);
    let now = instant_text(state.clock.now());
    // Checked before hashing, so a made-up token costs no Argon2 run.
    if user_tokens::live_token(&state.db, &hash, purpose, &now)
        .await?
        .is_none()
    {
        return Err(spent());
    }
    let password_hash = super::auth::hash_password(password.to_string()).await?;
    let user =
        user_tokens::set_password_with_token(&state.db, (&hash, purpose), &now, &password_hash)
            .await?
            .ok_or_else(spent)?;
    super::auth::sign_in_as(state, user).await?;
    Ok(user)
}
