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

/// Whether a delivery of `kind` was received.
fn kinds(received: &[wiremock::Request]) -> Vec<String> {
    received
        .iter()
        .map(|r| {
            let v: Value = serde_json::from_slice(&r.body).unwrap();
            v["kind"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn what_can_wait_waits_for_the_users_wake_time_and_a_dose_does_not() {
    use chrono::{Duration, Utc};
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
    use shared::entities::{delivery, notification};
    let app = spawn().await;
    let tz = chrono_tz::Asia::Shanghai;
    let user = app.user(tz.name()).await;
    // Asleep now: went to sleep an hour ago, wakes in two hours.
    let local = Utc::now().with_timezone(&tz);
    let hm = |d: Duration| (local + d).format("%H:%M").to_string();
    let (status, _) = send(
        &app,
        Method::PUT,
        user,
        Some(&json!({"wake_time": hm(Duration::hours(2)), "sleep_time": hm(Duration::hours(-1))})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let receiver = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    app.webhook(user, &format!("{}/hook", receiver.uri())).await;
    let today = local.date_naive();
    app.drugs(Method::POST, user, "/api/v1/drugs")
        .json(&json!({"name": "布洛芬", "expiry_date": (today + Duration::days(3)).to_string()}))
        .send()
        .await
        .unwrap();
    let res = app
        .sched(Method::POST, None, "/internal/jobs/expiry-alerts/run")
        .json(&json!({"date": today}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    app.dose_due_now(user, tz).await;
    app.scf_tick().await;

    // The dose went at once; the expiry alert is in the inbox but not pushed.
    assert_eq!(
        kinds(&receiver.received_requests().await.unwrap()),
        ["dose_reminder"]
    );
    let inbox = app.notifications(user).await;
    assert!(
        inbox.iter().any(|n| n["kind"] == "expiry_alert"),
        "{inbox:?}"
    );
    let alert = notification::Entity::find()
        .filter(notification::Column::Kind.eq("expiry_alert"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let waiting = delivery::Entity::find()
        .filter(delivery::Column::NotificationId.eq(alert.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let wake = waiting.next_attempt_at.with_timezone(&tz);
    assert_eq!(wake.format("%H:%M").to_string(), hm(Duration::hours(2)));
    let until = waiting.next_attempt_at - Utc::now();
    assert!(
        until > Duration::minutes(118) && until <= Duration::hours(2),
        "waits for the wake time: {until}"
    );
    assert_eq!(waiting.attempts, 0, "not tried");

    // Morning comes: it goes, once.
    delivery::Entity::update_many()
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(Utc::now()))
        .filter(delivery::Column::Id.eq(waiting.id))
        .exec(&app.db)
        .await
        .unwrap();
    app.scf_tick().await;
    app.scf_tick().await;
    assert_eq!(
        kinds(&receiver.received_requests().await.unwrap()),
        ["dose_reminder", "expiry_alert"]
    );
}

#[tokio::test]
async fn event_reminders_follow_each_users_lead_time_and_switch() {
    use chrono::{Duration, Utc};
    let app = spawn().await;
    let event = |user: Uuid, minutes: i64, title: &'static str| {
        let app = &app;
        async move {
            let res = app
                .client
                .post(format!("{}/api/v1/events", app.settings.services.chat))
                .header(
                    "x-internal-token",
                    app.tokens.mint("gateway", "chat", Some(user)),
                )
                .json(
                    &json!({"title": title, "start_time": Utc::now() + Duration::minutes(minutes)}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
        }
    };
    // An hour ahead asked: reminded 45 minutes before.
    let early = app.user("Europe/Paris").await;
    send(
        &app,
        Method::PUT,
        early,
        Some(&json!({"event_reminder_minutes": 60})),
    )
    .await;
    event(early, 45, "Train").await;
    // The default 15 minutes: not yet at 45, yes at 10.
    let usual = app.user("Europe/Paris").await;
    event(usual, 45, "Lunch").await;
    event(usual, 10, "Call").await;
    // Switched off: nothing.
    let off = app.user("Europe/Paris").await;
    send(
        &app,
        Method::PUT,
        off,
        Some(&json!({"event_reminders_enabled": false})),
    )
    .await;
    event(off, 10, "Gym").await;
    app.scf_tick().await;
    let titles = |inbox: Vec<Value>| -> Vec<String> {
        inbox
            .iter()
            .map(|n| n["title"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(titles(app.notifications(early).await), ["即将开始：Train"]);
    assert_eq!(titles(app.notifications(usual).await), ["即将开始：Call"]);
    assert!(app.notifications(off).await.is_empty());
}
