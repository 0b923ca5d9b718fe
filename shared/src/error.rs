//! The one error envelope of `API.md`:
//! `{"code","message","detail","request_id"}` for every error, actix's own included.
//!
//! Handlers return [`ApiError`]; extractor failures are mapped by [`extractor_configs`]; and
//! anything actix produces without a body (404, 405, 413 from payload limits) is rewritten by
//! the request-context middleware through [`envelope_for_status`].

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError, error, web};
use serde::Serialize;

use crate::ErrorCode;
use crate::request_id;

#[derive(Debug, Serialize, Clone)]
pub struct Envelope {
    pub code: String,
    pub message: String,
    pub detail: String,
    pub request_id: String,
}

/// An error as the client sees it: a stable code (which fixes the status) and a human message.
///
/// 5xx messages are generic; the cause is logged once, here, with the request id.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Seconds, for 429 answers.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationError, message)
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(ErrorCode::RateLimited, "too many requests, slow down")
        }
    }

    /// A failure of ours: the cause is logged here and never shown to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::InternalError, "internal server error")
    }

    pub fn bad_gateway(code: ErrorCode, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, code = code.as_str(), "upstream failure");
        Self::new(code, "upstream service failed")
    }

    pub fn gateway_timeout(code: ErrorCode, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, code = code.as_str(), "upstream timeout");
        Self::new(code, "upstream service timed out")
    }
}

/// Whether a database error means the database could not be reached (the pool could not
/// connect, or the connection broke), not that a statement was wrong.
pub fn database_unreachable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(
                e.as_ref(),
                Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed
            )
        }
        _ => false,
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        if database_unreachable(&err) {
            // Logged once here, without the request's data; the pool reconnects by itself.
            tracing::error!(error = %err, "database unreachable");
            return Self {
                retry_after: Some(2),
                ..Self::new(
                    ErrorCode::DatabaseUnavailable,
                    "the database cannot be reached just now; nothing was changed, try again",
                )
            };
        }
        Self::internal(format_args!("database: {err}"))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = envelope_response(self.status(), self.code.as_str(), &self.message);
        if let Some(secs) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub fn envelope_response(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(Envelope {
        code: code.to_owned(),
        message: message.to_owned(),
        detail: message.to_owned(),
        request_id: request_id::current().unwrap_or_default(),
    })
}

/// The envelope for a status that actix produced on its own (empty body).
pub fn envelope_for_status(status: StatusCode) -> HttpResponse {
    let code = match status {
        StatusCode::NOT_FOUND => Some(ErrorCode::NotFound),
        StatusCode::METHOD_NOT_ALLOWED => Some(ErrorCode::MethodNotAllowed),
        StatusCode::PAYLOAD_TOO_LARGE => Some(ErrorCode::PayloadTooLarge),
        StatusCode::BAD_REQUEST => Some(ErrorCode::BadRequest),
        StatusCode::UNAUTHORIZED => Some(ErrorCode::Unauthorized),
        StatusCode::FORBIDDEN => Some(ErrorCode::Forbidden),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Some(ErrorCode::UnsupportedMediaType),
        StatusCode::REQUEST_TIMEOUT => Some(ErrorCode::RequestTimeout),
        StatusCode::TOO_MANY_REQUESTS => Some(ErrorCode::RateLimited),
        s if s.is_server_error() => Some(ErrorCode::InternalError),
        _ => None,
    };
    match code {
        Some(code) => envelope_response(status, code.as_str(), default_message(code)),
        // A status actix may produce that no handler of ours does (411, 431, ...).
        None => envelope_response(status, "error", "request failed"),
    }
}

/// The English message of an envelope actix produced.
fn default_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NotFound => "no such route or resource",
        ErrorCode::MethodNotAllowed => "method not allowed on this route",
        ErrorCode::PayloadTooLarge => "request body is too large",
        ErrorCode::BadRequest => "malformed request",
        ErrorCode::Unauthorized => "authentication required",
        ErrorCode::Forbidden => "not allowed",
        ErrorCode::UnsupportedMediaType => "unsupported media type",
        ErrorCode::RequestTimeout => "request timed out",
        ErrorCode::RateLimited => "too many requests, slow down",
        _ => "internal server error",
    }
}

/// Extractor configurations that turn JSON, path and query failures into the envelope.
pub fn extractor_configs(
    json_limit: usize,
) -> (web::JsonConfig, web::PathConfig, web::QueryConfig) {
    let json = web::JsonConfig::default()
        .limit(json_limit)
        .error_handler(|err, _req| {
            let api = match &err {
                error::JsonPayloadError::Overflow { .. }
                | error::JsonPayloadError::OverflowKnownLength { .. } => {
                    ApiError::new(ErrorCode::PayloadTooLarge, "JSON body is too large")
                }
                error::JsonPayloadError::ContentType => ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "expected Content-Type: application/json",
                ),
                error::JsonPayloadError::Deserialize(e) => {
                    ApiError::new(ErrorCode::InvalidJson, format!("invalid JSON body: {e}"))
                }
                other => ApiError::new(
                    ErrorCode::InvalidJson,
                    format!("invalid JSON body: {other}"),
                ),
            };
            api.into()
        });
    let path = web::PathConfig::default().error_handler(|err, _req| {
        ApiError::new(
            ErrorCode::InvalidPath,
            format!("invalid path parameter: {err}"),
        )
        .into()
    });
    let query = web::QueryConfig::default().error_handler(|err, _req| {
        ApiError::new(
            ErrorCode::InvalidQuery,
            format!("invalid query parameter: {err}"),
        )
        .into()
    });
    (json, path, query)
}

/// Default service: every unknown route is a 404 in the envelope.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        ErrorCode::NotFound,
        "no such route or resource",
    ))
}

/// Whether a message is already written for a Chinese reader: it contains a CJK character.
pub fn is_chinese(text: &str) -> bool {
    text.chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3000}'..='\u{303f}').contains(&c))
}

impl ApiError {
    /// The same error with its message in Chinese (`ErrorCode::zh`); a message already in
    /// Chinese is kept.
    pub fn in_chinese(mut self) -> Self {
        if !is_chinese(&self.message) {
            self.message = self.code.zh().to_owned();
        }
        self
    }
}
