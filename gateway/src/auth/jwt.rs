//! User tokens. The configured algorithm is pinned: a token with `alg: none`, another
//! algorithm, a wrong signature, an expired `exp` or the wrong `token_type` is refused.

use std::str::FromStr;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use shared::expiring::ExpiringMap;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The account's UUID.
    pub sub: Uuid,
    pub token_type: TokenType,
    pub exp: i64,
    pub iat: i64,
    pub jti: Uuid,
    /// The session (refresh family) the token belongs to.
    pub sid: Uuid,
}

#[derive(Clone)]
pub struct JwtKeys {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    access_ttl_secs: i64,
    refresh_ttl_secs: i64,
    verified: Arc<ExpiringMap<Box<str>, Claims>>,
}

/// Access tokens remembered once verified (the exact token text is the key, so a token that
/// differs in any byte is verified afresh); a remembered token is accepted only before its
/// `exp`. Signature checks and claim parsing were a measurable share of a proxied request.
const VERIFIED_CAPACITY: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token rejected: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("a {0:?} token was presented where another type is required")]
    WrongType(TokenType),
}

impl JwtKeys {
    pub fn new(
        secret: &SecretString,
        algorithm: &str,
        access_minutes: i64,
        refresh_days: i64,
    ) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Self {
            // The configuration only admits HS256/384/512.
            algorithm: Algorithm::from_str(algorithm).unwrap_or(Algorithm::HS256),
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            access_ttl_secs: access_minutes * 60,
            refresh_ttl_secs: refresh_days * 86_400,
            verified: Arc::new(ExpiringMap::new(VERIFIED_CAPACITY)),
        }
    }

    pub fn access_ttl_secs(&self) -> i64 {
        self.access_ttl_secs
    }

    pub fn refresh_ttl_secs(&self) -> i64 {
        self.refresh_ttl_secs
    }

    pub fn issue(
        &self,
        user: Uuid,
        session: Uuid,
        token_type: TokenType,
    ) -> Result<(String, Claims), TokenError> {
        let now = chrono::Utc::now().timestamp();
        let ttl = match token_type {
            TokenType::Access => self.access_ttl_secs,
            TokenType::Refresh => self.refresh_ttl_secs,
        };
        let claims = Claims {
            sub: user,
            token_type,
            exp: now + ttl,
            iat: now,
            jti: Uuid::new_v4(),
            sid: session,
        };
        let token = jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.encoding)?;
        Ok((token, claims))
    }

    pub fn verify(&self, token: &str, expected: TokenType) -> Result<Claims, TokenError> {
        if expected != TokenType::Access {
            return self.verify_signed(token, expected);
        }
        let now = chrono::Utc::now().timestamp();
        if let Some(claims) = self.verified.get(token, now) {
            return Ok(claims);
        }
        let claims = self.verify_signed(token, expected)?;
        self.verified
            .insert(token.into(), claims.clone(), claims.exp, now);
        Ok(claims)
    }

    fn verify_signed(&self, token: &str, expected: TokenType) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(self.algorithm);
        validation.algorithms = vec![self.algorithm];
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 0;
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)?.claims;
        if claims.token_type != expected {
            return Err(TokenError::WrongType(claims.token_type));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(
            &SecretString::from("a-test-secret-that-is-long-enough-0123".to_owned()),
            "HS256",
            10,
            30,
        )
    }

    #[test]
    fn a_token_that_differs_from_a_verified_one_by_one_byte_is_refused() {
        let keys = keys();
        let (token, claims) = keys
            .issue(Uuid::new_v4(), Uuid::new_v4(), TokenType::Access)
            .unwrap();
        assert_eq!(
            keys.verify(&token, TokenType::Access).unwrap().jti,
            claims.jti
        );
        // Served from the cache the second time, same answer.
        assert_eq!(
            keys.verify(&token, TokenType::Access).unwrap().jti,
            claims.jti
        );
        let mut forged = token.into_bytes();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        assert!(keys.verify(&forged, TokenType::Access).is_err());
    }

    #[test]
    fn a_remembered_token_past_its_exp_is_refused() {
        let keys = keys();
        let (token, mut claims) = keys
            .issue(Uuid::new_v4(), Uuid::new_v4(), TokenType::Access)
            .unwrap();
        claims.exp = chrono::Utc::now().timestamp() - 1;
        // As if it had been verified while still valid; its signature says a later exp, so
        // plant a text that no key signed to show the cache alone decides nothing after exp.
        let planted = format!("{token}x");
        let now = chrono::Utc::now().timestamp();
        keys.verified.insert(
            planted.as_str().into(),
            claims.clone(),
            claims.exp,
            now - 10,
        );
        assert!(keys.verify(&planted, TokenType::Access).is_err());
    }

    #[test]
    fn a_refresh_token_is_never_accepted_as_access_even_once_seen() {
        let keys = keys();
        let (refresh, _) = keys
            .issue(Uuid::new_v4(), Uuid::new_v4(), TokenType::Refresh)
            .unwrap();
        assert!(keys.verify(&refresh, TokenType::Refresh).is_ok());
        assert!(keys.verify(&refresh, TokenType::Access).is_err());
        assert!(keys.verify(&refresh, TokenType::Access).is_err());
    }
}
