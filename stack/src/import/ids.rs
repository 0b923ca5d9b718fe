//! Our id for an original row. The originals' ids are strings; a valid UUID is kept as it is,
//! anything else becomes a UUID v5 of the kind and the string. Either way the same original
//! row always gets the same id, so a second run finds it by primary key.

use sha1::{Digest, Sha1};
use uuid::Uuid;

/// The namespace of the derived ids (any fixed UUID; chosen once, never to change).
const NAMESPACE: Uuid = Uuid::from_u128(0x5b0e_8f52_6f0a_4d5e_9c1f_7a43_2e61_c0d9);

/// The original id itself when it is a UUID, else one derived from it.
pub fn our_id(kind: &str, original: &str) -> Uuid {
    match Uuid::try_parse(original.trim()) {
        Ok(id) if !id.is_nil() => id,
        _ => derived(kind, original),
    }
}

/// A UUID v5 (RFC 9562: SHA-1 of the namespace and the name) of `kind:name`.
pub fn derived(kind: &str, name: &str) -> Uuid {
    let mut hash = Sha1::new();
    hash.update(NAMESPACE.as_bytes());
    hash.update(kind.as_bytes());
    hash.update(b":");
    hash.update(name.as_bytes());
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_is_kept_and_anything_else_is_derived_the_same_way_every_time() {
        let kept = "596aa93c-08a6-4acf-8e12-35976211b4b0";
        assert_eq!(our_id("conversation", kept).to_string(), kept);
        let a = our_id("user", "user-123");
        assert_eq!(a, our_id("user", "user-123"));
        assert_ne!(a, our_id("event", "user-123"));
        assert_eq!(a.get_version_num(), 5);
    }
}
