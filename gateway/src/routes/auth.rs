use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use shared::ApiError;
use shared::ErrorCode;
use utoipa::ToSchema;

use crate::auth::accounts::{self, Profile};
use crate::auth::sessions::{self, TokenPair};
use crate::auth::{AuthUser, password};
use crate::domain::{Email, LoginName, Nickname, Password, TimeZoneName};
use crate::repo::users;
use crate::state::AppState;

/// With a password: a new account (`user_id` required). Without one (**compat**, the original
/// app's register; only with `compat.passwordless_login`): `nickname` required, `user_id`
/// optional, and an existing password-less account with that `user_id` is signed in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The login name (**compat**: called `user_id`).
    pub user_id: Option<String>,
    pub password: Option<String>,
    pub nickname: Option<String>,
    pub email: Option<String>,
    /// IANA name; defaults to `Asia/Shanghai`.
    pub timezone: Option<String>,
}

/// One of: `password` with `user_id` or `email`; `identity_token` (Sign in with Apple, as
/// `POST /api/v1/auth/apple`); or (**compat**, only with `compat.passwordless_login`) a bare
/// `user_id`, with `email` and `nickname` saved on the account when it has none.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub nickname: Option<String>,
    /// An Apple identity token.
    pub identity_token: Option<String>,
    /// The nonce the app gave Apple (with `identity_token`).
    pub nonce: Option<String>,
    /// IANA name for an account made by this sign-in; defaults to `Asia/Shanghai`.
    pub timezone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::validation(e.to_string())
}

fn passwordless_disabled() -> ApiError {
    ApiError::new(
        ErrorCode::PasswordlessDisabled,
        "signing in without a password is not enabled on this server: \
         send a password, or sign in with Apple (identity_token)",
    )
}

fn optional<T>(
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, crate::domain::Invalid>,
) -> Result<Option<T>, ApiError> {
    raw.filter(|v| !v.trim().is_empty())
        .map(parse)
        .transpose()
        .map_err(invalid)
}

fn timezone(raw: Option<&str>) -> Result<TimeZoneName, ApiError> {
    TimeZoneName::parse(raw.unwrap_or(shared::DEFAULT_TIMEZONE)).map_err(invalid)
}

#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = TokenPair), (status = 400), (status = 401), (status = 403), (status = 409), (status = 429)))]
pub async fn register(
    req: HttpRequest,
    body: web::Json<RegisterRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state.limits.check_auth_ip(state.client_ip(&req))?;
    let body = body.into_inner();
    let Some(password) = body.password.as_deref() else {
        return register_passwordless(&state, body).await;
    };
    let login = LoginName::parse(body.user_id.as_deref().unwrap_or_default()).map_err(invalid)?;
    let password = Password::parse(password, &login).map_err(invalid)?;
    let email = optional(body.email.as_deref(), Email::parse)?;
    let nickname = body
        .nickname
        .as_deref()
        .map(Nickname::parse)
        .transpose()
        .map_err(invalid)?;
    let timezone = timezone(body.timezone.as_deref())?;

    if users::find_by_login(&state.db, login.as_str())
        .await?
        .is_some()
    {
        return Err(ApiError::new(
            ErrorCode::UserExists,
            "this user_id is taken",
        ));
    }
    if let Some(email) = &email
        && users::find_by_email(&state.db, &email.clone().into_inner())
            .await?
            .is_some()
    {
        return Err(ApiError::new(
            ErrorCode::EmailTaken,
            "this email is already registered",
        ));
    }
    let hash = password::hash(password.expose().to_owned())
        .await
        .map_err(ApiError::internal)?;
    let created = users::insert(
        &state.db,
        users::NewUser {
            login: login.as_str().to_owned(),
            email: email.map(Email::into_inner),
            password_hash: hash,
            nickname: nickname.map(Nickname::into_inner),
            timezone: timezone.into_inner(),
            apple_sub: None,
        },
    )
    .await
    .map_err(|e| {
        if shared::db::is_unique_violation(&e) {
            ApiError::new(ErrorCode::UserExists, "this user_id or email is taken")
        } else {
            e.into()
        }
    })?;
    tracing::info!(user.id = %created.id, "account registered");
    let pair = sessions::start(&state.db, &state.jwt, created.id).await?;
    Ok(HttpResponse::Created().json(pair))
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 400), (status = 401), (status = 403), (status = 429), (status = 502), (status = 503)))]
pub async fn login(
    req: HttpRequest,
    body: web::Json<LoginRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state.limits.check_auth_ip(state.client_ip(&req))?;
    let body = body.into_inner();
    if let Some(token) = body.identity_token.as_deref() {
        if body.password.is_some() {
            return Err(ApiError::validation(
                "send either a password or an identity_token, not both",
            ));
        }
        let profile = Profile {
            nickname: optional(body.nickname.as_deref(), Nickname::parse)?,
            timezone: timezone(body.timezone.as_deref())?,
        };
        return super::apple::sign_in(&state, token, body.nonce.as_deref(), profile).await;
    }
    let Some(password) = body.password else {
        return login_passwordless(&state, body).await;
    };
    let (named, account) = match (&body.user_id, &body.email) {
        (Some(login), _) if !login.trim().is_empty() => {
            let login = login.trim();
            (
                login.to_owned(),
                users::find_by_login(&state.db, login).await?,
            )
        }
        (_, Some(email)) if !email.trim().is_empty() => {
            let email = email.trim().to_lowercase();
            let account = users::find_by_email(&state.db, &email).await?;
            (email, account)
        }
        _ => return Err(ApiError::validation("user_id or email is required")),
    };
    // One budget per account, whether it is named by its login or its email; a name that
    // is no account has its own.
    match &account {
        Some(a) => state.limits.check_auth_account(&format!("id:{}", a.id))?,
        None => state.limits.check_auth_account(&format!("name:{named}"))?,
    }
    if password.is_empty() {
        return Err(ApiError::validation("password is required"));
    }
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    if !password::verify(password, stored).await {
        return Err(ApiError::new(
            ErrorCode::InvalidCredentials,
            "wrong user_id, email or password",
        ));
    }
    let Some(account) = account else {
        return Err(ApiError::new(
            ErrorCode::InvalidCredentials,
            "wrong user_id, email or password",
        ));
    };
    users::touch(&state.db, account.id).await?;
    Ok(HttpResponse::Ok().json(sessions::start(&state.db, &state.jwt, account.id).await?))
}

/// The original app's register without a password (compat).
async fn register_passwordless(
    state: &AppState,
    body: RegisterRequest,
) -> Result<HttpResponse, ApiError> {
    if !state.passwordless_login {
        return Err(passwordless_disabled());
    }
    let login = body
        .user_id
        .as_deref()
        .filter(|l| !l.trim().is_empty())
        .map(LoginName::parse)
        .transpose()
        .map_err(invalid)?;
    if let Some(login) = &login {
        state.limits.check_auth_account(login.as_str())?;
    }
    let nickname =
        Nickname::parse(body.nickname.as_deref().unwrap_or_default()).map_err(invalid)?;
    if nickname.as_str().is_empty() {
        return Err(ApiError::validation(
            "nickname is required (or send a password to register with one)",
        ));
    }
    let email = optional(body.email.as_deref(), Email::parse)?;
    let timezone = timezone(body.timezone.as_deref())?;
    let signed_in =
        accounts::passwordless_register(&state.db, login.as_ref(), email, nickname, timezone)
            .await?;
    let pair = sessions::start(&state.db, &state.jwt, signed_in.id).await?;
    Ok(HttpResponse::Created().json(pair))
}

/// The original app's login by `user_id` alone (compat).
async fn login_passwordless(
    state: &AppState,
    body: LoginRequest,
) -> Result<HttpResponse, ApiError> {
    if !state.passwordless_login {
        return Err(passwordless_disabled());
    }
    let Some(login) = body.user_id.as_deref().filter(|l| !l.trim().is_empty()) else {
        return Err(ApiError::validation(
            "user_id is required (with a password, or alone where this server allows it)",
        ));
    };
    let login = LoginName::parse(login).map_err(invalid)?;
    state.limits.check_auth_account(login.as_str())?;
    let profile = Profile {
        nickname: optional(body.nickname.as_deref(), Nickname::parse)?,
        timezone: timezone(body.timezone.as_deref())?,
    };
    // An email that is not an address is dropped, not refused: the original took any text.
    let email = body.email.as_deref().and_then(|e| Email::parse(e).ok());
    let signed_in = accounts::passwordless_login(&state.db, &login, email, profile).await?;
    Ok(HttpResponse::Ok().json(sessions::start(&state.db, &state.jwt, signed_in.id).await?))
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401)))]
pub async fn refresh(
    req: HttpRequest,
    body: web::Json<RefreshRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state.limits.check_auth_ip(state.client_ip(&req))?;
    let presented = body.refresh_token.trim();
    let pair = sessions::rotate(&state.db, &state.jwt, &state.sessions, presented).await?;
    Ok(HttpResponse::Ok().json(pair))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401)))]
pub async fn logout(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    sessions::end(&state.db, &state.sessions, user.session).await?;
    Ok(HttpResponse::NoContent().finish())
}
