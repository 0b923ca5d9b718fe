use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{assert_envelope, spawn_app_with};

async fn assert_429(res: reqwest::Response) {
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(
        assert_envelope(res, StatusCode::TOO_MANY_REQUESTS).await,
        "rate_limited"
    );
}

#[tokio::test]
async fn login_attempts_from_one_address_are_limited_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.rate_limit.auth_per_ip_per_minute = 3;
        s.rate_limit.auth_per_account_per_minute = 100;
    })
    .await;
    for i in 0..3 {
        let res = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"user_id": format!("u{i}xx"), "password": "whatever1"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"user_id": "u9xx", "password": "whatever1"}),
        )
        .await;
    assert_429(res).await;
}

#[tokio::test]
async fn login_attempts_against_one_account_are_limited() {
    let app = spawn_app_with(|s| {
        s.rate_limit.auth_per_ip_per_minute = 100;
        s.rate_limit.auth_per_account_per_minute = 2;
    })
    .await;
    for _ in 0..2 {
        let res = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"user_id": "victim", "password": "guess1234"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"user_id": "VICTIM", "password": "guess1234"}),
        )
        .await;
    assert_429(res).await;
    let other = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"user_id": "someone", "password": "guess1234"}),
        )
        .await;
    assert_eq!(
        other.status(),
        StatusCode::UNAUTHORIZED,
        "other accounts are not affected"
    );
}

#[tokio::test]
async fn an_accounts_login_name_and_email_share_one_budget() {
    let app = spawn_app_with(|s| {
        s.rate_limit.auth_per_ip_per_minute = 100;
        s.rate_limit.auth_per_account_per_minute = 2;
    })
    .await;
    let made = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"user_id": "mei", "password": "s3cret-passw0rd", "email": "mei@example.com"}),
        )
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    for body in [
        json!({"user_id": "mei", "password": "guess1234"}),
        json!({"email": "MEI@example.com", "password": "guess1234"}),
    ] {
        let res = app.post_json("/api/v1/auth/login", &body).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Two guesses spent, one by name and one by email: the third is refused either way,
    // the right password too.
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"user_id": "mei", "password": "s3cret-passw0rd"}),
        )
        .await;
    assert_429(res).await;
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "mei@example.com", "password": "guess1234"}),
        )
        .await;
    assert_429(res).await;
}

#[tokio::test]
async fn a_user_over_the_global_budget_gets_429() {
    let app = spawn_app_with(|s| s.rate_limit.user_per_minute = 5).await;
    let session = app.register("busy").await;
    for _ in 0..5 {
        assert_eq!(
            app.get_authed("/api/v1/users/me", &session.access)
                .await
                .status(),
            StatusCode::OK
        );
    }
    assert_429(app.get_authed("/api/v1/users/me", &session.access).await).await;
    let other = app.register("calm").await;
    assert_eq!(
        app.get_authed("/api/v1/users/me", &other.access)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_client_cannot_escape_the_address_limit_by_rotating_x_forwarded_for() {
    let app = spawn_app_with(|s| {
        s.rate_limit.auth_per_ip_per_minute = 2;
        s.rate_limit.trust_forwarded_for = true;
    })
    .await;
    let attempt = |fake: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", format!("{fake}, 203.0.113.7"))
            .json(&json!({"user_id": "someone", "password": "guess1234"}))
            .send()
    };
    assert_eq!(
        attempt("1.1.1.1").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("2.2.2.2").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_429(attempt("3.3.3.3").await.unwrap()).await;
}

#[tokio::test]
async fn the_legacy_routes_have_a_budget_per_client_address() {
    // No token on these routes: the budget is the address's (svc-drugs is not running here,
    // so the requests within the budget get the gateway's 502).
    let app = spawn_app_with(|s| {
        s.legacy.enabled = true;
        s.rate_limit.user_per_minute = 2;
    })
    .await;
    let list = || app.client.get(app.url("/api/drugs")).send();
    for _ in 0..2 {
        assert_eq!(list().await.unwrap().status(), StatusCode::BAD_GATEWAY);
    }
    let res = list().await.unwrap();
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    assert!(
        shared::error::is_chinese(body["message"].as_str().unwrap()),
        "{body}"
    );
}

#[tokio::test]
async fn a_burst_of_registrations_from_one_address_is_slowed() {
    let app = spawn_app_with(|s| s.rate_limit.auth_per_ip_per_minute = 3).await;
    for n in 0..3 {
        let res = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"user_id": format!("bulk{n}"), "password": "s3cret-passw0rd"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"user_id": "bulk3", "password": "s3cret-passw0rd"}),
        )
        .await;
    assert_429(res).await;
    let made = shared::entities::user::Entity::find()
        .filter(shared::entities::user::Column::Login.starts_with("bulk"))
        .count(&app.db)
        .await;
    assert_eq!(made.unwrap(), 3);
}
