use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use shared::ApiError;
use shared::ErrorCode;
use utoipa::ToSchema;

use crate::auth::sessions::{self, TokenPair};
use crate::auth::{AuthUser, password};
use crate::domain::{Email, LoginName, Nickname, Password, TimeZoneName};
use crate::repo::users;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The login name (**compat**: called `user_id`).
    pub user_id: String,
    pub password: String,
    pub nickname: Option<String>,
    pub email: Option<String>,
    /// IANA name; defaults to `Asia/Shanghai`.
    pub timezone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::validation(e.to_string())
}

#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = TokenPair), (status = 400), (status = 409), (status = 429)))]
pub async fn register(
    req: HttpRequest,
    body: web::Json<RegisterRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state.limits.check_auth_ip(state.client_ip(&req))?;
    let body = body.into_inner();
    let login = LoginName::parse(&body.user_id).map_err(invalid)?;
    let password = Password::parse(&body.password, &login).map_err(invalid)?;
    let email = body
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(Email::parse)
        .transpose()
        .map_err(invalid)?;
    let nickname = body
        .nickname
        .as_deref()
        .map(Nickname::parse)
        .transpose()
        .map_err(invalid)?;
    let timezone =
        TimeZoneName::parse(body.timezone.as_deref().unwrap_or(shared::DEFAULT_TIMEZONE))
            .map_err(invalid)?;

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
    responses((status = 200, body = TokenPair), (status = 400), (status = 401), (status = 429)))]
pub async fn login(
    req: HttpRequest,
    body: web::Json<LoginRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state.limits.check_auth_ip(state.client_ip(&req))?;
    let body = body.into_inner();
    let account = match (&body.user_id, &body.email) {
        (Some(login), _) if !login.trim().is_empty() => {
            let login = login.trim();
            state.limits.check_auth_account(login)?;
            users::find_by_login(&state.db, login).await?
        }
        (_, Some(email)) if !email.trim().is_empty() => {
            let email = email.trim().to_lowercase();
            state.limits.check_auth_account(&email)?;
            users::find_by_email(&state.db, &email).await?
        }
        _ => return Err(ApiError::validation("user_id or email is required")),
    };
    if body.password.is_empty() {
        return Err(ApiError::validation("password is required"));
    }
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    if !password::verify(body.password, stored).await {
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

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401)))]
pub async fn refresh(
    req: HttpRequest,
    body: web::Json<RefreshRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state.limits.check_auth_ip(state.client_ip(&req))?;
    let pair = sessions::rotate(&state.db, &state.jwt, body.refresh_token.trim()).await?;
    Ok(HttpResponse::Ok().json(pair))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401)))]
pub async fn logout(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    sessions::end(&state.db, user.session).await?;
    Ok(HttpResponse::NoContent().finish())
}
