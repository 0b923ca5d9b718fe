//! Extra certificate authorities from a PEM file (`services.ca_file`, `llm_chat.ca_file`,
//! `llm_vision.ca_file`), read once at startup by whichever client needs them.

use std::path::Path;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::config::ConfigError;

/// The certificates in the PEM file at `path`; `key` names the setting in the error, which
/// says whether the file could not be read, is not PEM or holds no certificate.
pub fn pem_certificates(
    path: &Path,
    key: &'static str,
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let bad = |reason: String| ConfigError::BadValue { key, reason };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("{} is not a PEM bundle: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(bad(format!("{} holds no certificate", path.display())));
    }
    Ok(certs)
}

/// The certificates of an optional setting: none when it is unset.
pub fn optional_pem_certificates(
    path: Option<&Path>,
    key: &'static str,
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    path.map_or_else(|| Ok(Vec::new()), |p| pem_certificates(p, key))
}

/// The certificate authorities of `services.ca_file` (none when unset): trusted for HTTPS
/// service URLs by the gateway's proxy hop and by every service's internal client.
pub fn services_ca(
    services: &crate::config::ServiceUrls,
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    optional_pem_certificates(services.ca_file.as_deref(), "services.ca_file")
}

/// [`services_ca`] in reqwest's form: what a service's internal client trusts.
pub fn services_ca_for_reqwest(
    services: &crate::config::ServiceUrls,
) -> Result<Vec<reqwest::Certificate>, ConfigError> {
    for_reqwest(&services_ca(services)?, "services.ca_file")
}

/// reqwest's form of the same certificates (`key` names the setting they came from).
pub fn for_reqwest(
    certs: &[CertificateDer<'static>],
    key: &'static str,
) -> Result<Vec<reqwest::Certificate>, ConfigError> {
    certs
        .iter()
        .map(|c| {
            reqwest::Certificate::from_der(c.as_ref()).map_err(|e| ConfigError::BadValue {
                key,
                reason: format!("a certificate cannot be used: {e}"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_an_empty_or_a_non_pem_file_is_refused_with_the_setting_named() {
        let dir = std::env::temp_dir().join(format!("certs-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let broken = dir.join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        for (path, says) in [
            (&missing, "cannot read"),
            (&empty, "holds no certificate"),
            (&broken, "is not a PEM bundle"),
        ] {
            let err = pem_certificates(path, "services.ca_file")
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("invalid value for services.ca_file"),
                "{err}"
            );
            assert!(err.contains(says), "{err}");
        }
        assert!(
            optional_pem_certificates(None, "services.ca_file")
                .unwrap()
                .is_empty()
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
