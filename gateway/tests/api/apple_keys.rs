//! Apple's side for the Sign in with Apple tests: RSA keys made here, a key server
//! (wiremock) serving them, and identity tokens signed with them.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, spawn_app_with};

pub const BUNDLE_ID: &str = "com.example.unilife";
const ISSUER: &str = "https://appleid.apple.com";

pub struct TestKey {
    pub kid: &'static str,
    pub private_der: Vec<u8>,
    pub public_der: Vec<u8>,
    pub jwk: Value,
}

fn make_key(kid: &'static str) -> TestKey {
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("an RSA key");
    let public = private.to_public_key();
    let b64 = |n: &rsa::BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
    TestKey {
        kid,
        private_der: private.to_pkcs1_der().unwrap().as_bytes().to_vec(),
        public_der: public.to_pkcs1_der().unwrap().as_bytes().to_vec(),
        jwk: json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": b64(public.n()), "e": b64(public.e())}),
    }
}

/// Two keys for the whole test binary (making RSA keys is slow).
pub fn keys() -> &'static [TestKey; 2] {
    static KEYS: OnceLock<[TestKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| [make_key("key-a"), make_key("key-b")])
}

pub fn key_set(keys: &[&TestKey]) -> Value {
    json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
}

/// Apple's claims for `sub`, valid for ten minutes.
pub fn claims(sub: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": ISSUER, "aud": BUNDLE_ID, "exp": now + 600, "iat": now, "sub": sub,
        "email": format!("{sub}@privaterelay.appleid.com"), "email_verified": "true",
        "is_private_email": "true", "auth_time": now, "nonce_supported": true})
}

pub fn sign(key: &TestKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_der(&key.private_der),
    )
    .unwrap()
}

/// A token whose header and signature are made by hand.
pub fn forged(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

pub async fn key_server(keys: &[&TestKey], expected_fetches: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/auth/keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(key_set(keys)))
        .expect(expected_fetches)
        .mount(&server)
        .await;
    server
}

pub async fn apple_app(server: &MockServer, min_refetch_secs: u64) -> TestApp {
    let url = format!("{}/auth/keys", server.uri());
    spawn_app_with(move |s| {
        s.apple.bundle_ids = vec!["com.example.other".into(), BUNDLE_ID.into()];
        s.apple.jwks_url = url;
        s.apple.jwks_min_refetch_secs = min_refetch_secs;
    })
    .await
}

impl TestApp {
    pub async fn apple(&self, body: &Value) -> reqwest::Response {
        self.post_json("/api/v1/auth/apple", body).await
    }
}
