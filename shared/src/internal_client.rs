//! The one way services call each other: reqwest with timeouts, the internal token for the
//! target service, the current trace context and the request id.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder};
use uuid::Uuid;

use crate::internal_auth::{INTERNAL_TOKEN_HEADER, InternalTokens};
use crate::{request_id, trace_context};

/// A peer service: the name its tokens are minted for, and its base URL.
#[derive(Debug, Clone)]
pub struct Peer {
    pub name: &'static str,
    pub base_url: String,
}

impl Peer {
    pub fn new(name: &'static str, base_url: impl Into<String>) -> Self {
        Self {
            name,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct InternalClient {
    http: reqwest::Client,
    tokens: Arc<InternalTokens>,
    caller: &'static str,
}

/// A plain client with the connection settings every internal hop uses.
pub fn http_client(timeout: Option<Duration>) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(t) = timeout {
        builder = builder.timeout(t);
    }
    builder.build()
}

impl InternalClient {
    pub fn new(
        tokens: Arc<InternalTokens>,
        caller: &'static str,
        timeout: Duration,
    ) -> reqwest::Result<Self> {
        Ok(Self {
            http: http_client(Some(timeout))?,
            tokens,
            caller,
        })
    }

    /// Build a request to `peer` acting for `user`, with the token, trace and request id set.
    pub fn request(
        &self,
        method: Method,
        peer: &Peer,
        path: &str,
        user: Option<Uuid>,
    ) -> RequestBuilder {
        let mut headers = HeaderMap::new();
        self.decorate(&mut headers, peer.name, user);
        self.http
            .request(method, format!("{}{}", peer.base_url, path))
            .headers(headers)
    }

    /// The headers of an internal hop, for callers that build their own request (the proxy).
    pub fn decorate(&self, headers: &mut HeaderMap, audience: &str, user: Option<Uuid>) {
        if let Ok(v) = HeaderValue::from_str(&self.tokens.mint(self.caller, audience, user)) {
            headers.insert(INTERNAL_TOKEN_HEADER, v);
        }
        if let Some(id) = request_id::current()
            && let Ok(v) = HeaderValue::from_str(&id)
        {
            headers.insert("x-request-id", v);
        }
        trace_context::inject_current(headers);
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}
