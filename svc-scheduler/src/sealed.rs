//! Channel URLs and webhook secrets at rest: AES-256-GCM under a key derived from
//! `scheduler.channel_key`, stored as `sealed:v1:<base64url(nonce ‖ ciphertext ‖ tag)>`.
//!
//! The column's name is bound into the tag (as associated data), so a sealed secret copied
//! into the URL column does not open. A value without the prefix (written before sealing
//! existed, or by hand) is read as it is.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

const PREFIX: &str = "sealed:v1:";

/// Which column a value belongs to (bound into the tag).
#[derive(Debug, Clone, Copy)]
pub enum Field {
    Url,
    Secret,
}

impl Field {
    fn label(self) -> &'static [u8] {
        match self {
            Field::Url => b"devices.url",
            Field::Secret => b"devices.secret",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("a stored channel could not be opened (was scheduler.channel_key changed?)")]
pub struct Unreadable;

pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub fn new(secret: &SecretString) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"unilife channel key v1\0");
        hasher.update(secret.expose_secret().as_bytes());
        let digest = hasher.finalize();
        let key = UnboundKey::new(&AES_256_GCM, &digest)
            .map(LessSafeKey::new)
            // A 32-byte key is what AES-256-GCM takes; SHA-256 gives exactly that.
            .unwrap_or_else(|_| unreachable!("SHA-256 yields a 32-byte key"));
        Self {
            key,
            rng: SystemRandom::new(),
        }
    }

    pub fn seal(&self, field: Field, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        // The system's random source does not fail on the platforms we build for; a nonce of
        // zeros would be reused, so a failure is not papered over.
        if self.rng.fill(&mut nonce).is_err() {
            unreachable!("the system random source failed");
        }
        let mut buf = plain.as_bytes().to_vec();
        if self
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(field.label()),
                &mut buf,
            )
            .is_err()
        {
            unreachable!("sealing a short text cannot fail");
        }
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    pub fn open(&self, field: Field, stored: &str) -> Result<String, Unreadable> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let raw = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| Unreadable)?;
        if raw.len() < NONCE_LEN {
            return Err(Unreadable);
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unreadable)?;
        let mut buf = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(field.label()), &mut buf)
            .map_err(|_| Unreadable)?;
        String::from_utf8(plain.to_vec()).map_err(|_| Unreadable)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    fn sealer(key: &str) -> Sealer {
        Sealer::new(&SecretString::from(key.to_owned()))
    }

    #[test]
    fn what_is_sealed_opens_only_with_its_key_and_column() {
        let s = sealer("k1");
        let url = "dingtalk://SEC123@token456";
        let sealed = s.seal(Field::Url, url);
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("token456"), "nothing readable at rest");
        assert_ne!(sealed, s.seal(Field::Url, url), "a fresh nonce each time");
        assert_eq!(s.open(Field::Url, &sealed).unwrap(), url);
        assert!(
            s.open(Field::Secret, &sealed).is_err(),
            "bound to its column"
        );
        assert!(sealer("k2").open(Field::Url, &sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(s.open(Field::Url, &tampered).is_err());
        // Rows written before sealing read as they are.
        assert_eq!(
            s.open(Field::Url, "https://example.com/h").unwrap(),
            "https://example.com/h"
        );
    }
}
