//! Apple's signing keys, fetched from `apple.jwks_url` and kept by `kid`.
//!
//! Keys are used for `apple.jwks_cache_secs`, then fetched again. A token naming a key we do
//! not hold triggers a fetch too (Apple rotates keys), but at most one fetch per
//! `apple.jwks_min_refetch_secs`, so a flood of made-up `kid`s cannot hammer Apple. Fetches
//! are single-flight; while one runs, the others wait for its result. When a fetch fails the
//! keys already held stay in use.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm, PublicKeyUse};
use shared::config::AppleSettings;
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("Apple's keys could not be fetched: {0}")]
    Unreachable(String),
    #[error("no Apple key has kid {0:?}")]
    UnknownKid(String),
}

#[derive(Default)]
struct Held {
    keys: HashMap<String, Arc<DecodingKey>>,
    fetched_at: Option<Instant>,
}

pub struct Jwks {
    url: String,
    http: reqwest::Client,
    ttl: Duration,
    min_refetch: Duration,
    held: RwLock<Held>,
    /// Held while fetching (single flight); the time of the last attempt.
    fetching: Mutex<Option<Instant>>,
}

impl Jwks {
    pub fn new(settings: &AppleSettings) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(settings.timeout_secs.min(5)))
            .timeout(Duration::from_secs(settings.timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            // Fetches are rare and may come from any worker's runtime: no pooled connection
            // outlives the fetch that opened it.
            .pool_max_idle_per_host(0)
            .build()?;
        Ok(Self {
            url: settings.jwks_url.trim().to_owned(),
            http,
            ttl: Duration::from_secs(settings.jwks_cache_secs),
            min_refetch: Duration::from_secs(settings.jwks_min_refetch_secs),
            held: RwLock::new(Held::default()),
            fetching: Mutex::new(None),
        })
    }

    /// The key `kid`, fetching Apple's keys when they are stale or do not have it.
    pub async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, JwksError> {
        if let Some(key) = self.held_key(kid, true) {
            return Ok(key);
        }
        let mut last_attempt = self.fetching.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = self.held_key(kid, true) {
            return Ok(key);
        }
        let now = Instant::now();
        let may_fetch = last_attempt.is_none_or(|at| now.duration_since(at) >= self.min_refetch);
        let mut failure = None;
        if may_fetch {
            *last_attempt = Some(now);
            match self.fetch().await {
                Ok(keys) => {
                    tracing::info!(keys = keys.len(), "Apple's signing keys fetched");
                    let mut held = self.held.write().unwrap_or_else(|p| p.into_inner());
                    held.keys = keys;
                    held.fetched_at = Some(now);
                }
                Err(e) => {
                    tracing::warn!(error = %e, url = %self.url, "Apple's signing keys could not be fetched");
                    failure = Some(e);
                }
            }
        }
        drop(last_attempt);
        // Stale keys are better than none while Apple cannot be reached or fetching waits.
        if let Some(key) = self.held_key(kid, false) {
            return Ok(key);
        }
        // Holding no key at all means Apple could not be reached (now or at the last try),
        // not that the token is bad.
        match failure {
            Some(e) if self.is_empty() => Err(e),
            None if self.is_empty() => Err(JwksError::Unreachable(
                "no key fetched yet; the last fetch failed".into(),
            )),
            _ => Err(JwksError::UnknownKid(kid.to_owned())),
        }
    }

    fn is_empty(&self) -> bool {
        self.held.read().map_or(true, |held| held.keys.is_empty())
    }

    fn held_key(&self, kid: &str, fresh_only: bool) -> Option<Arc<DecodingKey>> {
        let held = self.held.read().unwrap_or_else(|p| p.into_inner());
        if fresh_only && held.fetched_at.is_none_or(|at| at.elapsed() >= self.ttl) {
            return None;
        }
        held.keys.get(kid).cloned()
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<DecodingKey>>, JwksError> {
        let unreachable = |e: reqwest::Error| JwksError::Unreachable(e.to_string());
        let response = self
            .http
            .get(&self.url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(unreachable)?
            .error_for_status()
            .map_err(unreachable)?;
        let set: JwkSet = response.json().await.map_err(unreachable)?;
        Ok(rsa_signing_keys(&set))
    }
}

/// The RSA signature keys of a key set, by `kid`; any other key is skipped.
fn rsa_signing_keys(set: &JwkSet) -> HashMap<String, Arc<DecodingKey>> {
    set.keys
        .iter()
        .filter(|jwk| matches!(jwk.algorithm, AlgorithmParameters::RSA(_)))
        .filter(|jwk| {
            jwk.common
                .public_key_use
                .as_ref()
                .is_none_or(|u| *u == PublicKeyUse::Signature)
        })
        .filter(|jwk| {
            jwk.common
                .key_algorithm
                .is_none_or(|alg| alg == KeyAlgorithm::RS256)
        })
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            let key = DecodingKey::from_jwk(jwk).ok()?;
            Some((kid, Arc::new(key)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rsa_signature_keys_with_a_kid_are_kept() {
        let set: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "good", "use": "sig", "alg": "RS256", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "kid": "no-alg", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "alg": "RS256", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "kid": "other-alg", "alg": "RS512", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "n": "sXch", "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
        ]}))
        .unwrap();
        let mut kept: Vec<String> = rsa_signing_keys(&set).into_keys().collect();
        kept.sort();
        assert_eq!(kept, ["good", "no-alg"]);
    }
}
