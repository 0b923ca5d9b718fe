use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use shared::entities::{refresh_token, user};

use crate::helpers::{assert_envelope, spawn_app, spawn_app_with};

#[tokio::test]
async fn register_returns_tokens_and_stores_an_argon2id_hash() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"user_id": "alice", "password": "s3cret-passw0rd", "email": "Alice@Example.com", "timezone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 15 * 60);
    let access = body["access_token"].as_str().unwrap();
    let payload = access.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        15 * 60,
        "the token lives as long as expires_in says"
    );
    let id: uuid::Uuid = body["user_id"].as_str().unwrap().parse().unwrap();

    let row = user::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.login, "alice");
    assert_eq!(row.email.as_deref(), Some("alice@example.com"));
    assert_eq!(row.timezone, "Europe/Berlin");
    assert!(
        row.password_hash.starts_with("$argon2id$"),
        "{}",
        row.password_hash
    );
    assert!(!row.password_hash.contains("s3cret"));
}

#[tokio::test]
async fn register_rejects_weak_passwords_and_bad_fields_with_400() {
    let app = spawn_app().await;
    for (body, needle) in [
        (
            json!({"user_id": "bob", "password": "short1"}),
            "at least 8",
        ),
        (
            json!({"user_id": "bob", "password": "allletters"}),
            "letter and a digit",
        ),
        (
            json!({"user_id": "b", "password": "s3cret-passw0rd"}),
            "user_id",
        ),
        (
            json!({"user_id": "bob", "password": "s3cret-passw0rd", "email": "not-an-email"}),
            "email",
        ),
        (
            json!({"user_id": "bob", "password": "s3cret-passw0rd", "timezone": "Mars/Base"}),
            "timezone",
        ),
        (
            json!({"user_id": "bob", "password": "s3cret-passw0rd", "role": "admin"}),
            "role",
        ),
    ] {
        let res = app.post_json("/api/v1/auth/register", &body).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        let envelope: Value = res.json().await.unwrap();
        assert!(
            envelope["message"].as_str().unwrap().contains(needle),
            "{envelope}"
        );
    }
    let count = user::Entity::find().all(&app.db).await.unwrap().len();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_taken_user_id_or_email_is_409() {
    let app = spawn_app().await;
    let first =
        json!({"user_id": "carol", "password": "s3cret-passw0rd", "email": "c@example.com"});
    assert_eq!(
        app.post_json("/api/v1/auth/register", &first)
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = app.post_json("/api/v1/auth/register", &first).await;
    assert_eq!(
        assert_envelope(res, StatusCode::CONFLICT).await,
        "user_exists"
    );
    let same_email =
        json!({"user_id": "carol2", "password": "s3cret-passw0rd", "email": "C@example.com"});
    let res = app.post_json("/api/v1/auth/register", &same_email).await;
    assert_eq!(
        assert_envelope(res, StatusCode::CONFLICT).await,
        "email_taken"
    );
}

#[tokio::test]
async fn login_works_by_user_id_or_email_and_refuses_a_wrong_password() {
    let app = spawn_app().await;
    app.post_json(
        "/api/v1/auth/register",
        &json!({"user_id": "dave", "password": "s3cret-passw0rd", "email": "dave@example.com"}),
    )
    .await;
    let by_name = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"user_id": "dave", "password": "s3cret-passw0rd"}),
        )
        .await;
    assert_eq!(by_name.status(), StatusCode::OK);
    let by_email = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "DAVE@example.com", "password": "s3cret-passw0rd"}),
        )
        .await;
    assert_eq!(by_email.status(), StatusCode::OK);
    let body: Value = by_email.json().await.unwrap();
    let me = app
        .get_authed("/api/v1/users/me", body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.status(), StatusCode::OK);

    let wrong = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"user_id": "dave", "password": "wrong-passw0rd"}),
        )
        .await;
    assert_eq!(
        assert_envelope(wrong, StatusCode::UNAUTHORIZED).await,
        "invalid_credentials"
    );
    let nobody = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"user_id": "nobody", "password": "s3cret-passw0rd"}),
        )
        .await;
    assert_eq!(
        assert_envelope(nobody, StatusCode::UNAUTHORIZED).await,
        "invalid_credentials"
    );
    let passwordless = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"user_id": "dave", "password": ""}),
        )
        .await;
    assert_eq!(
        assert_envelope(passwordless, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
}

fn sign(claims: &Value, alg: Algorithm, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn every_bad_access_token_is_401_in_the_envelope() {
    let app = spawn_app().await;
    let session = app.register("erin").await;
    let secret = app.settings.auth.jwt_secret.expose_secret().to_owned();
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": session.user_id, "token_type": "access", "iat": now, "exp": now + 600,
        "jti": uuid::Uuid::new_v4(), "sid": uuid::Uuid::new_v4()});

    let none_token = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let other_alg = sign(&claims, Algorithm::HS512, &secret);
    let wrong_signature = sign(&claims, Algorithm::HS256, "another-secret-entirely");
    let mut expired_claims = claims.clone();
    expired_claims["exp"] = json!(now - 10);
    let expired = sign(&expired_claims, Algorithm::HS256, &secret);
    let well_formed = sign(&claims, Algorithm::HS256, &secret);

    let me = app.get_authed("/api/v1/users/me", &well_formed).await;
    assert_eq!(me.status(), StatusCode::OK, "the control token must pass");

    for (label, token) in [
        ("alg none", none_token.as_str()),
        ("another algorithm", other_alg.as_str()),
        ("wrong signature", wrong_signature.as_str()),
        ("expired", expired.as_str()),
        ("refresh token as access", session.refresh.as_str()),
        ("garbage", "not.a.jwt"),
    ] {
        let res = app.get_authed("/api/v1/users/me", token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(
            assert_envelope(res, StatusCode::UNAUTHORIZED).await,
            "invalid_token",
            "{label}"
        );
    }
    let missing = app
        .client
        .get(app.url("/api/v1/users/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(missing, StatusCode::UNAUTHORIZED).await,
        "missing_token"
    );
}

#[tokio::test]
async fn refresh_rotates_and_reuse_of_a_rotated_token_revokes_the_family() {
    let app = spawn_app().await;
    let session = app.register("frank").await;

    let first = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": session.refresh}),
        )
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let rotated: Value = first.json().await.unwrap();
    let second_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, session.refresh);
    assert_eq!(rotated["user_id"].as_str(), Some(session.user_id.as_str()));

    let replay = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": session.refresh}),
        )
        .await;
    assert_eq!(
        assert_envelope(replay, StatusCode::UNAUTHORIZED).await,
        "refresh_token_reused"
    );

    let after = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": second_refresh}),
        )
        .await;
    assert_eq!(
        assert_envelope(after, StatusCode::UNAUTHORIZED).await,
        "invalid_refresh_token"
    );
    // The stolen family's access tokens, old and new, stop working at once.
    for access in [
        session.access.as_str(),
        rotated["access_token"].as_str().unwrap(),
    ] {
        let res = app.get_authed("/api/v1/users/me", access).await;
        assert_eq!(
            assert_envelope(res, StatusCode::UNAUTHORIZED).await,
            "invalid_token"
        );
    }

    let user_id: uuid::Uuid = session.user_id.parse().unwrap();
    let rows = refresh_token::Entity::find()
        .filter(refresh_token::Column::UserId.eq(user_id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter().all(|r| r.revoked_at.is_some()),
        "every token of the family is revoked"
    );
}

#[tokio::test]
async fn an_access_token_is_not_accepted_as_a_refresh_token() {
    let app = spawn_app().await;
    let session = app.register("grace").await;
    let res = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": session.access}),
        )
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::UNAUTHORIZED).await,
        "invalid_refresh_token"
    );
}

#[tokio::test]
async fn logout_revokes_the_refresh_family_and_its_access_tokens() {
    let app = spawn_app().await;
    let session = app.register("heidi").await;
    let phone = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"user_id": "heidi", "password": "s3cret-passw0rd"}),
        )
        .await;
    let phone: Value = phone.json().await.unwrap();
    let phone = phone["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get_authed("/api/v1/users/me", &session.access)
            .await
            .status(),
        StatusCode::OK
    );
    let res = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&session.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": session.refresh}),
        )
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::UNAUTHORIZED).await,
        "invalid_refresh_token"
    );
    // The access token of the ended session is refused from now on; the account's other
    // session is not touched.
    let res = app.get_authed("/api/v1/users/me", &session.access).await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "invalid_token");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("session has ended")
    );
    assert_eq!(
        app.get_authed("/api/v1/users/me", &phone).await.status(),
        StatusCode::OK
    );
    let unauthenticated = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_revoked_by_another_instance_is_refused_after_the_check_interval() {
    // Another gateway instance revoked the session: this one learns it from the database
    // once its cached answer is older than `auth.session_check_secs` (0 here: every request).
    let app = spawn_app_with(|s| s.auth.session_check_secs = 0).await;
    let session = app.register("ivan").await;
    assert_eq!(
        app.get_authed("/api/v1/users/me", &session.access)
            .await
            .status(),
        StatusCode::OK
    );
    let user: uuid::Uuid = session.user_id.parse().unwrap();
    gateway::repo::refresh_tokens::revoke_user(&app.db, user)
        .await
        .unwrap();
    let res = app.get_authed("/api/v1/users/me", &session.access).await;
    assert_eq!(
        assert_envelope(res, StatusCode::UNAUTHORIZED).await,
        "invalid_token"
    );
    // Proxied routes check it too.
    let res = app.get_authed("/api/v1/drugs", &session.access).await;
    assert_eq!(
        assert_envelope(res, StatusCode::UNAUTHORIZED).await,
        "invalid_token"
    );
}
