//! What every gateway handler shares.

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::HttpRequest;
use sea_orm::DatabaseConnection;
use shared::ApiError;
use shared::ErrorCode;
use shared::internal_client::Peer;
use uuid::Uuid;

use crate::auth::JwtKeys;
use crate::auth::apple::AppleVerifier;
use crate::auth::legacy::LegacyAccount;
use crate::auth::revocation::SessionCheck;
use crate::rate_limit::Limits;
use crate::routing::RouteTable;

pub struct AppState {
    pub db: DatabaseConnection,
    pub jwt: JwtKeys,
    /// Whether an access token's session is still open (cached a few seconds).
    pub sessions: SessionCheck,
    pub limits: Arc<Limits>,
    pub routes: RouteTable,
    /// The services `GET /api/v1/health` asks, by public name.
    pub peers: Vec<(&'static str, Peer)>,
    pub trust_forwarded_for: bool,
    /// `server.public_url` without its trailing `/`.
    pub public_url: Option<String>,
    pub legacy: Option<LegacyAccount>,
    pub max_body_bytes: u64,
    /// Sign in with Apple; `None` when no bundle id is configured (off).
    pub apple: Option<AppleVerifier>,
    /// `compat.passwordless_login`: the original app's sign-in by `user_id` alone.
    pub passwordless_login: bool,
    /// The web console's Sign in with Apple: (Services ID, Apple's authorize URL).
    pub apple_web: Option<(String, String)>,
}

impl AppState {
    /// The client's address: behind a trusted proxy, the last `X-Forwarded-For` entry (the
    /// one that proxy appended; earlier entries are whatever the client sent), else the
    /// socket peer.
    pub fn client_ip(&self, req: &HttpRequest) -> IpAddr {
        if self.trust_forwarded_for
            && let Some(ip) = req
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
        req.peer_addr()
            .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip())
    }

    /// The address the client reached us at, for links a service writes (the calendar
    /// feed's): `server.public_url` when set; behind a trusted proxy the last host and scheme
    /// it forwarded (the entries it appended; earlier ones are the client's); else the
    /// request's own `Host` and scheme. Only a plain host name and http(s) go into a link.
    pub fn public_url(&self, req: &HttpRequest) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(str::trim)
        };
        let config = req.app_config();
        let forwarded = |name: &str| header(name).filter(|_| self.trust_forwarded_for);
        let scheme = match forwarded("x-forwarded-proto") {
            Some(p) if p.eq_ignore_ascii_case("https") => "https",
            Some(p) if p.eq_ignore_ascii_case("http") => "http",
            _ if config.secure() => "https",
            _ => "http",
        };
        let host = forwarded("x-forwarded-host")
            .filter(|h| is_host(h))
            .or_else(|| header("host").filter(|h| is_host(h)))
            .or_else(|| req.uri().authority().map(|a| a.as_str()))
            .filter(|h| is_host(h))
            .unwrap_or_else(|| config.host());
        format!("{scheme}://{host}")
    }

    /// The legacy account's id, when the legacy routes are enabled.
    pub async fn legacy_user(&self) -> Result<Uuid, ApiError> {
        let legacy = self
            .legacy
            .as_ref()
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such route or resource"))?;
        legacy.user_id(&self.db).await
    }
}

/// A `Host` value fit to put in a link: a name or address with an optional port.
fn is_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::is_host;

    #[test]
    fn only_plain_hosts_go_into_links() {
        for ok in [
            "api.example.com",
            "127.0.0.1:8080",
            "[::1]:8080",
            "xn--fiq228c.cn",
        ] {
            assert!(is_host(ok), "{ok}");
        }
        for bad in ["", "evil.com/x", "a b", "a@b", "a\"b"] {
            assert!(!is_host(bad), "{bad}");
        }
    }
}
