//! `AuthUser`: a verified access token, and the per-user request budget spent.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
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
    /// Verify the bearer token of `req` and charge the user's rate limit.
    pub fn authenticate(req: &HttpRequest, state: &AppState) -> Result<Self, ApiError> {
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
        Ok(Self {
            id: claims.sub,
            session: claims.sid,
        })
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match req.app_data::<web::Data<AppState>>() {
            Some(state) => Self::authenticate(req, state),
            None => Err(ApiError::internal("gateway state missing")),
        };
        ready(result)
    }
}
