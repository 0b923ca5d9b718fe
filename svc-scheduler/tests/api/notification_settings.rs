//! `GET/PUT /users/me/notification-settings`: the original's fields, defaults and checks.

use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use shared::entities::notification_setting;
use uuid::Uuid;

use crate::helpers::*;
use crate::shape::{assert_shape, fixture};

const PATH: &str = "/api/v1/users/me/notification-settings";

async fn send(
    app: &TestApp,
    method: Method,
    user: Uuid,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut req = app.sched(method, Some(user), PATH);
    if let Some(body) = body {
        req = req.json(body);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn a_new_user_has_the_original_defaults_and_a_saved_body_comes_back_as_sent() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let (status, got) = send(&app, Method::GET, user, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_shape(&got, "notification_settings.shape.json");
    assert_eq!(got, fixture("notification_settings.defaults.json"));

    let sent = fixture("notification_settings.request.json");
    let (status, saved) = send(&app, Method::PUT, user, Some(&sent)).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_shape(&saved, "notification_settings.shape.json");
    assert_eq!(saved, sent);
    let (_, read) = send(&app, Method::GET, user, None).await;
    assert_eq!(read, sent);
    let row = notification_setting::Entity::find_by_id(user)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.wake_time, "07:30");
    assert_eq!(row.event_reminder_minutes, 30);
    assert!(!row.afternoon_checkin_enabled);

    // As the original: the body is the whole settings, a field left out takes its default;
    // a one-digit hour is the original's pattern too, and comes back padded.
    let (status, partial) =
        send(&app, Method::PUT, user, Some(&json!({"wake_time": "6:45"}))).await;
    assert_eq!(status, StatusCode::OK);
    let mut want = fixture("notification_settings.defaults.json");
    want["wake_time"] = json!("06:45");
    assert_eq!(partial, want);
    let (_, read) = send(&app, Method::GET, user, None).await;
    assert_eq!(read, want);
}

#[tokio::test]
async fn bad_times_minutes_and_fields_are_refused_and_nothing_is_saved() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    for (body, says) in [
        (json!({"wake_time": "24:00"}), "wake_time"),
        (json!({"wake_time": "7:5"}), "wake_time"),
        (json!({"sleep_time": "late"}), "sleep_time"),
        (json!({"sleep_time": "22:00:00"}), "sleep_time"),
        (
            json!({"event_reminder_minutes": 121}),
            "event_reminder_minutes",
        ),
        (
            json!({"event_reminder_minutes": -1}),
            "event_reminder_minutes",
        ),
        // A wrong JSON type is the body's error (serde does not name the field).
        (json!({"event_reminder_minutes": "15"}), "invalid type"),
        (json!({"morning_briefing_enabled": "yes"}), "invalid type"),
        (
            json!({"bedtime_story_enabled": true}),
            "bedtime_story_enabled",
        ),
    ] {
        let (status, err) = send(&app, Method::PUT, user, Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains(says),
            "{body}: {err}"
        );
    }
    // The edges are allowed.
    for minutes in [0, 120] {
        let (status, _) = send(
            &app,
            Method::PUT,
            user,
            Some(&json!({"event_reminder_minutes": minutes})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, read) = send(&app, Method::GET, user, None).await;
    assert_eq!(read["event_reminder_minutes"], 120);
    assert_eq!(read["wake_time"], "08:00");
}

#[tokio::test]
async fn a_forged_user_id_saves_the_callers_own_settings() {
    let app = spawn().await;
    let victim = app.user("UTC").await;
    let caller = app.user("UTC").await;
    let mut body = fixture("notification_settings.request.json");
    body["user_id"] = json!(victim.to_string());
    let (status, _) = send(&app, Method::PUT, caller, Some(&body)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, victims) = send(&app, Method::GET, victim, None).await;
    assert_eq!(victims, fixture("notification_settings.defaults.json"));
    let (_, callers) = send(&app, Method::GET, caller, None).await;
    assert_eq!(callers["wake_time"], "07:30");
    assert!(
        notification_setting::Entity::find_by_id(victim)
            .one(&app.db)
            .await
            .unwrap()
            .is_none()
    );
}
