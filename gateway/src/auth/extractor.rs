//! `AuthUser`: a verified access token of an open session, and the per-user request budget
//! spent.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use shared::ApiError;
use shared::ErrorCode;
use uuid::Uuid;

use super::jwt::TokenType;
use crate::state::AppState;

#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub id: Uuid,
    pub session: Uuid,
}

impl AuthUser {
    /// Verify the bearer token of `req`, that its session is open, and charge the user's rate
    /// limit.
    pub async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<Self, ApiError> {
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::new(ErrorCode::MissingToken, "missing bearer token"))?;
        let claims = state.jwt.verify(token, TokenType::Access).map_err(|e| {
            tracing::info!(reason = %e, "access token refused");
            ApiError::new(ErrorCode::InvalidToken, "invalid or expired access token")
        })?;
        state.limits.check_user(claims.sub)?;
        if !state.sessions.is_live(&state.db, claims.sid).await? {
            tracing::info!(user.id = %claims.sub, "access token of a revoked session refused");
            return Err(ApiError::new(
                ErrorCode::InvalidToken,
                "this session has ended (signed out or revoked); sign in again",
            ));
        }
        Ok(Self {
            id: claims.sub,
            session: claims.sid,
        })
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match req.app_data::<web::Data<AppState>>() {
                Some(state) => Self::authenticate(&req, state).await,
                None => Err(ApiError::internal("gateway state missing")),
            }
        })
    }
}
