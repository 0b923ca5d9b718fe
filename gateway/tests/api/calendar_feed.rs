//! The calendar feed through the gateway: made with the user's token, read by a calendar app
//! with none (the address is the key), and the address kept out of every span.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::testing::TestDatabase;

use crate::helpers::*;

/// The gateway in front of a real svc-chat on a database of its own (kept while the guard
/// lives).
async fn gateway_with_chat(
    customize: impl FnOnce(&mut shared::config::Settings),
) -> (TestApp, TestDatabase) {
    shared::install_crypto_provider();
    let database = TestDatabase::create().await.unwrap();
    let chat = svc_chat::startup::build(&database.settings())
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", chat.port());
    tokio::spawn(chat.run_until_stopped(std::future::pending()));
    let app = spawn_app_with(|s| {
        s.services.chat = base;
        customize(s);
    })
    .await;
    (app, database)
}

#[tokio::test]
async fn a_calendar_app_reads_the_feed_through_the_gateway_without_a_token() {
    spans();
    let (app, _chat_db) = gateway_with_chat(|_| {}).await;
    let session = app.register("calendar-user").await;
    let created = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(&session.access)
        .json(&json!({"title": "周会", "start_time": "2027-02-01T10:00:00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    // Making a feed needs the user.
    let anonymous = app
        .client
        .post(app.url("/api/v1/calendar/feed"))
        .send()
        .await
        .unwrap();
    assert_envelope(anonymous, StatusCode::UNAUTHORIZED).await;
    // Headers a client makes up do not move the address (no trusted proxy configured).
    let made = app
        .client
        .post(app.url("/api/v1/calendar/feed"))
        .bearer_auth(&session.access)
        .header("x-forwarded-host", "evil.example")
        .header("forwarded", "host=evil.example;proto=https")
        .header("x-public-url", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: Value = made.json().await.unwrap();
    // The address is the one the app reached: the gateway's.
    let url = made["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&app.address),
        "{url} is not under {}",
        app.address
    );
    let token = url
        .rsplit_once("/ical/")
        .unwrap()
        .1
        .trim_end_matches(".ics")
        .to_owned();

    // A calendar app: no token, GET (and HEAD) only.
    let feed = app.client.get(&url).send().await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    assert_eq!(
        feed.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let text = feed.text().await.unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
    assert!(text.contains("SUMMARY:周会"), "{text}");
    let head = app.client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    let post = app.client.post(&url).send().await.unwrap();
    assert_envelope(post, StatusCode::METHOD_NOT_ALLOWED).await;
    let unknown = app
        .client
        .get(app.url(&format!("/ical/{}.ics", "x".repeat(43))))
        .send()
        .await
        .unwrap();
    assert_envelope(unknown, StatusCode::NOT_FOUND).await;

    // Revoked through the gateway: the address stops working.
    let revoked = app
        .client
        .delete(app.url("/api/v1/calendar/feed"))
        .bearer_auth(&session.access)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.client.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    // The address is a secret: no span of either service carries it.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let leaks: Vec<String> = spans()
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .flat_map(|s| s.attributes.into_iter())
        .map(|kv| kv.value.as_str().into_owned())
        .filter(|v| v.contains(&token))
        .collect();
    assert!(leaks.is_empty(), "{leaks:?}");
    let redacted = spans()
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .flat_map(|s| s.attributes.into_iter())
        .any(|kv| kv.key.as_str() == "url.path" && kv.value.as_str() == "/ical/[redacted]");
    assert!(
        redacted,
        "the feed's requests were recorded, without the address"
    );
}

#[tokio::test]
async fn the_feed_address_is_the_configured_public_url() {
    let (app, _chat_db) = gateway_with_chat(|s| {
        s.server.public_url = Some("https://api.example.com/unilife/".into());
    })
    .await;
    let session = app.register("public-url-user").await;
    let made: Value = app
        .client
        .post(app.url("/api/v1/calendar/feed"))
        .bearer_auth(&session.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = made["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://api.example.com/unilife/ical/") && url.ends_with(".ics"),
        "{url}"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_feed_address_is_what_the_proxy_appended() {
    let (app, _chat_db) = gateway_with_chat(|s| s.rate_limit.trust_forwarded_for = true).await;
    let session = app.register("proxied-user").await;
    let made = |host: &'static str, proto: &'static str| {
        app.client
            .post(app.url("/api/v1/calendar/feed"))
            .bearer_auth(&session.access)
            .header("x-forwarded-host", host)
            .header("x-forwarded-proto", proto)
            .header("forwarded", "host=evil.example;proto=https")
            .send()
    };
    // The client's own entries come first; the proxy's last.
    let answer: Value = made("evil.example, api.example.org", "javascript, https")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = answer["url"].as_str().unwrap();
    assert!(url.starts_with("https://api.example.org/ical/"), "{url}");
    // What is not a plain host or http(s) never reaches a link.
    let answer: Value = made("evil.example/x", "javascript")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = answer["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/ical/", app.address)), "{url}");
}
