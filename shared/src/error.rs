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

use crate::request_id;

#[derive(Debug, Serialize, Clone)]
pub struct Envelope {
    pub code: String,
    pub message: String,
    pub detail: String,
    pub request_id: String,
}

/// An error as the client sees it: a status, a stable machine code and a human message.
///
/// 5xx messages are generic; the cause is logged once, here, with the request id.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, for 429 answers.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::bad_request("validation_error", message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests, slow down",
            )
        }
    }

    /// A failure of ours: the cause is logged here and never shown to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal server error",
        )
    }

    pub fn bad_gateway(code: &'static str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, code, "upstream failure");
        Self::new(StatusCode::BAD_GATEWAY, code, "upstream service failed")
    }

    pub fn gateway_timeout(code: &'static str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, code, "upstream timeout");
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            code,
            "upstream service timed out",
        )
    }

    pub fn service_unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::internal(format_args!("database: {err}"))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = envelope_response(self.status, self.code, &self.message);
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
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route or resource"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "method not allowed on this route")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "request body is too large"),
        StatusCode::BAD_REQUEST => ("bad_request", "malformed request"),
        StatusCode::UNAUTHORIZED => ("unauthorized", "authentication required"),
        StatusCode::FORBIDDEN => ("forbidden", "not allowed"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "unsupported media type"),
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "request timed out"),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests, slow down"),
        s if s.is_server_error() => ("internal_error", "internal server error"),
        _ => ("error", "request failed"),
    };
    envelope_response(status, code, message)
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
                | error::JsonPayloadError::OverflowKnownLength { .. } => ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "JSON body is too large",
                ),
                error::JsonPayloadError::ContentType => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "expected Content-Type: application/json",
                ),
                error::JsonPayloadError::Deserialize(e) => {
                    ApiError::bad_request("invalid_json", format!("invalid JSON body: {e}"))
                }
                other => {
                    ApiError::bad_request("invalid_json", format!("invalid JSON body: {other}"))
                }
            };
            api.into()
        });
    let path = web::PathConfig::default().error_handler(|err, _req| {
        ApiError::bad_request("invalid_path", format!("invalid path parameter: {err}")).into()
    });
    let query = web::QueryConfig::default().error_handler(|err, _req| {
        ApiError::bad_request("invalid_query", format!("invalid query parameter: {err}")).into()
    });
    (json, path, query)
}

/// Default service: every unknown route is a 404 in the envelope.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(
        "not_found",
        "no such route or resource",
    ))
}
