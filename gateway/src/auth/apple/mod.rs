//! Sign in with Apple: verifying an identity token.
//!
//! Only RS256 is accepted, whatever the token's header says (no `none`, no HS256 "signed"
//! with Apple's public key, no ES*); the key is Apple's, found by `kid` in its published key
//! set; `iss` must be Apple, `aud` one of our bundle ids, `exp` in the future (with a small
//! leeway). A `nonce` sent by the client must be in the token, either as sent or as its
//! SHA-256 in hex (client libraries differ on which one they give Apple).

mod jwks;

use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use shared::config::AppleSettings;

pub use jwks::{Jwks, JwksError};

pub const APPLE_ISSUER: &str = "https://appleid.apple.com";

/// What we use of a verified identity token.
#[derive(Debug, Clone)]
pub struct AppleIdentity {
    /// Apple's stable user id for our team (the app's `user` identifier).
    pub sub: String,
    /// Apple's `email`, when Apple says it is verified (relay addresses included).
    pub verified_email: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    email: Option<String>,
    /// Apple sends `true` or `"true"`.
    email_verified: Option<serde_json::Value>,
    nonce: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppleError {
    #[error("identity token refused: {0}")]
    Invalid(String),
    #[error(transparent)]
    Keys(#[from] JwksError),
}

impl AppleError {
    fn invalid(reason: impl Into<String>) -> Self {
        Self::Invalid(reason.into())
    }
}

pub struct AppleVerifier {
    audiences: Vec<String>,
    leeway_secs: u64,
    jwks: Jwks,
}

impl AppleVerifier {
    /// `None` when no bundle id is configured: Sign in with Apple is off.
    pub fn new(settings: &AppleSettings) -> Result<Option<Self>, reqwest::Error> {
        let audiences = settings.audiences();
        if audiences.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self {
            audiences,
            leeway_secs: settings.leeway_secs,
            jwks: Jwks::new(settings)?,
        }))
    }

    pub async fn verify(
        &self,
        token: &str,
        nonce: Option<&str>,
    ) -> Result<AppleIdentity, AppleError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| AppleError::invalid(format!("unreadable header: {e}")))?;
        if header.alg != Algorithm::RS256 {
            return Err(AppleError::invalid(format!(
                "algorithm {:?} is not RS256",
                header.alg
            )));
        }
        let kid = header
            .kid
            .filter(|k| !k.is_empty() && k.len() <= 128)
            .ok_or_else(|| AppleError::invalid("no usable kid in the header"))?;
        let key = self.jwks.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.algorithms = vec![Algorithm::RS256];
        validation.set_issuer(&[APPLE_ISSUER]);
        validation.set_audience(&self.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.leeway_secs;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| AppleError::invalid(e.to_string()))?
            .claims;
        if let Some(sent) = nonce.filter(|n| !n.is_empty()) {
            let hashed = hex::encode(Sha256::digest(sent.as_bytes()));
            let matches = claims
                .nonce
                .as_deref()
                .is_some_and(|claim| claim == sent || claim.eq_ignore_ascii_case(&hashed));
            if !matches {
                return Err(AppleError::invalid("nonce does not match"));
            }
        }
        let sub = claims.sub.trim();
        if sub.is_empty() || sub.len() > 255 {
            return Err(AppleError::invalid("unusable sub"));
        }
        let verified = matches!(claims.email_verified, Some(serde_json::Value::Bool(true)))
            || matches!(&claims.email_verified, Some(serde_json::Value::String(s)) if s == "true");
        Ok(AppleIdentity {
            sub: sub.to_owned(),
            verified_email: claims.email.filter(|_| verified),
        })
    }
}
