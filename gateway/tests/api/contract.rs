//! The UniLife app's auth and user requests, as its original backend's pydantic schemas
//! define them (`tests/fixtures/unilife/`), and every field of the answers.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_envelope, spawn_app_with};

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/unilife")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Dictionaries of the original's models: their keys are data, not fields.
const MAPS: &[&str] = &["hourly_baseline", "task_energy_cost", "learned_adjustments"];

/// Every field of `expected` is in `actual` with the same JSON type, nested objects too.
fn assert_shape(expected: &Value, actual: &Value, at: &str) {
    assert_eq!(kind(expected), kind(actual), "{at}: {actual}");
    if MAPS.iter().any(|m| at.ends_with(&format!(".{m}"))) {
        return;
    }
    if let (Value::Object(e), Value::Object(a)) = (expected, actual) {
        for (key, value) in e {
            let field = a
                .get(key)
                .unwrap_or_else(|| panic!("{at}.{key} missing from {actual}"));
            assert_shape(value, field, &format!("{at}.{key}"));
        }
    }
}

async fn compat_app() -> TestApp {
    spawn_app_with(|s| s.compat.passwordless_login = true).await
}

fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::RequestBuilder {
    app.client.put(app.url(path)).bearer_auth(token).json(body)
}

#[tokio::test]
async fn the_apps_register_login_and_refresh_bodies_get_every_auth_response_field() {
    let app = compat_app().await;
    let expected = fixture("auth_response.json");

    let res = app
        .post_json(
            "/api/v1/auth/register",
            &fixture("auth_register_request.json"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let registered: Value = res.json().await.unwrap();
    assert_shape(&expected, &registered, "register");
    // Short-lived access (the original's 7 days is a setting away); refresh renews it.
    assert_eq!(registered["expires_in"], 15 * 60);
    uuid::Uuid::parse_str(registered["user_id"].as_str().unwrap()).unwrap();

    let res = app
        .post_json("/api/v1/auth/login", &fixture("auth_login_request.json"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let logged_in: Value = res.json().await.unwrap();
    assert_shape(&expected, &logged_in, "login");
    assert_eq!(logged_in["user_id"], registered["user_id"]);

    let mut refresh = fixture("auth_refresh_request.json");
    refresh["refresh_token"] = logged_in["refresh_token"].clone();
    let res = app.post_json("/api/v1/auth/refresh", &refresh).await;
    assert_eq!(res.status(), StatusCode::OK);
    let refreshed: Value = res.json().await.unwrap();
    assert_shape(&expected, &refreshed, "refresh");
    assert_eq!(refreshed["user_id"], registered["user_id"]);
}

#[tokio::test]
async fn me_answers_every_field_of_the_apps_user_response_with_the_originals_defaults() {
    let app = compat_app().await;
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &fixture("auth_register_request.json"),
        )
        .await;
    let tokens: Value = res.json().await.unwrap();
    let token = tokens["access_token"].as_str().unwrap();

    let res = app.get_authed("/api/v1/users/me", token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    let mut expected = fixture("user_response.json");
    // Optional in the original; ours are null until set.
    expected["phone"] = Value::Null;
    expected["avatar_url"] = Value::Null;
    assert_shape(&expected, &me, "me");
    assert_eq!(me["id"], tokens["user_id"]);
    assert_eq!(me["user_id"], "user_abc123");
    assert_eq!(me["nickname"], "Alex");
    assert_eq!(me["email"], "user@example.com");
    assert_eq!(me["timezone"], "Asia/Shanghai");
    assert_eq!(me["current_energy"], 100);
    let original = fixture("user_response.json");
    assert_eq!(me["energy_profile"], original["energy_profile"]);
    assert_eq!(me["preferences"], original["preferences"]);
    for stamp in ["created_at", "last_active_at"] {
        chrono::DateTime::parse_from_rfc3339(me[stamp].as_str().unwrap()).unwrap();
    }
}

#[tokio::test]
async fn the_apps_user_update_and_energy_update_are_applied_and_answered_in_full() {
    let app = compat_app().await;
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &fixture("auth_register_request.json"),
        )
        .await;
    let tokens: Value = res.json().await.unwrap();
    let token = tokens["access_token"].as_str().unwrap();

    let update = fixture("user_update_request.json");
    let res = put(&app, "/api/v1/users/me", token, &update)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    assert_shape(&fixture("user_response.json"), &me, "update");
    for field in [
        "nickname",
        "email",
        "phone",
        "avatar_url",
        "timezone",
        "preferences",
    ] {
        assert_eq!(me[field], update[field], "{field}");
    }

    let energy = fixture("energy_update_request.json");
    let res = put(&app, "/api/v1/users/me/energy", token, &energy)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    assert_shape(&fixture("user_response.json"), &me, "energy");
    assert_eq!(me["energy_profile"], energy);
    assert_eq!(me["preferences"], update["preferences"], "untouched");

    // Only the part sent changes; null parts are ignored, as the original did.
    let res = put(
        &app,
        "/api/v1/users/me/energy",
        token,
        &json!({"task_energy_cost": {"nap": 10}, "hourly_baseline": null}),
    )
    .send()
    .await
    .unwrap();
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["energy_profile"]["task_energy_cost"], json!({"nap": 10}));
    assert_eq!(
        me["energy_profile"]["hourly_baseline"],
        energy["hourly_baseline"]
    );

    // The app's `user_id` may be changed, to a free login.
    let res = put(
        &app,
        "/api/v1/users/me",
        token,
        &json!({"user_id": "alex.new"}),
    )
    .send()
    .await
    .unwrap();
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["user_id"], "alex.new");
}

#[tokio::test]
async fn bad_user_and_energy_updates_are_400_and_change_nothing() {
    let app = compat_app().await;
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &fixture("auth_register_request.json"),
        )
        .await;
    let tokens: Value = res.json().await.unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    app.register("taken-login").await;
    let before: Value = app
        .get_authed("/api/v1/users/me", token)
        .await
        .json()
        .await
        .unwrap();

    for (path, body, needle) in [
        ("/api/v1/users/me", json!({}), "no fields"),
        (
            "/api/v1/users/me",
            json!({"timezone": "Mars/Base"}),
            "timezone",
        ),
        ("/api/v1/users/me", json!({"phone": "call me"}), "phone"),
        ("/api/v1/users/me", json!({"nickname": ""}), "nickname"),
        ("/api/v1/users/me", json!({"user_id": "a b"}), "user_id"),
        (
            "/api/v1/users/me",
            json!({"preferences": {"working_hours_start": 30}}),
            "working_hours_start",
        ),
        (
            "/api/v1/users/me",
            json!({"preferences": {"notification_enabled": "yes"}}),
            "notification_enabled",
        ),
        (
            "/api/v1/users/me",
            json!({"current_energy": 5}),
            "current_energy",
        ),
        (
            "/api/v1/users/me/energy",
            json!({"hourly_baseline": {"24": 50}}),
            "hourly_baseline",
        ),
        (
            "/api/v1/users/me/energy",
            json!({"hourly_baseline": {"9": 101}}),
            "hourly_baseline",
        ),
        (
            "/api/v1/users/me/energy",
            json!({"hourly_baseline": {"9": "high"}}),
            "hourly_baseline",
        ),
        (
            "/api/v1/users/me/energy",
            json!({"task_energy_cost": {"deep_work": -500}}),
            "task_energy_cost",
        ),
        (
            "/api/v1/users/me/energy",
            json!({"task_energy_cost": {"": 5}}),
            "task_energy_cost",
        ),
        (
            "/api/v1/users/me/energy",
            json!({"learned_adjustments": [1]}),
            "expected a map",
        ),
        (
            "/api/v1/users/me/energy",
            json!({"user_id": "someone-else"}),
            "user_id",
        ),
    ] {
        let res = put(&app, path, token, &body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path} {body}");
        let envelope: Value = res.json().await.unwrap();
        assert!(
            envelope["message"].as_str().unwrap().contains(needle),
            "{path} {body}: {envelope}"
        );
    }
    let res = put(
        &app,
        "/api/v1/users/me",
        token,
        &json!({"user_id": "taken-login"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::CONFLICT).await,
        "user_exists"
    );
    let mut after: Value = app
        .get_authed("/api/v1/users/me", token)
        .await
        .json()
        .await
        .unwrap();
    after["last_active_at"] = before["last_active_at"].clone();
    assert_eq!(after, before);
    // Without a token, 401.
    let res = app
        .client
        .put(app.url("/api/v1/users/me/energy"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::UNAUTHORIZED).await,
        "missing_token"
    );
}
