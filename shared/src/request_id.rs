//! The request id of the request being served, readable anywhere in its task.
//!
//! Set by the request-context middleware; read by the error envelope and by the internal
//! client, which forwards it so one id follows a request across services.

use actix_web::http::header::HeaderMap;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Platform ids first: they are what the platform's own logs show.
const SOURCES: &[&str] = &["x-fc-request-id", "x-scf-request-id", "x-request-id"];

pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

pub async fn scope<F: Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

/// The id a request arrived with, if it is a sane token; otherwise a fresh one.
pub fn from_headers(headers: &HeaderMap) -> String {
    SOURCES
        .iter()
        .filter_map(|name| headers.get(*name)?.to_str().ok())
        .find(|v| is_valid(v))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let mut buf = uuid::Uuid::encode_buffer();
            uuid::Uuid::new_v4()
                .hyphenated()
                .encode_lower(&mut buf)
                .to_owned()
        })
}

fn is_valid(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn platform_request_ids_win_over_the_clients() {
        let id = from_headers(&headers(&[
            ("x-request-id", "client"),
            ("x-fc-request-id", "fc-1"),
        ]));
        assert_eq!(id, "fc-1");
        let id = from_headers(&headers(&[
            ("x-request-id", "client"),
            ("x-scf-request-id", "scf-1"),
        ]));
        assert_eq!(id, "scf-1");
    }

    #[test]
    fn a_hostile_request_id_is_replaced() {
        let id = from_headers(&headers(&[("x-request-id", "a b\"<script>")]));
        assert_ne!(id, "a b\"<script>");
        assert_eq!(id.len(), 36);
    }
}
