//! The outermost middleware of every service: request id, trace context, one span and one
//! log line per request, and the error envelope for anything actix answered on its own.

use std::time::Instant;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use opentelemetry::trace::TraceContextExt;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::error::envelope_for_status;
use crate::request_id;
use crate::trace_context;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
pub const TRACE_ID_HEADER: HeaderName = HeaderName::from_static("x-trace-id");

/// The request id, also stored in request extensions for handlers that want it.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let id = request_id::from_headers(req.headers());
    req.extensions_mut().insert(RequestId(id.clone()));
    let pattern = req.match_pattern();
    let route = pattern.as_deref().unwrap_or("unmatched");
    let method = req.method().as_str();
    // Every field a `&str`: a `%` (Display) field is formatted through `fmt` by each layer.
    let name = [method, route].join(" ");
    let span = tracing::info_span!(
        "http.request",
        otel.kind = "server",
        otel.name = name.as_str(),
        http.request.method = method,
        url.path = req.path(),
        http.route = route,
        http.response.status_code = tracing::field::Empty,
        request_id = id.as_str(),
        trace_id = tracing::field::Empty,
    );
    let _ = span.set_parent(trace_context::extract(req.headers()));
    let trace_id = trace_context::trace_id_hex(span.context().span().span_context());
    span.record("trace_id", trace_id.as_str());
    let result = request_id::scope(id.clone(), async {
        match next.call(req).await {
            Ok(res) => {
                let res = res.map_into_boxed_body();
                if needs_envelope(&res) {
                    let status = res.status();
                    Ok(res.into_response(envelope_for_status(status)))
                } else {
                    Ok(res)
                }
            }
            // A middleware below failed: render its answer here, where the request id is
            // known, and let actix send that response.
            Err(err) => Err(err.error_response()),
        }
    })
    .instrument(span.clone())
    .await;

    let status = match &result {
        Ok(res) => res.status(),
        Err(response) => response.status(),
    };
    span.record("http.response.status_code", status.as_u16());
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), duration_ms, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), duration_ms, "request served");
        }
    });
    match result {
        Ok(mut res) => {
            tag(res.headers_mut(), &id, &trace_id);
            Ok(res)
        }
        Err(mut response) => {
            tag(response.headers_mut(), &id, &trace_id);
            Err(InternalError::from_response("request failed", response).into())
        }
    }
}

/// Both values differ on every response: marked sensitive, which over HTTP/2 keeps them out
/// of the connection's header table (they would only churn it).
fn tag(headers: &mut HeaderMap, id: &str, trace_id: &str) {
    for (name, value) in [(REQUEST_ID_HEADER, id), (TRACE_ID_HEADER, trace_id)] {
        if let Ok(mut v) = HeaderValue::from_str(value) {
            v.set_sensitive(true);
            headers.insert(name, v);
        }
    }
}

/// actix's own errors (404, 405, payload limits) carry no body or a plain-text one.
fn needs_envelope(res: &ServiceResponse<BoxBody>) -> bool {
    if !(res.status().is_client_error() || res.status().is_server_error()) {
        return false;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/json") || v.starts_with("application/problem+json")
        });
    let empty = matches!(
        res.response().body().size(),
        BodySize::None | BodySize::Sized(0)
    );
    empty || !is_json
}
