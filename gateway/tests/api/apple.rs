//! Sign in with Apple against a local key server (wiremock) serving RSA keys made in the test.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shared::entities::{refresh_token, user};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::apple_keys::{BUNDLE_ID, apple_app, claims, forged, key_server, key_set, keys, sign};
use crate::helpers::{CLOSED, TestApp, assert_envelope, spawn_app_with};

async fn user_count(app: &TestApp) -> usize {
    user::Entity::find().all(&app.db).await.unwrap().len()
}

#[tokio::test]
async fn a_valid_identity_token_makes_an_account_and_signs_the_same_account_in_again() {
    let [a, _] = keys();
    let server = key_server(&[a], 1).await;
    let app = apple_app(&server, 60).await;
    let sub = "001234.0a1b2c3d4e5f.0001";
    let token = sign(a, &claims(sub));

    let res = app
        .apple(&json!({"identity_token": token, "nickname": "小林", "timezone": "Europe/Paris"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let first: Value = res.json().await.unwrap();
    for field in [
        "user_id",
        "access_token",
        "refresh_token",
        "expires_in",
        "token_type",
    ] {
        assert!(first.get(field).is_some(), "{field}: {first}");
    }
    let id: uuid::Uuid = first["user_id"].as_str().unwrap().parse().unwrap();
    let row = user::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.apple_sub.as_deref(), Some(sub));
    assert_eq!(row.login, sub);
    assert_eq!(row.nickname.as_deref(), Some("小林"));
    assert_eq!(row.timezone, "Europe/Paris");
    assert_eq!(
        row.email.as_deref(),
        Some("001234.0a1b2c3d4e5f.0001@privaterelay.appleid.com")
    );
    assert!(!row.has_password());

    // Again, through the original login route this time: the same account, keys from cache.
    let res = app
        .post_json("/api/v1/auth/login", &json!({"identity_token": token}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let second: Value = res.json().await.unwrap();
    assert_eq!(second["user_id"], first["user_id"]);
    assert_eq!(user_count(&app).await, 1);

    let me = app
        .get_authed("/api/v1/users/me", second["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["user_id"], sub);
    assert_eq!(me["nickname"], "小林");
}

/// This API does not verify the emails people register with: whoever registered the address
/// first may not own it, so Apple's verified email never links an account (linking would sign
/// the Apple user into an account someone else holds the password of).
#[tokio::test]
async fn a_verified_email_held_by_an_account_here_links_nothing() {
    let [a, _] = keys();
    let server = key_server(&[a], 1).await;
    let app = apple_app(&server, 60).await;
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"user_id": "pat", "password": "s3cret-passw0rd", "email": "pat@example.com"}),
        )
        .await;
    let registered: Value = res.json().await.unwrap();
    let mut c = claims("000777.linked.0001");
    c["email"] = json!("Pat@Example.com");
    c["email_verified"] = json!(true);

    let res = app.apple(&json!({"identity_token": sign(a, &c)})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_ne!(body["user_id"], registered["user_id"]);
    let pat = user::Entity::find()
        .filter(user::Column::Login.eq("pat"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pat.apple_sub, None, "the registered account is not linked");
    let made: uuid::Uuid = body["user_id"].as_str().unwrap().parse().unwrap();
    let made = user::Entity::find_by_id(made)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(made.apple_sub.as_deref(), Some("000777.linked.0001"));
    assert_eq!(
        made.email, None,
        "the address stays with the account that has it"
    );
    assert_eq!(user_count(&app).await, 2);
}

#[tokio::test]
async fn an_unverified_email_links_nothing_and_is_not_kept() {
    let [a, _] = keys();
    let server = key_server(&[a], 1).await;
    let app = apple_app(&server, 60).await;
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"user_id": "quinn", "password": "s3cret-passw0rd", "email": "quinn@example.com"}),
        )
        .await;
    let registered: Value = res.json().await.unwrap();
    for (i, verified) in [json!(false), json!("false"), Value::Null]
        .into_iter()
        .enumerate()
    {
        let mut c = claims(&format!("000888.unverified.000{i}"));
        c["email"] = json!("quinn@example.com");
        c["email_verified"] = verified.clone();
        // The body's email proves nothing either.
        let res = app
            .apple(&json!({"identity_token": sign(a, &c), "email": "quinn@example.com"}))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{verified}");
        let body: Value = res.json().await.unwrap();
        assert_ne!(body["user_id"], registered["user_id"], "{verified}");
        let id: uuid::Uuid = body["user_id"].as_str().unwrap().parse().unwrap();
        let made = user::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(made.email, None, "{verified}");
    }
    let quinn = user::Entity::find()
        .filter(user::Column::Login.eq("quinn"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(quinn.apple_sub, None);
}

#[tokio::test]
async fn every_bad_identity_token_is_401_and_makes_no_account() {
    let [a, b] = keys();
    let server = key_server(&[a], 1).await;
    let app = apple_app(&server, 3600).await;
    let sub = "000999.bad.0001";
    let good = claims(sub);
    let with = |key: &str, value: Value| {
        let mut c = good.clone();
        c[key] = value;
        c
    };
    let now = chrono::Utc::now().timestamp();
    let header = |alg: &str| json!({"alg": alg, "kid": a.kid, "typ": "JWT"});
    let hs256_with_public_key = jsonwebtoken::encode(
        &{
            let mut h = Header::new(Algorithm::HS256);
            h.kid = Some(a.kid.to_owned());
            h
        },
        &good,
        &EncodingKey::from_secret(&a.public_der),
    )
    .unwrap();
    let jwk_as_secret = jsonwebtoken::encode(
        &{
            let mut h = Header::new(Algorithm::HS256);
            h.kid = Some(a.kid.to_owned());
            h
        },
        &good,
        &EncodingKey::from_secret(a.jwk.to_string().as_bytes()),
    )
    .unwrap();
    let signed_by_another_key = {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(a.kid.to_owned());
        jsonwebtoken::encode(&h, &good, &EncodingKey::from_rsa_der(&b.private_der)).unwrap()
    };
    let cases = [
        (
            "wrong aud",
            sign(a, &with("aud", json!("com.someone.else"))),
        ),
        (
            "wrong iss",
            sign(a, &with("iss", json!("https://evil.example"))),
        ),
        ("expired", sign(a, &with("exp", json!(now - 3600)))),
        ("no exp", {
            let mut c = good.clone();
            c.as_object_mut().unwrap().remove("exp");
            sign(a, &c)
        }),
        ("no sub", {
            let mut c = good.clone();
            c.as_object_mut().unwrap().remove("sub");
            sign(a, &c)
        }),
        ("alg none", forged(&header("none"), &good, b"")),
        ("HS256 with the public key as secret", hs256_with_public_key),
        ("HS256 with the JWK as secret", jwk_as_secret),
        ("ES256", forged(&header("ES256"), &good, &[7; 64])),
        ("RS512", forged(&header("RS512"), &good, &[7; 256])),
        ("signed by another key", signed_by_another_key),
        ("no kid", {
            jsonwebtoken::encode(
                &Header::new(Algorithm::RS256),
                &good,
                &EncodingKey::from_rsa_der(&a.private_der),
            )
            .unwrap()
        }),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    // A good token first: the keys are fetched once and held.
    let res = app.apple(&json!({"identity_token": sign(a, &good)})).await;
    assert_eq!(res.status(), StatusCode::OK);
    for (label, token) in cases {
        let res = app.apple(&json!({"identity_token": token})).await;
        assert_eq!(
            assert_envelope(res, StatusCode::UNAUTHORIZED).await,
            "invalid_identity_token",
            "{label}"
        );
    }
    assert_eq!(
        user_count(&app).await,
        1,
        "only the good token made an account"
    );
}

#[tokio::test]
async fn the_nonce_must_match_as_sent_or_as_its_sha256() {
    let [a, _] = keys();
    let server = key_server(&[a], 1).await;
    let app = apple_app(&server, 60).await;
    let nonce = "n-0S6_WzA2Mj";
    let hashed = hex::encode(Sha256::digest(nonce.as_bytes()));
    let mut raw = claims("000111.nonce.0001");
    raw["nonce"] = json!(nonce);
    let mut sha = claims("000111.nonce.0001");
    sha["nonce"] = json!(hashed);

    for c in [&raw, &sha] {
        let res = app
            .apple(&json!({"identity_token": sign(a, c), "nonce": nonce}))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{c}");
    }
    for (label, token, sent) in [
        ("another nonce", sign(a, &raw), "another"),
        (
            "token without a nonce",
            sign(a, &claims("000111.nonce.0001")),
            nonce,
        ),
        (
            "the hash sent, raw in the token",
            sign(a, &raw),
            hashed.as_str(),
        ),
    ] {
        let res = app
            .apple(&json!({"identity_token": token, "nonce": sent}))
            .await;
        assert_eq!(
            assert_envelope(res, StatusCode::UNAUTHORIZED).await,
            "invalid_identity_token",
            "{label}"
        );
    }
}

#[tokio::test]
async fn an_unknown_kid_fetches_the_keys_again() {
    let [a, b] = keys();
    let server = MockServer::start().await;
    // Apple rotates: the first fetch sees key A only, later ones A and B.
    Mock::given(method("GET"))
        .and(path("/auth/keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(key_set(&[a])))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/auth/keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(key_set(&[a, b])))
        .expect(1)
        .mount(&server)
        .await;
    let app = apple_app(&server, 0).await;
    let res = app
        .apple(&json!({"identity_token": sign(a, &claims("000222.rotate.0001"))}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .apple(&json!({"identity_token": sign(b, &claims("000222.rotate.0002"))}))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "key B is fetched on first sight"
    );
    let res = app
        .apple(&json!({"identity_token": sign(b, &claims("000222.rotate.0003"))}))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "and then held");
}

#[tokio::test]
async fn a_flood_of_unknown_kids_fetches_the_keys_at_most_once_per_interval() {
    let [a, b] = keys();
    // One fetch only, however many unknown kids come.
    let server = key_server(&[a], 1).await;
    let app = apple_app(&server, 3600).await;
    let res = app
        .apple(&json!({"identity_token": sign(a, &claims("000333.flood.0001"))}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for i in 0..5 {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(format!("made-up-{i}"));
        let token = jsonwebtoken::encode(
            &header,
            &claims("000333.flood.0002"),
            &EncodingKey::from_rsa_der(&b.private_der),
        )
        .unwrap();
        let res = app.apple(&json!({"identity_token": token})).await;
        assert_eq!(
            assert_envelope(res, StatusCode::UNAUTHORIZED).await,
            "invalid_identity_token"
        );
    }
    // Dropping the server checks `.expect(1)`.
}

#[tokio::test]
async fn sign_in_with_apple_is_503_when_no_bundle_id_is_configured() {
    let app = spawn_app_with(|_| {}).await;
    let [a, _] = keys();
    let token = sign(a, &claims("000444.off.0001"));
    let res = app.apple(&json!({"identity_token": token})).await;
    assert_eq!(
        assert_envelope(res, StatusCode::SERVICE_UNAVAILABLE).await,
        "apple_sign_in_disabled"
    );
    let res = app
        .post_json("/api/v1/auth/login", &json!({"identity_token": token}))
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::SERVICE_UNAVAILABLE).await,
        "apple_sign_in_disabled"
    );
    assert_eq!(user_count(&app).await, 0);
}

#[tokio::test]
async fn unreachable_apple_keys_are_502_and_bad_bodies_400() {
    let app = spawn_app_with(|s| {
        s.apple.bundle_ids = vec![BUNDLE_ID.into()];
        s.apple.jwks_url = format!("{CLOSED}/auth/keys");
    })
    .await;
    let [a, _] = keys();
    let res = app
        .apple(&json!({"identity_token": sign(a, &claims("000555.down.0001"))}))
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::BAD_GATEWAY).await,
        "upstream_unavailable"
    );
    // Straight after (no new fetch within the interval) it is still Apple that is missing.
    let res = app
        .apple(&json!({"identity_token": sign(a, &claims("000555.down.0002"))}))
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::BAD_GATEWAY).await,
        "upstream_unavailable"
    );
    for body in [
        json!({}),
        json!({"identity_token": ""}),
        json!({"identity_token": "x", "timezone": "Mars/Base"}),
        json!({"identity_token": "x", "role": "admin"}),
    ] {
        let res = app.apple(&body).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"identity_token": "x", "password": "s3cret-passw0rd"}),
        )
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
}

#[tokio::test]
async fn the_original_apps_account_of_an_apple_user_id_is_linked_and_its_open_sessions_end() {
    let [a, _] = keys();
    let server = key_server(&[a], 1).await;
    let url = format!("{}/auth/keys", server.uri());
    let app = spawn_app_with(move |s| {
        s.apple.bundle_ids = vec![BUNDLE_ID.into()];
        s.apple.jwks_url = url;
        s.compat.passwordless_login = true;
    })
    .await;
    let sub = "000666.original.0001";
    // The original app signed in with its Apple user id alone.
    let res = app
        .post_json("/api/v1/auth/login", &json!({"user_id": sub}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let old: Value = res.json().await.unwrap();

    let res = app
        .apple(&json!({"identity_token": sign(a, &claims(sub))}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let new: Value = res.json().await.unwrap();
    assert_eq!(new["user_id"], old["user_id"], "the same account");
    assert_eq!(user_count(&app).await, 1);

    // The session opened without proof has ended; the user id alone no longer signs in.
    let res = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": old["refresh_token"]}),
        )
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::UNAUTHORIZED).await,
        "invalid_refresh_token"
    );
    let res = app
        .post_json("/api/v1/auth/login", &json!({"user_id": sub}))
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::UNAUTHORIZED).await,
        "password_required"
    );
    let id: uuid::Uuid = new["user_id"].as_str().unwrap().parse().unwrap();
    let live = refresh_token::Entity::find()
        .filter(refresh_token::Column::UserId.eq(id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(live.len(), 1, "only the Apple session is live");
}

/// The web console asks how it may sign in: no Apple button until a web Services ID is set;
/// with one, where to send the browser, and identity tokens made for that Services ID sign in.
#[tokio::test]
async fn the_web_services_id_is_offered_to_the_console_and_accepted_as_an_audience() {
    let app = crate::helpers::spawn_app().await;
    let res = reqwest::get(app.url("/api/v1/auth/providers"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"password": true, "apple": null}));

    let [a, _] = keys();
    let server = key_server(&[a], 1).await;
    let keys_url = format!("{}/auth/keys", server.uri());
    let app = spawn_app_with(move |s| {
        s.apple.web_service_id = " com.example.unilife.web ".into();
        s.apple.authorize_url = "https://appleid.apple.com/auth/authorize".into();
        s.apple.jwks_url = keys_url;
    })
    .await;
    let body: Value = reqwest::get(app.url("/api/v1/auth/providers"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["apple"],
        json!({"client_id": "com.example.unilife.web",
               "authorize_url": "https://appleid.apple.com/auth/authorize"})
    );
    let mut web = claims("001234.web.0001");
    web["aud"] = json!("com.example.unilife.web");
    let res = app
        .apple(&json!({"identity_token": sign(a, &web), "timezone": "Asia/Shanghai"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The app's bundle id is not configured here: its tokens are refused.
    let res = app
        .apple(&json!({"identity_token": sign(a, &claims("001234.app.0001"))}))
        .await;
    assert_eq!(
        assert_envelope(res, StatusCode::UNAUTHORIZED).await,
        "invalid_identity_token"
    );
}
