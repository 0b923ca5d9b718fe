//! The request id and trace context of the request being served, readable anywhere in its
//! task.
//!
//! Set by the request-context middleware; read by the error envelope and by the internal
//! client, which forwards both so one id and one trace follow a request across services.

use actix_web::http::header::HeaderMap;
use opentelemetry::trace::SpanContext;

/// What a request's task knows about itself; one task-local for both, one scope per request.
struct Current {
    id: String,
    trace: SpanContext,
}

tokio::task_local! {
    static CURRENT: Current;
}

/// Platform ids first: they are what the platform's own logs show.
const SOURCES: &[&str] = &["x-fc-request-id", "x-scf-request-id", "x-request-id"];

pub fn current() -> Option<String> {
    CURRENT.try_with(|c| c.id.clone()).ok()
}

/// The span context of the request being served (see [`crate::trace_context::for_request`]).
pub fn current_trace() -> Option<SpanContext> {
    CURRENT.try_with(|c| c.trace.clone()).ok()
}

pub async fn scope<F: Future>(id: String, trace: SpanContext, fut: F) -> F::Output {
    CURRENT.scope(Current { id, trace }, fut).await
}

/// The id a request arrived with, if it is a sane token; otherwise a fresh one.
pub fn from_headers(headers: &HeaderMap) -> String {
    SOURCES
        .iter()
        .filter_map(|name| headers.get(*name)?.to_str().ok())
        .find(|v| is_valid(v))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let mut buf = uuid::Uuid::encode_buffer();
            uuid::Uuid::new_v4()
                .hyphenated()
                .encode_lower(&mut buf)
                .to_owned()
        })
}

fn is_valid(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn platform_request_ids_win_over_the_clients() {
        let id = from_headers(&headers(&[
            ("x-request-id", "client"),
            ("x-fc-request-id", "fc-1"),
        ]));
        assert_eq!(id, "fc-1");
        let id = from_headers(&headers(&[
            ("x-request-id", "client"),
            ("x-scf-request-id", "scf-1"),
        ]));
        assert_eq!(id, "scf-1");
    }

    #[test]
    fn a_hostile_request_id_is_replaced() {
        let id = from_headers(&headers(&[("x-request-id", "a b\"<script>")]));
        assert_ne!(id, "a b\"<script>");
        assert_eq!(id.len(), 36);
    }
}
