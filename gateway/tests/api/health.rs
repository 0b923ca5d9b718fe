use reqwest::StatusCode;
use serde_json::Value;
use shared::testing::TestDatabase;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn health_is_200_when_every_real_service_is_up() {
    shared::install_crypto_provider();
    let database = TestDatabase::create().await.unwrap();
    let settings = database.settings();
    let drugs = svc_drugs::startup::build(&settings).await.unwrap();
    let chat = svc_chat::startup::build(&settings).await.unwrap();
    let scheduler = svc_scheduler::startup::build(&settings).await.unwrap();
    let urls =
        [drugs.port(), chat.port(), scheduler.port()].map(|p| format!("http://127.0.0.1:{p}"));
    for app in [drugs, chat, scheduler] {
        tokio::spawn(app.run_until_stopped(std::future::pending()));
    }
    let app = spawn_app_with(|s| {
        s.services.drugs = urls[0].clone();
        s.services.chat = urls[1].clone();
        s.services.scheduler = urls[2].clone();
    })
    .await;
    let res = app
        .client
        .get(app.url("/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "healthy");
    for s in ["drugs", "chat", "scheduler", "gateway"] {
        assert_eq!(body["services"][s], "up", "{body}");
    }
}

#[tokio::test]
async fn health_is_503_degraded_and_names_the_service_that_is_down() {
    let app = spawn_app_with(|_| {}).await;
    let res = app
        .client
        .get(app.url("/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["services"]["drugs"], "down");
    let compat = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(compat.status(), StatusCode::OK);
    assert_eq!(compat.json::<Value>().await.unwrap()["status"], "healthy");
}

#[tokio::test]
async fn internal_services_refuse_calls_without_an_internal_token() {
    shared::install_crypto_provider();
    let database = TestDatabase::create().await.unwrap();
    let settings = database.settings();
    let drugs = svc_drugs::startup::build(&settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", drugs.port());
    tokio::spawn(drugs.run_until_stopped(std::future::pending()));
    let client = reqwest::Client::new();
    let res = client
        .get(format!("{base}/api/v1/drugs"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "internal_token_invalid");
    // A user's access token is not an internal token.
    let res = client
        .get(format!("{base}/api/v1/drugs"))
        .header("x-internal-token", "eyJhbGciOiJIUzI1NiJ9.e30.x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
