//! The one way services call each other: reqwest with timeouts, the internal token for the
//! target service, the current trace context and the request id.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder};
use uuid::Uuid;

use crate::expiring::ExpiringMap;
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
    minted: Arc<TokenCache>,
}

/// Internal tokens reused per (audience, user) until half their lifetime has passed, so every
/// token sent still has at least half its lifetime left. Minting one (JSON, base64, HMAC) was
/// a measurable share of a proxied request's cost.
#[derive(Debug)]
struct TokenCache(ExpiringMap<TokenKey, HeaderValue>);

/// (audience, user): what one cached token is good for.
type TokenKey = (&'static str, Option<Uuid>);

/// Enough for every active user of an instance.
const TOKEN_CACHE_CAPACITY: usize = 4096;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

impl Default for TokenCache {
    fn default() -> Self {
        Self(ExpiringMap::new(TOKEN_CACHE_CAPACITY))
    }
}

impl TokenCache {
    fn get_or_mint(
        &self,
        tokens: &InternalTokens,
        caller: &str,
        audience: &'static str,
        user: Option<Uuid>,
    ) -> Option<HeaderValue> {
        let now = chrono::Utc::now().timestamp();
        if let Some(value) = self.0.get(&(audience, user), now) {
            return Some(value);
        }
        let value = HeaderValue::from_str(&tokens.mint(caller, audience, user)).ok()?;
        self.0.insert(
            (audience, user),
            value.clone(),
            now + tokens.ttl_secs() / 2,
            now,
        );
        Some(value)
    }
}

/// A plain client with the connection settings every internal hop uses. `extra_roots` are
/// trusted beside the platform's roots (`services.ca_file`, for HTTPS service URLs behind a
/// private CA; see [`crate::certs`]).
pub fn http_client(
    timeout: Option<Duration>,
    extra_roots: &[reqwest::Certificate],
) -> reqwest::Result<reqwest::Client> {
    http_client_builder(timeout, extra_roots).build()
}

/// [`http_client`]'s settings, for a client that needs one more (the scheduler's webhook
/// client adds a resolver that keeps public addresses only).
pub fn http_client_builder(
    timeout: Option<Duration>,
    extra_roots: &[reqwest::Certificate],
) -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(t) = timeout {
        builder = builder.timeout(t);
    }
    if !extra_roots.is_empty() {
        builder = builder.tls_certs_merge(extra_roots.iter().cloned());
    }
    builder
}

impl InternalClient {
    /// `extra_roots`: the certificates of `services.ca_file` ([`crate::certs::services_ca`]).
    pub fn new(
        tokens: Arc<InternalTokens>,
        caller: &'static str,
        timeout: Duration,
        extra_roots: &[reqwest::Certificate],
    ) -> reqwest::Result<Self> {
        Ok(Self {
            http: http_client(Some(timeout), extra_roots)?,
            tokens,
            caller,
            minted: Arc::default(),
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
    pub fn decorate(&self, headers: &mut HeaderMap, audience: &'static str, user: Option<Uuid>) {
        if let Some(v) = self
            .minted
            .get_or_mint(&self.tokens, self.caller, audience, user)
        {
            headers.insert(INTERNAL_TOKEN_HEADER, v);
        }
        // Sensitive: over HTTP/2, a value that never repeats stays out of the header table.
        if let Some(id) = request_id::current()
            && let Ok(mut v) = HeaderValue::from_str(&id)
        {
            v.set_sensitive(true);
            headers.insert(REQUEST_ID, v);
        }
        trace_context::inject_current(headers);
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn client() -> (InternalClient, Arc<InternalTokens>) {
        let tokens = Arc::new(InternalTokens::new(
            &SecretString::from("an-internal-secret".to_owned()),
            120,
        ));
        let client = InternalClient::new(tokens.clone(), "gateway", Duration::from_secs(5), &[])
            .expect("client");
        (client, tokens)
    }

    fn token(client: &InternalClient, audience: &'static str, user: Option<Uuid>) -> String {
        let mut headers = HeaderMap::new();
        client.decorate(&mut headers, audience, user);
        headers[INTERNAL_TOKEN_HEADER]
            .to_str()
            .expect("ascii")
            .to_owned()
    }

    #[test]
    fn a_minted_token_is_reused_for_the_same_service_and_user_only() {
        crate::install_crypto_provider();
        let (client, tokens) = client();
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let first = token(&client, "drugs", Some(alice));
        assert_eq!(token(&client, "drugs", Some(alice)), first);
        let for_bob = token(&client, "drugs", Some(bob));
        let for_chat = token(&client, "chat", Some(alice));
        assert_ne!(for_bob, first);
        assert_ne!(for_chat, first);
        assert_eq!(tokens.verify(&first, "drugs").unwrap().sub, Some(alice));
        assert_eq!(tokens.verify(&for_bob, "drugs").unwrap().sub, Some(bob));
        assert_eq!(tokens.verify(&for_chat, "chat").unwrap().sub, Some(alice));
        assert!(tokens.verify(&for_chat, "drugs").is_err());
    }
}
