use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use shared::ApiError;
use shared::ErrorCode;
use utoipa::ToSchema;

use crate::auth::accounts::{self, Profile};
use crate::auth::apple::{AppleError, JwksError};
use crate::auth::sessions::{self, TokenPair};
use crate::domain::{Nickname, TimeZoneName};
use crate::state::AppState;

/// Sign in with Apple.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppleSignInRequest {
    /// The identity token (a JWT) Apple gave the app.
    pub identity_token: String,
    /// The nonce the app gave Apple, as sent or hashed (SHA-256, hex): the token must carry
    /// it either way.
    pub nonce: Option<String>,
    /// For an account made by this sign-in (Apple gives the name to the app only once).
    pub nickname: Option<String>,
    /// Accepted and not used: the email kept is the one Apple's token says is verified.
    pub email: Option<String>,
    /// IANA name for an account made by this sign-in; defaults to `Asia/Shanghai`.
    pub timezone: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/auth/apple", tag = "auth", request_body = AppleSignInRequest,
    responses((status = 200, body = TokenPair), (status = 400), (status = 401), (status = 429),
        (status = 502, description = "Apple's keys could not be fetched"),
        (status = 503, description = "Sign in with Apple is not configured")))]
pub async fn sign_in_with_apple(
    req: HttpRequest,
    body: web::Json<AppleSignInRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state.limits.check_auth_ip(state.client_ip(&req))?;
    let body = body.into_inner();
    let invalid = |e: crate::domain::Invalid| ApiError::validation(e.to_string());
    let profile = Profile {
        nickname: body
            .nickname
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .map(Nickname::parse)
            .transpose()
            .map_err(invalid)?,
        timezone: TimeZoneName::parse(body.timezone.as_deref().unwrap_or(shared::DEFAULT_TIMEZONE))
            .map_err(invalid)?,
    };
    sign_in(&state, &body.identity_token, body.nonce.as_deref(), profile).await
}

/// How a client may sign in here: for the web console, whether to offer Sign in with Apple
/// and where to send the browser for it.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct SignInProviders {
    /// Password sign-in (always on).
    pub password: bool,
    /// Sign in with Apple on the web, when configured (`apple.web_service_id`).
    pub apple: Option<AppleWeb>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct AppleWeb {
    /// The Services ID: Apple's `client_id`.
    pub client_id: String,
    /// Apple's authorize endpoint.
    pub authorize_url: String,
}

#[utoipa::path(get, path = "/api/v1/auth/providers", tag = "auth",
    responses((status = 200, body = SignInProviders)))]
pub async fn providers(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(SignInProviders {
        password: true,
        apple: state.apple_web.as_ref().map(|(id, url)| AppleWeb {
            client_id: id.clone(),
            authorize_url: url.clone(),
        }),
    })
}

/// Verify the identity token, find or make its account, and start a session.
pub async fn sign_in(
    state: &AppState,
    token: &str,
    nonce: Option<&str>,
    profile: Profile,
) -> Result<HttpResponse, ApiError> {
    let Some(apple) = &state.apple else {
        return Err(ApiError::new(
            ErrorCode::AppleSignInDisabled,
            "Sign in with Apple is not enabled on this server (no apple.bundle_ids configured)",
        ));
    };
    let token = token.trim();
    if token.is_empty() || token.len() > 8 * 1024 {
        return Err(ApiError::validation("identity_token is required"));
    }
    let identity = apple.verify(token, nonce).await.map_err(|e| {
        tracing::info!(reason = %e, "Apple identity token refused");
        match e {
            AppleError::Keys(JwksError::Unreachable(_)) => ApiError::new(
                ErrorCode::UpstreamUnavailable,
                "Apple's sign-in keys cannot be reached right now; try again shortly",
            ),
            _ => ApiError::new(
                ErrorCode::InvalidIdentityToken,
                "the Apple identity token is invalid or expired; sign in with Apple again",
            ),
        }
    })?;
    let signed_in = accounts::apple_account(&state.db, &identity, profile).await?;
    tracing::info!(user.id = %signed_in.id, created = signed_in.created, "signed in with Apple");
    Ok(HttpResponse::Ok().json(sessions::start(&state.db, &state.jwt, signed_in.id).await?))
}
