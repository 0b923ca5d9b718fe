use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_envelope, spawn_app};

#[tokio::test]
async fn me_has_the_compat_fields() {
    let app = spawn_app().await;
    let session = app.register("ivan").await;
    let res = app.get_authed("/api/v1/users/me", &session.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    for field in [
        "id",
        "user_id",
        "nickname",
        "timezone",
        "email",
        "avatar_url",
        "preferences",
        "created_at",
        "last_active_at",
    ] {
        assert!(me.get(field).is_some(), "missing {field}: {me}");
    }
    assert_eq!(me["id"].as_str(), Some(session.user_id.as_str()));
    assert_eq!(me["user_id"], "ivan");
    assert_eq!(me["timezone"], "Asia/Shanghai");
    assert_eq!(
        me["preferences"],
        json!({"notification_enabled": true, "auto_schedule_enabled": true,
            "energy_based_scheduling": true, "working_hours_start": 9, "working_hours_end": 18})
    );
}

#[tokio::test]
async fn update_me_changes_only_what_is_sent_and_validates_it() {
    let app = spawn_app().await;
    let session = app.register("judy").await;
    let put = |body: Value| {
        app.client
            .put(app.url("/api/v1/users/me"))
            .bearer_auth(&session.access)
            .json(&body)
            .send()
    };
    let res = put(json!({"timezone": "America/New_York", "preferences": {"theme": "dark"}, "nickname": "朱迪"})).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["timezone"], "America/New_York");
    assert_eq!(me["nickname"], "朱迪");
    assert_eq!(me["preferences"]["theme"], "dark");

    let res = put(json!({"timezone": "Nowhere/Land"})).await.unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
    let res = put(json!({"avatar_url": "javascript:alert(1)"}))
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
    let res = put(json!({"preferences": [1, 2]})).await.unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::BAD_REQUEST).await,
        "validation_error"
    );
    // Our own keys are checked too: the expiry warning svc-drugs reads, the console's language.
    for bad in [
        json!({"expiry_warning_days": -1}),
        json!({"expiry_warning_days": 3651}),
        json!({"expiry_warning_days": "14"}),
        json!({"expiry_warning_days": 1.5}),
        json!({"language": "fr"}),
        json!({"language": 1}),
    ] {
        let res = put(json!({ "preferences": bad })).await.unwrap();
        assert_eq!(
            assert_envelope(res, StatusCode::BAD_REQUEST).await,
            "validation_error",
            "{bad}"
        );
    }
    let res = put(json!({"preferences": {"expiry_warning_days": 14, "language": "en"}}))
        .await
        .unwrap();
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["preferences"]["expiry_warning_days"], 14, "{me}");
    assert_eq!(me["preferences"]["language"], "en", "{me}");

    // `null` leaves a field as it is (the app's contract); "" clears an optional one.
    let res = put(json!({"nickname": null, "avatar_url": "https://example.com/a.png"}))
        .await
        .unwrap();
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["nickname"], "朱迪");
    assert_eq!(me["avatar_url"], "https://example.com/a.png");
    assert_eq!(me["timezone"], "America/New_York", "untouched fields stay");
    let res =
        put(json!({"avatar_url": "", "preferences": {"theme": null, "working_hours_end": 20}}))
            .await
            .unwrap();
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["avatar_url"], Value::Null);
    assert!(me["preferences"].get("theme").is_none(), "{me}");
    assert_eq!(me["preferences"]["working_hours_end"], 20);

    app.post_json(
        "/api/v1/auth/register",
        &json!({"user_id": "other", "password": "s3cret-passw0rd", "email": "taken@example.com"}),
    )
    .await;
    let res = put(json!({"email": "taken@example.com"})).await.unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::CONFLICT).await,
        "email_taken"
    );
}
