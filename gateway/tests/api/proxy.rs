use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::internal_auth::InternalTokens;

use crate::helpers::{CLOSED, TestApp, assert_envelope, spawn_app_with};
use crate::upstream::{spawn_upstream, spawn_upstream_tls};

#[tokio::test]
async fn the_proxy_forwards_an_allowlist_adds_an_internal_token_and_drops_spoofed_headers() {
    let upstream = spawn_upstream().await;
    let base = upstream.base_url.clone();
    let app = spawn_app_with(|s| s.services.drugs = base).await;
    let session = app.register("kim").await;

    let spoofed_token = InternalTokens::new(&app.settings.auth.internal_secret, 60).mint(
        "gateway",
        "drugs",
        Some(uuid::Uuid::new_v4()),
    );
    let res = app
        .client
        .post(app.url("/api/v1/drugs/echo?x=1&y=%E8%8D%AF"))
        .bearer_auth(&session.access)
        .header("x-internal-token", &spoofed_token)
        .header("x-user-id", "someone-else")
        .header("x-fc-access-key-id", "stolen")
        .header("cookie", "session=abc")
        .header("proxy-authorization", "Basic Zm9vOmJhcg==")
        .header("x-forwarded-for", "6.6.6.6")
        .header("accept-language", "zh-CN")
        .header("content-type", "application/json")
        .body("{\"a\":1}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let echo: Value = res.json().await.unwrap();
    let headers = echo["headers"].as_object().unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["query"], "x=1&y=%E8%8D%AF");
    assert_eq!(echo["body_len"], 7);
    assert_eq!(headers["accept-language"], "zh-CN");
    for dropped in [
        "x-user-id",
        "x-fc-access-key-id",
        "cookie",
        "proxy-authorization",
        "authorization",
    ] {
        assert!(
            !headers.contains_key(dropped),
            "{dropped} was forwarded: {headers:?}"
        );
    }
    assert_ne!(
        headers["x-forwarded-for"], "6.6.6.6",
        "the client cannot choose its address"
    );
    assert!(headers.contains_key("traceparent"));
    assert!(headers.contains_key("x-request-id"));

    let token = headers["x-internal-token"].as_str().unwrap();
    assert_ne!(token, spoofed_token);
    let claims = InternalTokens::new(&app.settings.auth.internal_secret, 60)
        .verify(token, "drugs")
        .unwrap();
    assert_eq!(claims.sub.unwrap().to_string(), session.user_id);
    assert_eq!(claims.iss, "gateway");
}

#[tokio::test]
async fn proxied_routes_need_a_valid_access_token() {
    let upstream = spawn_upstream().await;
    let base = upstream.base_url.clone();
    let app = spawn_app_with(|s| s.services.drugs = base).await;
    let res = app
        .client
        .get(app.url("/api/v1/drugs/echo"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::UNAUTHORIZED).await,
        "missing_token"
    );
}

#[tokio::test]
async fn hop_by_hop_response_headers_are_stripped_and_nosniff_is_added() {
    let upstream = spawn_upstream().await;
    let base = upstream.base_url.clone();
    let app = spawn_app_with(|s| s.services.drugs = base).await;
    let session = app.register("lena").await;
    let res = app.get_authed("/api/v1/drugs/hop", &session.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-upstream"], "kept");
    for hop in ["keep-alive", "proxy-authenticate", "trailer"] {
        assert!(res.headers().get(hop).is_none(), "{hop} leaked");
    }
    // No browser guesses a type from the bytes (a photo is served as the type it was
    // stored with), on relayed answers and the gateway's own.
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let own = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(own.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn a_refused_upstream_is_502_and_a_slow_one_504_in_either_protocol() {
    let upstream = spawn_upstream().await;
    for h2c in [false, true] {
        let base = upstream.base_url.clone();
        let app = spawn_app_with(|s| {
            s.services.drugs = base;
            s.services.chat = CLOSED.into();
            s.services.default_timeout_secs = 1;
            s.services.h2c = h2c;
        })
        .await;
        let session = app.register(&format!("mallory{h2c}")).await;
        let res = app
            .get_authed("/api/v1/conversations", &session.access)
            .await;
        assert_eq!(
            assert_envelope(res, StatusCode::BAD_GATEWAY).await,
            "upstream_unavailable",
            "h2c = {h2c}"
        );
        let res = app.get_authed("/api/v1/drugs/slow", &session.access).await;
        assert_eq!(
            assert_envelope(res, StatusCode::GATEWAY_TIMEOUT).await,
            "upstream_timeout",
            "h2c = {h2c}"
        );
    }
}

/// The next chunk of a streamed answer, which must come within 5 s.
async fn next_chunk(
    body: &mut (impl futures_util::Stream<Item = reqwest::Result<Bytes>> + Unpin),
) -> Bytes {
    tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .expect("a chunk arrives while the service streams")
        .expect("the stream is still open")
        .expect("a chunk, not an error")
}

/// `GET /api/v1/chat/sse` through the gateway (the fake service's SSE route), answered 200.
async fn open_sse(app: &TestApp, token: &str) -> reqwest::Response {
    let res = app
        .client
        .get(app.url("/api/v1/chat/sse"))
        .bearer_auth(token)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res
}

#[tokio::test]
async fn an_https_service_address_is_dialled_with_tls_and_a_refusal_is_502() {
    let app = spawn_app_with(|s| s.services.chat = CLOSED.replace("http://", "https://")).await;
    let session = app.register("tlsuser").await;
    let res = app
        .get_authed("/api/v1/conversations", &session.access)
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::BAD_GATEWAY).await,
        "upstream_unavailable"
    );
}

#[tokio::test]
async fn a_stream_still_open_at_the_route_deadline_is_cut_after_what_arrived() {
    let upstream = spawn_upstream().await;
    let base = upstream.base_url.clone();
    let app = spawn_app_with(|s| {
        s.services.chat = base;
        s.services.stream_timeout_secs = 1;
    })
    .await;
    let session = app.register("olga").await;
    let mut body = open_sse(&app, &session.access).await.bytes_stream();
    let first = next_chunk(&mut body).await;
    assert_eq!(&first[..], b"event: delta\ndata: first\n\n");
    // The upstream never sends its second event: the deadline ends the relay with an error
    // (an unterminated chunked body), not a clean end the client could take for complete.
    let rest = tokio::time::timeout(Duration::from_secs(10), body.next())
        .await
        .expect("the gateway ends the stream at the route's deadline");
    assert!(matches!(rest, Some(Err(_))), "{rest:?}");
    assert_eq!(upstream.state.sse_finished.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn sse_reaches_the_client_chunk_by_chunk_before_the_upstream_finishes() {
    for h2c in [false, true] {
        let upstream = spawn_upstream().await;
        let base = upstream.base_url.clone();
        let app = spawn_app_with(|s| {
            s.services.chat = base;
            s.services.h2c = h2c;
        })
        .await;
        let session = app.register(&format!("nina{h2c}")).await;
        let res = open_sse(&app, &session.access).await;
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        let mut body = res.bytes_stream();
        let first = next_chunk(&mut body).await;
        assert_eq!(&first[..], b"event: delta\ndata: first\n\n", "h2c = {h2c}");
        assert_eq!(
            upstream.state.sse_finished.load(Ordering::SeqCst),
            0,
            "h2c = {h2c}: upstream has not finished"
        );
        upstream.state.release_sse.notify_one();
        let mut rest = Vec::new();
        while let Some(chunk) = body.next().await {
            rest.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(&rest[..], b"event: done\ndata: second\n\n", "h2c = {h2c}");
    }
}

#[tokio::test]
async fn a_body_over_the_gateway_limit_is_413_before_reaching_the_service() {
    let upstream = spawn_upstream().await;
    let base = upstream.base_url.clone();
    let app = spawn_app_with(|s| {
        s.services.drugs = base;
        s.storage.max_file_size = 1024;
    })
    .await;
    let session = app.register("peggy").await;
    // Limit: five files of 1 KiB plus 1 MiB of multipart overhead.
    let declared = app
        .client
        .post(app.url("/api/v1/drugs/count"))
        .bearer_auth(&session.access)
        .body(vec![0u8; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(declared, StatusCode::PAYLOAD_TOO_LARGE).await,
        "payload_too_large"
    );
    assert_eq!(
        upstream.state.received.load(Ordering::SeqCst),
        0,
        "refused before any byte was relayed"
    );

    // Without a Content-Length the limit is enforced while the body streams.
    let chunks = futures_util::stream::iter(
        (0..64).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![1u8; 64 * 1024]))),
    );
    let streamed = app
        .client
        .post(app.url("/api/v1/drugs/count"))
        .bearer_auth(&session.access)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(streamed, StatusCode::PAYLOAD_TOO_LARGE).await,
        "payload_too_large"
    );
    assert!(upstream.state.received.load(Ordering::SeqCst) <= 1024 * 1024 + 5 * 1024);
}

#[tokio::test]
async fn legacy_routes_are_proxied_only_when_enabled_and_act_as_the_reserved_account() {
    let upstream = spawn_upstream().await;
    let base = upstream.base_url.clone();
    let off = spawn_app_with(|s| s.services.drugs = base.clone()).await;
    let res = off
        .client
        .get(off.url("/api/drugs/echo"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::NOT_FOUND).await,
        "not_found"
    );

    let on = spawn_app_with(|s| {
        s.services.drugs = base;
        s.legacy.enabled = true;
    })
    .await;
    // Somebody registers the name `legacy` first: it is an ordinary account of theirs.
    on.register("legacy").await;
    let res = on
        .client
        .get(on.url("/api/drugs/echo"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let echo: Value = res.json().await.unwrap();
    let token = echo["headers"]["x-internal-token"].as_str().unwrap();
    let claims = InternalTokens::new(&on.settings.auth.internal_secret, 60)
        .verify(token, "drugs")
        .unwrap();
    let reserved =
        gateway::repo::users::find_by_login(&on.db, shared::entities::user::LEGACY_LOGIN)
            .await
            .unwrap()
            .expect("the system created the reserved account");
    assert_eq!(claims.sub, Some(reserved.id));
    let squatter = gateway::repo::users::find_by_login(&on.db, "legacy")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(reserved.id, squatter.id);
    // The gateway's own errors on these routes are in Chinese too (svc-drugs is down here).
    let down = spawn_app_with(|s| s.legacy.enabled = true).await;
    let res = down
        .client
        .get(down.url("/api/drugs"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "upstream_unavailable");
    assert_eq!(body["message"], "服务暂时不可用，请稍后再试");
    assert_eq!(body["detail"], body["message"]);
    // Nobody can register the reserved login or sign in with it.
    for path in ["/api/v1/auth/register", "/api/v1/auth/login"] {
        let res = on
            .post_json(
                path,
                &json!({"user_id": shared::entities::user::LEGACY_LOGIN, "password": "s3cret-passw0rd"}),
            )
            .await;
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
    }
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app = spawn_app_with(|s| s.cors.allowed_origins = vec!["https://app.example".into()]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight("https://app.example").await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let denied = preflight("https://evil.example").await.unwrap();
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn https_services_are_spoken_to_in_http2_when_their_alpn_accepts_it() {
    let (upstream, ca_file) = spawn_upstream_tls().await;
    for h2c in [false, true] {
        let (base, ca) = (upstream.base_url.clone(), ca_file.clone());
        let app = spawn_app_with(|s| {
            s.services.drugs = base;
            s.services.h2c = h2c;
            s.services.ca_file = Some(ca);
        })
        .await;
        let session = app.register(&format!("tls{h2c}")).await;
        let res = app
            .client
            .put(app.url("/api/v1/drugs/echo"))
            .bearer_auth(&session.access)
            .header("content-type", "application/json")
            .body("{\"a\":1}")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let echo: Value = res.json().await.unwrap();
        assert_eq!(echo["version"], "HTTP/2.0", "h2c = {h2c}");
        assert_eq!(echo["body_len"], 7);
        assert!(echo["headers"]["x-internal-token"].is_string());
        // The health probe trusts the same CA as the proxy hop.
        let health = health(&app).await;
        assert_eq!(health["services"]["drugs"], "up", "{health}");
    }
    // A service certificate nobody vouches for: 502, and its probe says down.
    let base = upstream.base_url.clone();
    let app = spawn_app_with(|s| s.services.drugs = base).await;
    let session = app.register("untrusting").await;
    let res = app
        .client
        .get(app.url("/api/v1/drugs/echo"))
        .bearer_auth(&session.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "upstream_unavailable");
    let health = health(&app).await;
    assert_eq!(health["services"]["drugs"], "down", "{health}");
    let _ = std::fs::remove_file(ca_file);
}

/// The gateway's aggregated health (`/api/v1/health`), whatever its status code.
async fn health(app: &crate::helpers::TestApp) -> Value {
    app.client
        .get(app.url("/api/v1/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_unusable_services_ca_file_stops_the_gateway_from_starting_and_names_the_setting() {
    let database = shared::testing::TestDatabase::create().await.unwrap();
    let mut settings = database.settings();
    settings.services.ca_file = Some("/nonexistent/services-ca.pem".into());
    let Err(error) = gateway::startup::build(&settings).await else {
        panic!("started with an unreadable services.ca_file");
    };
    let error = error.to_string();
    assert!(
        error.contains("services.ca_file") && error.contains("cannot read"),
        "{error}"
    );
}

#[tokio::test]
async fn with_h2c_services_are_spoken_to_in_http2_and_see_the_same_request() {
    let upstream = spawn_upstream().await;
    for (h2c, version) in [(false, "HTTP/1.1"), (true, "HTTP/2.0")] {
        let base = upstream.base_url.clone();
        let app = spawn_app_with(|s| {
            s.services.drugs = base;
            s.services.h2c = h2c;
        })
        .await;
        let session = app.register(&format!("h2c{h2c}")).await;
        let res = app
            .client
            .put(app.url("/api/v1/drugs/echo?q=%E8%8D%AF"))
            .bearer_auth(&session.access)
            .header("accept-language", "zh-CN")
            .header("x-user-id", "someone-else")
            .header("content-type", "application/json")
            .body("{\"a\":1}")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let echo: Value = res.json().await.unwrap();
        assert_eq!(echo["version"], version, "h2c = {h2c}");
        assert_eq!(echo["method"], "PUT");
        assert_eq!(echo["query"], "q=%E8%8D%AF");
        assert_eq!(echo["body_len"], 7);
        let headers = echo["headers"].as_object().unwrap();
        assert_eq!(headers["accept-language"], "zh-CN");
        assert!(!headers.contains_key("x-user-id"));
        let token = headers["x-internal-token"].as_str().unwrap();
        let claims = InternalTokens::new(&app.settings.auth.internal_secret, 60)
            .verify(token, "drugs")
            .unwrap();
        assert_eq!(claims.sub.unwrap().to_string(), session.user_id);
    }
}

#[tokio::test]
async fn a_client_leaving_a_stream_ends_the_service_stream_in_either_protocol() {
    for h2c in [false, true] {
        let upstream = spawn_upstream().await;
        let base = upstream.base_url.clone();
        let app = spawn_app_with(|s| {
            s.services.chat = base;
            s.services.h2c = h2c;
        })
        .await;
        let session = app.register(&format!("leaver{h2c}")).await;
        let res = app
            .client
            .get(app.url("/api/v1/chat/ticks"))
            .bearer_auth(&session.access)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let mut body = res.bytes_stream();
        for _ in 0..2 {
            let tick = next_chunk(&mut body).await;
            assert!(
                tick.starts_with(b"event: delta\ndata: tick "),
                "h2c = {h2c}"
            );
        }
        assert_eq!(upstream.state.sse_dropped.load(Ordering::SeqCst), 0);
        drop(body);
        // The service's next write after the client left ends its stream.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while upstream.state.sse_dropped.load(Ordering::SeqCst) == 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "h2c = {h2c}: the service still streams to a client that left"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
