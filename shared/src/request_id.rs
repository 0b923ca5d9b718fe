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

/// The request's id, trace context and tracing span, taken from the task serving it so that
/// work it hands to another task (a streamed turn, image decoding on a blocking thread) logs
/// with the same request id and calls other services in the same trace.
#[derive(Clone)]
pub struct Context {
    id: String,
    trace: SpanContext,
    span: tracing::Span,
}

impl Context {
    /// The current request's context; outside a request, none (the span is still carried).
    pub fn capture() -> Option<Self> {
        CURRENT
            .try_with(|c| Self {
                id: c.id.clone(),
                trace: c.trace.clone(),
                span: tracing::Span::current(),
            })
            .ok()
    }

    /// Run `fut` inside this context.
    pub async fn scope<F: Future>(self, fut: F) -> F::Output {
        use tracing::Instrument;
        let span = self.span;
        CURRENT
            .scope(
                Current {
                    id: self.id,
                    trace: self.trace,
                },
                fut,
            )
            .instrument(span)
            .await
    }

    /// Run `f` inside this context, on this thread.
    pub fn sync_scope<R>(self, f: impl FnOnce() -> R) -> R {
        let span = self.span;
        let current = Current {
            id: self.id,
            trace: self.trace,
        };
        span.in_scope(|| CURRENT.sync_scope(current, f))
    }
}

/// `actix_web::rt::spawn` (a task on this worker's thread) with the request's context carried
/// over: the one way a handler starts work that outlives it or runs beside it.
pub fn spawn_local<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match Context::capture() {
        Some(context) => actix_web::rt::spawn(context.scope(fut)),
        None => {
            use tracing::Instrument;
            actix_web::rt::spawn(fut.instrument(tracing::Span::current()))
        }
    }
}

/// `tokio::task::spawn_blocking` with the request's context carried over (CPU-heavy work
/// such as image decoding logs under the request's span and id).
pub fn spawn_blocking<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let context = Context::capture();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || match context {
        Some(context) => context.sync_scope(f),
        None => span.in_scope(f),
    })
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

    #[tokio::test]
    async fn spawned_work_keeps_the_requests_id_and_trace() {
        use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};
        let trace = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap_or(TraceId::INVALID),
            SpanId::from_hex("00f067aa0ba902b7").unwrap_or(SpanId::INVALID),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        let seen = || (current(), current_trace());
        let (local, blocking) = scope("req-1".into(), trace.clone(), async {
            let local = tokio::task::LocalSet::new()
                .run_until(async { spawn_local(async move { seen() }).await })
                .await
                .ok();
            let blocking = spawn_blocking(seen).await.ok();
            (local, blocking)
        })
        .await;
        let expected = Some((Some("req-1".to_owned()), Some(trace)));
        assert_eq!(local, expected);
        assert_eq!(blocking, expected);
        // Outside a request there is nothing to carry, and nothing fails.
        assert_eq!(spawn_blocking(current).await.ok().flatten(), None);
    }

    #[test]
    fn a_hostile_request_id_is_replaced() {
        let id = from_headers(&headers(&[("x-request-id", "a b\"<script>")]));
        assert_ne!(id, "a b\"<script>");
        assert_eq!(id.len(), 36);
    }
}
