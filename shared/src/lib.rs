//! What every service needs, once.

pub mod certs;
pub mod config;
pub mod contracts;
pub mod db;
pub mod entities;
pub mod error;
pub mod error_code;
pub mod expiring;
pub mod internal_auth;
pub mod internal_client;
pub mod lifecycle;
pub mod llm;
pub mod middleware;
pub mod migration;
pub mod outbound;
pub mod request_id;
pub mod server;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
pub mod time;
pub mod trace_context;

pub use error::ApiError;
pub use error_code::ErrorCode;

/// The time zone of an account that has not set one (most users are in China).
pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";
/// [`DEFAULT_TIMEZONE`] as a zone: what a service assumes when a stored one cannot be read.
pub const DEFAULT_TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// Install the process-wide TLS crypto provider (ring) once; reqwest is built without one.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod default_zone_tests {
    #[test]
    fn the_default_zone_and_its_name_agree() {
        assert_eq!(super::DEFAULT_TZ.name(), super::DEFAULT_TIMEZONE);
    }
}
