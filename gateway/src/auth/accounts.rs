//! Which account a sign-in without a password reaches: Sign in with Apple (proved by Apple's
//! identity token), and the original UniLife app's bare `user_id` (proves nothing; only behind
//! `compat.passwordless_login`, and never for an account with a password or an Apple link).

use sea_orm::{ActiveModelTrait, DatabaseConnection, IntoActiveModel, Set};
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::user::{self, LEGACY_LOGIN, NO_PASSWORD};
use uuid::Uuid;

use super::apple::AppleIdentity;
use crate::domain::{Email, LoginName, Nickname, TimeZoneName};
use crate::repo::{refresh_tokens, users};

/// What a client may tell us about a new account besides its proof.
pub struct Profile {
    pub nickname: Option<Nickname>,
    pub timezone: TimeZoneName,
}

/// The account signed in, and whether it was made just now.
pub struct SignedIn {
    pub id: Uuid,
    pub created: bool,
}

/// The account of an Apple identity: the one linked to its `sub`; else a password-less
/// account whose login is the `sub` (made by the original app's sign-in by Apple user id, or
/// imported; linked now, its other sessions ended); else a new account (with Apple's verified
/// email when no account here has it).
pub async fn apple_account(
    db: &DatabaseConnection,
    identity: &AppleIdentity,
    profile: Profile,
) -> Result<SignedIn, ApiError> {
    let email = identity
        .verified_email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .map(Email::into_inner);
    if let Some(account) = users::find_by_apple_sub(db, &identity.sub).await? {
        let id = account.id;
        fill_in(db, account, email.as_deref(), profile.nickname).await?;
        return Ok(existing(id));
    }
    // No link by email: this API does not verify the emails people register with, so an
    // account holding the address Apple verified may be anyone's, and linking would sign the
    // Apple user into it.
    if let Some(account) = users::find_by_login(db, &identity.sub).await?
        && !account.has_password()
        && account.apple_sub.is_none()
        && users::link_apple(db, account.id, &identity.sub).await?
    {
        // Until now anyone who knew this user id could sign in as it (compat sign-in); from
        // now on only this Apple ID can, so sessions opened that way end.
        let ended = refresh_tokens::revoke_user(db, account.id).await?;
        tracing::info!(user.id = %account.id, ended, "Apple ID linked to the account of its user id");
        users::touch(db, account.id).await?;
        return Ok(existing(account.id));
    }
    let login = match LoginName::parse(&identity.sub) {
        Ok(name) if users::find_by_login(db, name.as_str()).await?.is_none() => {
            name.as_str().to_owned()
        }
        _ => format!("apple-{}", Uuid::new_v4().simple()),
    };
    let email = match email {
        Some(e) if users::find_by_email(db, &e).await?.is_none() => Some(e),
        _ => None,
    };
    let created = users::insert(
        db,
        users::NewUser {
            login,
            email,
            password_hash: NO_PASSWORD.into(),
            nickname: profile.nickname.map(Nickname::into_inner),
            timezone: profile.timezone.into_inner(),
            apple_sub: Some(identity.sub.clone()),
        },
    )
    .await;
    match created {
        Ok(account) => {
            tracing::info!(user.id = %account.id, "account made by Sign in with Apple");
            Ok(SignedIn {
                id: account.id,
                created: true,
            })
        }
        // The same Apple ID signing in twice at once: the other request made it.
        Err(e) if shared::db::is_unique_violation(&e) => {
            users::find_by_apple_sub(db, &identity.sub)
                .await?
                .map(|a| existing(a.id))
                .ok_or_else(|| ApiError::internal("the account of an Apple ID vanished"))
        }
        Err(e) => Err(e.into()),
    }
}

fn existing(id: Uuid) -> SignedIn {
    SignedIn { id, created: false }
}

/// Save an email and nickname the account does not have yet (as the original's login did),
/// and mark it active.
async fn fill_in(
    db: &DatabaseConnection,
    account: user::Model,
    email: Option<&str>,
    nickname: Option<Nickname>,
) -> Result<(), ApiError> {
    let id = account.id;
    let wants_email = account.email.is_none() && email.is_some();
    let wants_nickname = nickname.is_some()
        && account
            .nickname
            .as_deref()
            .is_none_or(|n| n.is_empty() || n == account.login);
    if !wants_email && !wants_nickname {
        users::touch(db, id).await?;
        return Ok(());
    }
    let mut model = account.into_active_model();
    if wants_email
        && let Some(email) = email
        && users::find_by_email(db, email).await?.is_none()
    {
        model.email = Set(Some(email.to_owned()));
    }
    if wants_nickname {
        model.nickname = Set(nickname.map(Nickname::into_inner));
    }
    let now = shared::time::now_micros();
    model.updated_at = Set(now);
    model.last_active_at = Set(Some(now));
    match model.update(db).await {
        Ok(_) => Ok(()),
        // The email was taken meanwhile: keep the account as it was.
        Err(e) if shared::db::is_unique_violation(&e) => {
            users::touch(db, id).await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

fn needs_proof() -> ApiError {
    ApiError::new(
        ErrorCode::PasswordRequired,
        "this account signs in with its password or with Apple, not by user_id alone",
    )
}

/// Whether the original app's sign-in by `user_id` alone may reach this account: only one that
/// has neither a password nor an Apple link (and never the reserved legacy account).
fn open_without_proof(account: &user::Model) -> bool {
    !account.has_password() && account.apple_sub.is_none() && account.login != LEGACY_LOGIN
}

/// The original's login by `user_id`: the account with that login (filling in an email and a
/// nickname it lacks), or a new one. The original's fallback of taking over the account that
/// has the sent email is not kept: the email proves nothing.
pub async fn passwordless_login(
    db: &DatabaseConnection,
    login: &LoginName,
    email: Option<Email>,
    profile: Profile,
) -> Result<SignedIn, ApiError> {
    let email = email.map(Email::into_inner);
    if let Some(account) = users::find_by_login(db, login.as_str()).await? {
        if !open_without_proof(&account) {
            return Err(needs_proof());
        }
        let id = account.id;
        fill_in(db, account, email.as_deref(), profile.nickname).await?;
        return Ok(existing(id));
    }
    let email = match email {
        Some(e) if users::find_by_email(db, &e).await?.is_none() => Some(e),
        _ => None,
    };
    let nickname = profile
        .nickname
        .map_or_else(|| login.as_str().to_owned(), Nickname::into_inner);
    create_passwordless(db, login.as_str(), email, nickname, profile.timezone).await
}

/// The original's register without a password: the account with the sent `user_id` if there
/// is one (the original answered its tokens), else a new one.
pub async fn passwordless_register(
    db: &DatabaseConnection,
    login: Option<&LoginName>,
    email: Option<Email>,
    nickname: Nickname,
    timezone: TimeZoneName,
) -> Result<SignedIn, ApiError> {
    if let Some(login) = login
        && let Some(account) = users::find_by_login(db, login.as_str()).await?
    {
        if !open_without_proof(&account) {
            return Err(needs_proof());
        }
        users::touch(db, account.id).await?;
        return Ok(existing(account.id));
    }
    let email = email.map(Email::into_inner);
    if let Some(e) = &email
        && users::find_by_email(db, e).await?.is_some()
    {
        return Err(ApiError::new(
            ErrorCode::EmailTaken,
            "this email is already registered",
        ));
    }
    let login = login.map_or_else(
        || format!("u-{}", Uuid::new_v4().simple()),
        |l| l.as_str().to_owned(),
    );
    create_passwordless(db, &login, email, nickname.into_inner(), timezone).await
}

async fn create_passwordless(
    db: &DatabaseConnection,
    login: &str,
    email: Option<String>,
    nickname: String,
    timezone: TimeZoneName,
) -> Result<SignedIn, ApiError> {
    let created = users::insert(
        db,
        users::NewUser {
            login: login.to_owned(),
            email,
            password_hash: NO_PASSWORD.into(),
            nickname: Some(nickname),
            timezone: timezone.into_inner(),
            apple_sub: None,
        },
    )
    .await;
    match created {
        Ok(account) => {
            tracing::warn!(user.id = %account.id, "account made by password-less sign-in (compat)");
            Ok(SignedIn {
                id: account.id,
                created: true,
            })
        }
        // The same user id signing in twice at once: the other request made it.
        Err(e) if shared::db::is_unique_violation(&e) => {
            match users::find_by_login(db, login).await? {
                Some(account) if open_without_proof(&account) => Ok(existing(account.id)),
                Some(_) => Err(needs_proof()),
                None => Err(ApiError::new(
                    ErrorCode::EmailTaken,
                    "this email is already registered",
                )),
            }
        }
        Err(e) => Err(e.into()),
    }
}
