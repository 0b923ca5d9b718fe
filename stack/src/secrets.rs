//! The local stack's signing secrets: made at first start, kept in the data directory.
//!
//! The built-in development value is in the source, so anyone could forge a token for any
//! account of a stack that used it. Unless the user configured a secret, the stack makes a
//! random one the first time, writes it to `<data>/secrets` (owner-only), and reads it back on
//! every later start so sessions survive a restart.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use shared::config::{DEV_SECRET, Settings};

pub const FILE_NAME: &str = "secrets";
const KEYS: [&str; 2] = ["jwt_secret", "internal_secret"];

/// Fill every secret still at the built-in value from `<dir>/secrets`, creating the file (and
/// the directory) with new random values when it is missing. Returns the file's path.
pub fn ensure(settings: &mut Settings, dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join(FILE_NAME);
    let mut stored = read(&path)?;
    let mut changed = false;
    for key in KEYS {
        if !stored.contains_key(key) {
            stored.insert(key.to_owned(), random_secret());
            changed = true;
        }
    }
    if changed {
        write(&path, &stored)?;
    }
    let auth = &mut settings.auth;
    for (key, slot) in [
        ("jwt_secret", &mut auth.jwt_secret),
        ("internal_secret", &mut auth.internal_secret),
    ] {
        if slot.expose_secret() == DEV_SECRET
            && let Some(value) = stored.get(key)
        {
            *slot = SecretString::from(value.clone());
        }
    }
    Ok(path)
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn read(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => anyhow::bail!("reading {}: {e}", path.display()),
    };
    let mut values = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            anyhow::bail!("{}: a line is not `key = value`", path.display());
        };
        let (key, value) = (key.trim(), value.trim());
        if !KEYS.contains(&key) {
            anyhow::bail!("{}: unknown key {key:?}", path.display());
        }
        if value.len() < 32 || value == DEV_SECRET {
            anyhow::bail!(
                "{}: {key} must be at least 32 characters and not the built-in value; \
                 delete the file to have new secrets made (every session then signs in again)",
                path.display()
            );
        }
        values.insert(key.to_owned(), value.to_owned());
    }
    Ok(values)
}

fn write(path: &Path, values: &BTreeMap<String, String>) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut text = String::from(
        "# Made by the local stack at first start. Keep it private: it signs every session.\n",
    );
    for (key, value) in values {
        text.push_str(&format!("{key} = {value}\n"));
    }
    // Written whole to a new owner-only file, then moved into place: the secrets are never
    // readable by others, not even for a moment, whatever the old file's permissions were.
    let temporary = path.with_extension("new");
    let _ = std::fs::remove_file(&temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&temporary)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", temporary.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    fn settings() -> Settings {
        Settings::load_from(None, &Default::default()).unwrap()
    }

    #[test]
    fn secrets_are_made_once_kept_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("secrets-{}", uuid::Uuid::new_v4()));
        let mut first = settings();
        let path = ensure(&mut first, &dir).unwrap();
        let jwt = first.auth.jwt_secret.expose_secret().to_owned();
        let internal = first.auth.internal_secret.expose_secret().to_owned();
        assert_ne!(jwt, DEV_SECRET);
        assert_ne!(jwt, internal);
        assert_eq!(jwt.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut second = settings();
        ensure(&mut second, &dir).unwrap();
        assert_eq!(second.auth.jwt_secret.expose_secret(), jwt);
        assert_eq!(second.auth.internal_secret.expose_secret(), internal);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_configured_secret_is_kept_and_a_weak_stored_one_refused() {
        let dir = std::env::temp_dir().join(format!("secrets-{}", uuid::Uuid::new_v4()));
        let mut configured = settings();
        configured.auth.jwt_secret = SecretString::from("x".repeat(40));
        ensure(&mut configured, &dir).unwrap();
        assert_eq!(configured.auth.jwt_secret.expose_secret(), "x".repeat(40));
        assert_ne!(configured.auth.internal_secret.expose_secret(), DEV_SECRET);
        std::fs::write(dir.join(FILE_NAME), format!("jwt_secret = {DEV_SECRET}\n")).unwrap();
        let err = ensure(&mut settings(), &dir).unwrap_err().to_string();
        assert!(err.contains("jwt_secret"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
