use reqwest::StatusCode;

use crate::helpers::{assert_envelope, spawn_app};

#[tokio::test]
async fn an_unknown_route_is_404_in_the_envelope() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::NOT_FOUND).await,
        "not_found"
    );
    let res = app
        .client
        .get(app.url("/favicon.ico"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::NOT_FOUND).await,
        "not_found"
    );
}

#[tokio::test]
async fn a_wrong_method_is_405_in_the_envelope() {
    let app = spawn_app().await;
    let res = app
        .client
        .delete(app.url("/api/v1/users/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::METHOD_NOT_ALLOWED).await,
        "method_not_allowed"
    );
}

#[tokio::test]
async fn bad_json_is_400_in_the_envelope() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"user_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::BAD_REQUEST).await,
        "invalid_json"
    );
}

#[tokio::test]
async fn a_json_body_over_the_limit_is_413_in_the_envelope() {
    let app = spawn_app().await;
    let huge = format!(
        "{{\"user_id\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(2 * 1024 * 1024)
    );
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::PAYLOAD_TOO_LARGE).await,
        "payload_too_large"
    );
}

#[tokio::test]
async fn a_platform_request_id_is_echoed_and_used_in_errors() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/api/v1/nothing-here"))
        .header("x-fc-request-id", "fc-req-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "fc-req-123");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["request_id"], "fc-req-123");
}

#[tokio::test]
async fn lifecycle_hooks_answer_2xx() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/initialize"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.client.get(app.url("/pre-stop")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
