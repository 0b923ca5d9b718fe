//! The app's notification routes (the original's `app/api/notifications.py`): the bodies the
//! app sends, the answers' shapes, and what reaches the user's devices.

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::shape::{assert_shape, fixture};

async fn call(
    app: &TestApp,
    user: Uuid,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.sched(method, Some(user), &format!("/api/v1/notifications{path}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn record(v: &Value) {
    assert_shape(v, "notification_record.shape.json");
    assert_shape(&v["payload"], "notification_payload.shape.json");
}

async fn receiver(app: &TestApp, user: Uuid) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    app.webhook(user, &format!("{}/hook", server.uri())).await;
    server
}

fn titles(received: &[wiremock::Request]) -> Vec<String> {
    received
        .iter()
        .map(|r| {
            let v: Value = serde_json::from_slice(&r.body).unwrap();
            v["title"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_apps_send_reaches_the_users_devices_and_shows_in_the_history() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let hook = receiver(&app, user).await;
    let (status, sent) = call(
        &app,
        user,
        Method::POST,
        "/send?priority=high",
        Some(fixture("notification_send.request.json")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    record(&sent);
    assert_eq!(sent["type"], "custom");
    assert_eq!(sent["priority"], "high");
    assert_eq!(sent["payload"]["title"], "会议提醒");
    assert_eq!(sent["payload"]["badge"], 1);
    assert_eq!(sent["payload"]["data"]["event_id"], "uuid");
    assert_eq!(sent["status"], "pending");
    app.scf_tick().await;
    assert_eq!(
        titles(&hook.received_requests().await.unwrap()),
        ["会议提醒"]
    );

    // Later, at a time: not before it.
    let at = Utc::now() + Duration::hours(1);
    let at_text = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, later) = call(
        &app,
        user,
        Method::POST,
        &format!("/send?notification_type=daily_summary&scheduled_for={at_text}"),
        Some(json!({"title": "早上好！", "body": "今天有3个日程安排"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{later}");
    record(&later);
    assert_eq!(later["type"], "daily_summary");
    let when: chrono::DateTime<Utc> = later["scheduled_for"].as_str().unwrap().parse().unwrap();
    assert_eq!(when.timestamp(), at.timestamp());
    app.scf_tick().await;
    assert_eq!(hook.received_requests().await.unwrap().len(), 1, "not yet");

    // Only phones of a platform we cannot push to: nothing goes, and the record says so.
    let (_, fcm) = call(
        &app,
        user,
        Method::POST,
        "/send?platform=fcm",
        Some(json!({"title": "x", "body": "y"})),
    )
    .await;
    assert_eq!(fcm["status"], "failed", "{fcm}");
    assert!(fcm["error_message"].as_str().unwrap().contains("no device"));

    // The history: newest first, each with its status.
    let (status, history) = call(&app, user, Method::GET, "/history?limit=10", None).await;
    assert_eq!(status, StatusCode::OK);
    let list = history.as_array().unwrap();
    assert_eq!(list.len(), 3, "{history}");
    for r in list {
        record(r);
    }
    assert_eq!(list[2]["payload"]["title"], "会议提醒");
    assert_eq!(list[2]["status"], "sent");
    assert!(list[2]["sent_at"].is_string());
    assert_eq!(list[1]["status"], "pending");
    assert!(list[1]["scheduled_for"].is_string());

    // Bad input, in both languages; another user's device is not found.
    for (path, body) in [
        (
            "/send?notification_type=spam",
            json!({"title": "t", "body": "b"}),
        ),
        ("/send?priority=urgent", json!({"title": "t", "body": "b"})),
        ("/send?platform=sms", json!({"title": "t", "body": "b"})),
        ("/send", json!({"title": "  ", "body": "b"})),
        ("/send", json!({"title": "t", "body": "b", "badge": -1})),
    ] {
        let (status, v) = call(&app, user, Method::POST, path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {v}");
        assert_eq!(v["code"], "validation_error");
    }
    let (status, _) = call(
        &app,
        user,
        Method::POST,
        "/send",
        Some(json!({"body": "b"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let other = app.user("UTC").await;
    let other_hook = receiver(&app, other).await;
    drop(other_hook);
    let (_, theirs) = call(&app, other, Method::GET, "/history", None).await;
    assert_eq!(theirs, json!([]), "each sees only their own");
    let (status, _) = call(
        &app,
        other,
        Method::POST,
        &format!("/send?device_id={}", Uuid::new_v4()),
        Some(json!({"title": "t", "body": "b"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, user, Method::GET, "/history?limit=0", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn templates_and_event_pushes_fill_in_the_users_own_event() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    let hook = receiver(&app, user).await;
    let (status, templates) = call(&app, user, Method::GET, "/templates", None).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = templates
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_shape(t, "notification_template.shape.json");
            t["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        names,
        [
            "event_reminder",
            "event_starting",
            "event_modified",
            "routine_reminder",
            "daily_summary",
            "energy_alert"
        ]
    );
    let (status, sent) = call(
        &app,
        user,
        Method::POST,
        "/send/template/event_reminder",
        Some(json!({"title": "团队周会", "minutes": "15"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    record(&sent);
    assert_eq!(sent["type"], "event_reminder");
    assert_eq!(sent["payload"]["body"], "将在15分钟后开始");
    let (status, v) = call(
        &app,
        user,
        Method::POST,
        "/send/template/event_reminder",
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    let (status, v) = call(
        &app,
        user,
        Method::POST,
        "/send/template/nope",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(v["code"], "template_not_found");

    // An event of the user's, from svc-chat.
    let res = app
        .client
        .post(format!("{}/api/v1/events", app.settings.services.chat))
        .header(
            "x-internal-token",
            app.tokens.mint("gateway", "chat", Some(user)),
        )
        .json(&json!({"title": "牙医", "start_time": Utc::now() + Duration::hours(3)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let event: Value = res.json().await.unwrap();
    let id = event["event"]["id"].as_str().unwrap();
    let (status, remind) = call(
        &app,
        user,
        Method::POST,
        &format!("/events/{id}/remind?minutes_before=30"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{remind}");
    assert_eq!(remind["payload"]["title"], "牙医");
    assert_eq!(remind["payload"]["body"], "将在30分钟后开始");
    assert_eq!(remind["payload"]["data"]["event_id"], id);
    let (status, starting) = call(
        &app,
        user,
        Method::POST,
        &format!("/events/{id}/starting"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(starting["type"], "event_starting");
    assert_eq!(starting["priority"], "high");
    assert_eq!(starting["payload"]["body"], "现在开始了");
    let (status, _) = call(
        &app,
        user,
        Method::POST,
        &format!("/events/{id}/remind"),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "minutes_before is required"
    );
    let other = app.user("UTC").await;
    let (status, v) = call(
        &app,
        other,
        Method::POST,
        &format!("/events/{id}/starting"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["code"], "event_not_found");

    let (status, test) = call(&app, user, Method::POST, "/test", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(test["payload"]["title"], "测试通知");
    assert_eq!(test["payload"]["data"]["test"], true);
    app.scf_tick().await;
    let mut got = titles(&hook.received_requests().await.unwrap());
    got.sort();
    let mut want = ["团队周会", "牙医", "牙医", "测试通知"]
        .map(String::from)
        .to_vec();
    want.sort();
    assert_eq!(got, want, "sent at once, in any order");
}
