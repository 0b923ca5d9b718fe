//! The proxy hop's HTTP client.
//!
//! hyper-util's pooled client — what reqwest is built on — used directly. A proxied request
//! arrives parsed and its headers are already filtered, so the hop skips reqwest's URL
//! re-parsing and its per-request layers (redirect and retry policies, boxed futures), which
//! were a measurable share of the gateway's CPU per request. Every other service-to-service
//! call still goes through `shared::internal_client` (reqwest).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use http_body_util::combinators::BoxBody;
use hyper::body::{Body as _, Incoming};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls_platform_verifier::BuilderVerifierExt;
use tokio::time::{Instant, Sleep};

/// A request body on its way to a service: empty, or the client's upload streamed through.
pub type Body = BoxBody<Bytes, std::io::Error>;

/// One per actix worker: a pooled connection is driven by the runtime that opened it.
pub struct UpstreamClient {
    /// HTTP/1.1 on plain HTTP (a connection per request in flight); over TLS, HTTP/2 when the
    /// service's ALPN accepts it, else HTTP/1.1.
    client: Client<HttpsConnector<HttpConnector>, Body>,
    /// HTTP/2 with prior knowledge on plain `http://` service URLs when configured: every
    /// request in flight shares one connection (an open chat stream costs an HTTP/2 stream,
    /// not a socket with its buffers at both ends).
    h2c: Option<Client<HttpsConnector<HttpConnector>, Body>>,
}

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("no answer before the route's deadline")]
    Timeout,
    #[error("connecting: {0}")]
    Connect(hyper_util::client::legacy::Error),
    #[error("{0}")]
    Other(hyper_util::client::legacy::Error),
}

impl UpstreamClient {
    /// Plain HTTP for local and compose stacks; HTTPS (platform roots) for the platforms'
    /// intranet URLs. With `h2c`, plain-HTTP services are spoken to in HTTP/2 with prior
    /// knowledge (ours accept it; a service that only speaks HTTP/1.1 would not).
    pub fn new(
        h2c: bool,
        extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    ) -> Result<Self, rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let tls = if extra_roots.is_empty() {
            builder.with_platform_verifier()?
        } else {
            let verifier =
                rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider)?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
        }
        .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(3)));
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            // Over TLS, ALPN offers h2 first: a service that accepts it carries every request
            // in flight on one connection, as h2c does on plain HTTP.
            .enable_all_versions()
            .wrap_connector(http);
        let mut pooled = Client::builder(TokioExecutor::new());
        pooled
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            // A dead HTTP/2 connection is noticed while streams idle (a chat stream can wait
            // on the model for long stretches).
            .http2_keep_alive_interval(Duration::from_secs(30))
            .http2_keep_alive_timeout(Duration::from_secs(10));
        let client = pooled.build(connector.clone());
        let h2c = h2c.then(|| pooled.http2_only(true).build(connector));
        Ok(Self { client, h2c })
    }

    /// Send `request` and wait for the answer's head until `deadline`.
    pub async fn send(
        &self,
        request: http::Request<Body>,
        deadline: Instant,
    ) -> Result<http::Response<Incoming>, UpstreamError> {
        let client = match &self.h2c {
            Some(h2c) if request.uri().scheme() == Some(&http::uri::Scheme::HTTP) => h2c,
            _ => &self.client,
        };
        match tokio::time::timeout_at(deadline, client.request(request)).await {
            Err(_) => Err(UpstreamError::Timeout),
            Ok(Err(e)) if e.is_connect() => Err(UpstreamError::Connect(e)),
            Ok(Err(e)) => Err(UpstreamError::Other(e)),
            Ok(Ok(response)) => Ok(response),
        }
    }
}

/// An answer's body as a stream of chunks that fails once `deadline` passes: the route's
/// timeout covers the whole exchange, as it did with reqwest. The timer is only set up when
/// the body makes the stream wait (a small JSON answer usually comes with its head).
pub struct BodyStream {
    body: Incoming,
    deadline: Instant,
    timer: Option<Pin<Box<Sleep>>>,
    finished: bool,
}

impl BodyStream {
    pub fn new(body: Incoming, deadline: Instant) -> Self {
        Self {
            body,
            deadline,
            timer: None,
            finished: false,
        }
    }

    /// The body's exact length, when the service declared one.
    pub fn exact_len(&self) -> Option<u64> {
        self.body.size_hint().exact()
    }
}

impl Stream for BodyStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        loop {
            match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    // Trailers are not relayed.
                    if let Ok(data) = frame.into_data() {
                        return Poll::Ready(Some(Ok(data)));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(std::io::Error::other(e))));
                }
                Poll::Ready(None) => {
                    this.finished = true;
                    return Poll::Ready(None);
                }
                Poll::Pending => break,
            }
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.as_mut().poll(cx).is_ready() {
            this.finished = true;
            return Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "upstream body not finished before the route's deadline",
            ))));
        }
        Poll::Pending
    }
}
