//! Web Push to the console's browsers: RFC 8030 (the push service), RFC 8291 (the message
//! encrypted to the subscription's keys, `aes128gcm`, by `web-push-native`) and RFC 8292
//! (VAPID: a JWT signed with our P-256 key, so the push service knows the sender).
//!
//! A subscription is a channel (`devices`, `channel = "webpush"`): its URL is
//! `webpush:<endpoint>` and its secret the browser's keys, `<p256dh>.<auth>` (base64url), both
//! sealed at rest. An endpoint that answers 404 or 410 has been dropped by the browser: the
//! channel is deleted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use secrecy::ExposeSecret;
use serde_json::json;
use shared::config::SchedulerSettings;
use url::Url;
use web_push_native::Auth;
use web_push_native::p256::PublicKey;

/// How long a VAPID token is valid (RFC 8292: at most 24 hours).
const TOKEN_SECS: i64 = 12 * 3600;

/// Our VAPID key pair and contact.
pub struct Vapid {
    key: SigningKey,
    public: String,
    subject: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Vapid {
    /// From the private scalar in base64url (with or without padding).
    pub fn new(private: &str, subject: &str) -> Result<Vapid, String> {
        let raw = B64
            .decode(private.trim().trim_end_matches('='))
            .map_err(|_| "the VAPID private key is not base64url".to_owned())?;
        let key = SigningKey::from_slice(&raw).map_err(|_| {
            "the VAPID private key is not a P-256 private key (32 bytes)".to_owned()
        })?;
        let public = B64.encode(key.verifying_key().to_encoded_point(false).as_bytes());
        Ok(Vapid {
            key,
            public,
            subject: subject.trim().to_owned(),
        })
    }

    pub fn from_settings(s: &SchedulerSettings) -> anyhow::Result<Option<Vapid>> {
        s.vapid_private_key
            .as_ref()
            .filter(|k| !k.expose_secret().trim().is_empty())
            .map(|k| Vapid::new(k.expose_secret(), &s.vapid_subject).map_err(anyhow::Error::msg))
            .transpose()
    }

    /// The public key in base64url: the browser's `applicationServerKey`.
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// `Authorization: vapid t=<JWT>, k=<public key>` for a push to `endpoint` (the token's
    /// audience is the endpoint's origin).
    pub fn authorization(&self, endpoint: &Url, now: i64) -> String {
        let header = B64.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = B64.encode(
            json!({
                "aud": endpoint.origin().ascii_serialization(),
                "exp": now + TOKEN_SECS,
                "sub": self.subject,
            })
            .to_string(),
        );
        let input = format!("{header}.{claims}");
        let signature: Signature = self.key.sign(input.as_bytes());
        format!(
            "vapid t={input}.{}, k={}",
            B64.encode(signature.to_bytes()),
            self.public
        )
    }
}

/// A new key pair, (private, public) in base64url, for `svc-scheduler vapid-keys`.
pub fn generate() -> (String, String) {
    use rand::RngCore;
    loop {
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        // All but a 2^-128 share of 32-byte strings are valid scalars.
        if let Ok(key) = SigningKey::from_slice(&raw) {
            return (
                B64.encode(raw),
                B64.encode(key.verifying_key().to_encoded_point(false).as_bytes()),
            );
        }
    }
}

/// A browser subscription's keys.
pub struct Keys {
    pub p256dh: PublicKey,
    pub auth: Auth,
}

fn bad(zh: &str, en: &str) -> String {
    format!("{zh}。{en}")
}

impl Keys {
    /// `keys.p256dh` (an uncompressed P-256 point) and `keys.auth` (16 bytes), base64url, as
    /// `PushSubscription.toJSON()` has them.
    pub fn parse(p256dh: &str, auth: &str) -> Result<Keys, String> {
        let decode = |s: &str| B64.decode(s.trim().trim_end_matches('=')).ok();
        let p256dh = decode(p256dh)
            .and_then(|b| PublicKey::from_sec1_bytes(&b).ok())
            .ok_or_else(|| {
                bad(
                    "订阅的 keys.p256dh 无效",
                    "keys.p256dh is not a P-256 public key in base64url",
                )
            })?;
        let auth = decode(auth)
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .map(Auth::from)
            .ok_or_else(|| {
                bad(
                    "订阅的 keys.auth 无效",
                    "keys.auth is not 16 bytes in base64url",
                )
            })?;
        Ok(Keys { p256dh, auth })
    }

    /// As stored in the channel's (sealed) secret.
    pub fn to_secret(&self) -> String {
        format!(
            "{}.{}",
            B64.encode(self.p256dh.to_encoded_point(false).as_bytes()),
            B64.encode(self.auth)
        )
    }

    pub fn from_secret(secret: &str) -> Result<Keys, String> {
        let (p256dh, auth) = secret
            .split_once('.')
            .ok_or_else(|| "the subscription's keys are missing".to_owned())?;
        Keys::parse(p256dh, auth)
    }

    /// `payload` encrypted to these keys (`aes128gcm`, one record).
    pub fn encrypt(&self, payload: &[u8]) -> Result<Vec<u8>, String> {
        web_push_native::encrypt(payload.to_vec(), &self.p256dh, &self.auth)
            .map_err(|e| format!("encryption failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;

    #[test]
    fn the_vapid_token_is_an_es256_jwt_for_the_endpoints_origin() {
        let (private, public) = generate();
        let vapid = Vapid::new(&private, "mailto:ops@example.com").unwrap();
        assert_eq!(vapid.public_key(), public);
        let endpoint = Url::parse("https://fcm.googleapis.com/fcm/send/abc:def").unwrap();
        let header = vapid.authorization(&endpoint, 1_800_000_000);
        let rest = header.strip_prefix("vapid t=").unwrap();
        let (token, k) = rest.split_once(", k=").unwrap();
        assert_eq!(k, public);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            claims,
            json!({"aud": "https://fcm.googleapis.com", "exp": 1_800_043_200i64, "sub": "mailto:ops@example.com"})
        );
        let key = VerifyingKey::from_sec1_bytes(&B64.decode(k).unwrap()).unwrap();
        let sig = Signature::from_slice(&B64.decode(parts[2]).unwrap()).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(key.verify(input.as_bytes(), &sig).is_ok());
        assert!(key.verify(b"other", &sig).is_err());
    }

    #[test]
    fn subscription_keys_are_checked_and_round_trip() {
        // RFC 8291, appendix A: the user agent's public key and auth secret.
        let p256dh = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
        let auth = "BTBZMqHH6r4Tts7J_aSIgg";
        let keys = Keys::parse(p256dh, auth).unwrap();
        assert_eq!(keys.to_secret(), format!("{p256dh}.{auth}"));
        assert!(Keys::from_secret(&keys.to_secret()).is_ok());
        assert!(Keys::parse("AAAA", auth).is_err());
        assert!(Keys::parse(p256dh, "c2hvcnQ").is_err());
        assert!(Keys::from_secret("no-dot").is_err());
        assert!(Vapid::new("not base64!", "mailto:a@b").is_err());
        assert!(Vapid::new(&B64.encode([0u8; 32]), "mailto:a@b").is_err());
    }
}
