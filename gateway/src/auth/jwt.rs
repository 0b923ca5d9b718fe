//! User tokens. The configured algorithm is pinned: a token with `alg: none`, another
//! algorithm, a wrong signature, an expired `exp` or the wrong `token_type` is refused.

use std::str::FromStr;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
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
}

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
