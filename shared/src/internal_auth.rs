//! Internal tokens: short-lived JWTs signed with a secret that only services know, with
//! `aud` = the target service and `sub` = the user the call is made for.
//!
//! A service never accepts a user's access token and never serves a request without an
//! internal token, except its health probe and the platform's lifecycle hooks.

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ErrorCode;
use crate::error::ApiError;

pub const INTERNAL_TOKEN_HEADER: &str = "x-internal-token";

/// Paths every service serves without an internal token.
pub const OPEN_PATHS: &[&str] = &["/healthz", "/initialize", "/pre-stop"];

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct InternalClaims {
    /// The calling service.
    pub iss: String,
    /// The target service.
    pub aud: String,
    /// The user the call is made for; absent for system work (jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<Uuid>,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct InternalTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl_secs: i64,
}

impl std::fmt::Debug for InternalTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InternalTokens")
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InternalTokenError {
    #[error("internal token missing")]
    Missing,
    #[error("internal token rejected: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
}

impl InternalTokens {
    pub fn new(secret: &SecretString, ttl_secs: i64) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            ttl_secs,
        }
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    pub fn mint(&self, caller: &str, audience: &str, user: Option<Uuid>) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = InternalClaims {
            iss: caller.to_owned(),
            aud: audience.to_owned(),
            sub: user,
            iat: now,
            exp: now + self.ttl_secs,
        };
        // HS256 over serialisable claims cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default()
    }

    pub fn verify(
        &self,
        token: &str,
        audience: &str,
    ) -> Result<InternalClaims, InternalTokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        validation.leeway = 5;
        Ok(jsonwebtoken::decode::<InternalClaims>(token, &self.decoding, &validation)?.claims)
    }
}

/// What a service knows about who called it, once the internal token is verified.
#[derive(Debug, Clone)]
pub struct Caller {
    pub service: String,
    pub user_id: Option<Uuid>,
}

impl Caller {
    pub fn require_user(&self) -> Result<Uuid, ApiError> {
        self.user_id
            .ok_or_else(|| ApiError::new(ErrorCode::UserRequired, "this route acts for a user"))
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(req.extensions().get::<Caller>().cloned().ok_or_else(|| {
            ApiError::new(ErrorCode::InternalTokenRequired, "internal token required")
        }))
    }
}

/// The user a request acts for, taken from a verified internal token.
#[derive(Debug, Clone, Copy)]
pub struct UserId(pub Uuid);

impl FromRequest for UserId {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload).into_inner();
        std::future::ready(caller.and_then(|c| c.require_user()).map(UserId))
    }
}

/// Configuration of the internal-token check for one service, kept in app data.
#[derive(Clone)]
pub struct InternalGuard {
    pub tokens: Arc<InternalTokens>,
    pub audience: &'static str,
    pub open_paths: Arc<[&'static str]>,
}

impl InternalGuard {
    pub fn new(
        tokens: Arc<InternalTokens>,
        audience: &'static str,
        extra_open: &[&'static str],
    ) -> Self {
        let open: Vec<&'static str> = OPEN_PATHS.iter().chain(extra_open).copied().collect();
        Self {
            tokens,
            audience,
            open_paths: open.into(),
        }
    }
}

/// Middleware: rejects every request without a valid internal token for this service.
pub async fn require_internal_token(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(guard) = req.app_data::<web::Data<InternalGuard>>().cloned() else {
        let err = ApiError::internal("internal guard is not configured");
        return Ok(req.into_response(err.error_response()));
    };
    if !guard.open_paths.contains(&req.path()) {
        let token = req
            .headers()
            .get(INTERNAL_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or(InternalTokenError::Missing);
        match token.and_then(|t| guard.tokens.verify(t, guard.audience)) {
            Ok(claims) => {
                req.extensions_mut().insert(Caller {
                    service: claims.iss,
                    user_id: claims.sub,
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "internal token rejected");
                let err = ApiError::new(
                    ErrorCode::InternalTokenInvalid,
                    "a valid internal token is required",
                );
                return Ok(req.into_response(err.error_response()));
            }
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secret: &str) -> InternalTokens {
        InternalTokens::new(&SecretString::from(secret.to_owned()), 60)
    }

    #[test]
    fn a_token_verifies_for_its_audience_only() {
        let t = tokens("s1");
        let user = Uuid::new_v4();
        let token = t.mint("gateway", "drugs", Some(user));
        let claims = t.verify(&token, "drugs").unwrap();
        assert_eq!(claims.sub, Some(user));
        assert_eq!(claims.iss, "gateway");
        assert!(t.verify(&token, "chat").is_err());
    }

    #[test]
    fn a_token_signed_with_another_secret_is_rejected() {
        let token = tokens("s1").mint("gateway", "drugs", None);
        assert!(tokens("s2").verify(&token, "drugs").is_err());
    }

    #[test]
    fn an_expired_token_is_rejected() {
        let t = InternalTokens::new(&SecretString::from("s1".to_owned()), -60);
        let token = t.mint("gateway", "drugs", None);
        assert!(t.verify(&token, "drugs").is_err());
    }
}
