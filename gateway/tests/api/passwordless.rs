//! The original app's sign-in by `user_id` alone, behind `compat.passwordless_login`.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use shared::config::RunMode;
use shared::entities::user;
use shared::testing::TestDatabase;

use crate::helpers::{TestApp, assert_envelope, spawn_app, spawn_app_with};

async fn compat_app() -> TestApp {
    spawn_app_with(|s| s.compat.passwordless_login = true).await
}

async fn find(app: &TestApp, login: &str) -> Option<user::Model> {
    user::Entity::find()
        .filter(user::Column::Login.eq(login))
        .one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn without_the_setting_a_login_or_register_without_password_is_refused() {
    let app = spawn_app().await;
    for (path, body) in [
        ("/api/v1/auth/login", json!({"user_id": "001234.abc.0001"})),
        (
            "/api/v1/auth/login",
            json!({"user_id": "001234.abc.0001", "email": "a@example.com", "nickname": "A"}),
        ),
        (
            "/api/v1/auth/register",
            json!({"nickname": "Alex", "user_id": "001234.abc.0001", "timezone": "Asia/Shanghai"}),
        ),
        ("/api/v1/auth/register", json!({"nickname": "Alex"})),
    ] {
        let res = app.post_json(path, &body).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path} {body}");
        let envelope: Value = res.json().await.unwrap();
        assert_eq!(envelope["code"], "passwordless_disabled");
        let message = envelope["message"].as_str().unwrap();
        assert!(
            message.contains("password") && message.contains("Apple"),
            "{message}"
        );
    }
    assert!(
        user::Entity::find().all(&app.db).await.unwrap().is_empty(),
        "no account made"
    );
    // Password sign-up still works.
    app.register("with-password").await;
}

#[tokio::test]
async fn with_the_setting_a_user_id_alone_registers_then_signs_in_the_same_account() {
    let app = compat_app().await;
    let login = "001234.0a1b2c3d.0002";
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"user_id": login, "email": "Sam@Example.com", "nickname": "Sam"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let first: Value = res.json().await.unwrap();
    let row = find(&app, login).await.expect("auto-registered");
    assert_eq!(row.id.to_string(), first["user_id"].as_str().unwrap());
    assert_eq!(row.email.as_deref(), Some("sam@example.com"));
    assert_eq!(row.nickname.as_deref(), Some("Sam"));
    assert_eq!(row.timezone, "Asia/Shanghai");
    assert!(!row.has_password());

    let res = app
        .post_json("/api/v1/auth/login", &json!({"user_id": login}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let second: Value = res.json().await.unwrap();
    assert_eq!(second["user_id"], first["user_id"]);

    // The original's register with a known user_id answers that account's tokens.
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"nickname": "Sam", "user_id": login}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let third: Value = res.json().await.unwrap();
    assert_eq!(third["user_id"], first["user_id"]);

    // Without a user_id, a new account with a generated login.
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"nickname": "Nobody", "timezone": "Europe/London"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let fresh: Value = res.json().await.unwrap();
    assert_ne!(fresh["user_id"], first["user_id"]);
    let me: Value = app
        .get_authed("/api/v1/users/me", fresh["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["nickname"], "Nobody");
    assert_eq!(me["timezone"], "Europe/London");
    assert_eq!(user::Entity::find().all(&app.db).await.unwrap().len(), 2);
}

#[tokio::test]
async fn with_the_setting_an_account_with_a_password_is_never_reached_by_user_id_alone() {
    let app = compat_app().await;
    app.register("tina").await;
    for (path, body) in [
        ("/api/v1/auth/login", json!({"user_id": "tina"})),
        (
            "/api/v1/auth/register",
            json!({"user_id": "tina", "nickname": "Tina"}),
        ),
    ] {
        let res = app.post_json(path, &body).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        let envelope: Value = res.json().await.unwrap();
        assert_eq!(envelope["code"], "password_required", "{path}");
    }
    // The reserved legacy account is not reachable either (its login is refused as a name).
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"user_id": user::LEGACY_LOGIN}),
        )
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
}

#[tokio::test]
async fn with_the_setting_an_email_never_hands_over_another_account() {
    let app = compat_app().await;
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"user_id": "owner.0001", "email": "owner@example.com"}),
        )
        .await;
    let owner: Value = res.json().await.unwrap();
    // The original moved the account with this email to the new user id.
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"user_id": "intruder.0001", "email": "owner@example.com"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let intruder: Value = res.json().await.unwrap();
    assert_ne!(intruder["user_id"], owner["user_id"]);
    let owner_row = find(&app, "owner.0001").await.unwrap();
    assert_eq!(owner_row.email.as_deref(), Some("owner@example.com"));
    let intruder_row = find(&app, "intruder.0001").await.unwrap();
    assert_eq!(intruder_row.email, None);
    // And the register form answers 409 for a taken email, as ours does.
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"nickname": "X", "email": "owner@example.com"}),
        )
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::CONFLICT).await,
        "email_taken"
    );
}

#[tokio::test]
async fn with_the_setting_bad_bodies_are_400() {
    let app = compat_app().await;
    for (path, body) in [
        ("/api/v1/auth/login", json!({})),
        ("/api/v1/auth/login", json!({"user_id": ""})),
        ("/api/v1/auth/login", json!({"user_id": "ab"})),
        (
            "/api/v1/auth/login",
            json!({"user_id": "abc", "timezone": "Mars/Base"}),
        ),
        (
            "/api/v1/auth/login",
            json!({"user_id": "abc", "role": "admin"}),
        ),
        ("/api/v1/auth/register", json!({"user_id": "abcd"})),
        ("/api/v1/auth/register", json!({"nickname": ""})),
        (
            "/api/v1/auth/register",
            json!({"nickname": "A", "email": "nope"}),
        ),
        (
            "/api/v1/auth/register",
            json!({"nickname": "A", "timezone": "+08:00"}),
        ),
    ] {
        let res = app.post_json(path, &body).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path} {body}");
    }
    assert!(user::Entity::find().all(&app.db).await.unwrap().is_empty());
}

#[tokio::test]
async fn production_refuses_to_start_with_passwordless_login_unless_acknowledged() {
    shared::install_crypto_provider();
    let database = TestDatabase::create().await.unwrap();
    let mut settings = database.settings();
    settings.app.mode = RunMode::Production;
    settings.compat.passwordless_login = true;
    let err = gateway::startup::build(&settings)
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("APP__COMPAT__ALLOW_PASSWORDLESS_LOGIN_IN_PRODUCTION"),
        "{err}"
    );
    settings.compat.allow_passwordless_login_in_production = true;
    assert!(gateway::startup::build(&settings).await.is_ok());
    // An http key URL is refused in production too.
    settings.apple.jwks_url = "http://appleid.apple.com/auth/keys".into();
    let err = gateway::startup::build(&settings)
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("APP__APPLE__JWKS_URL"), "{err}");
}
