use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::*;

/// Fails the first `failures` calls with 500, then answers 200.
struct Flaky {
    calls: Arc<AtomicUsize>,
    failures: usize,
}

impl Respond for Flaky {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if n < self.failures {
            ResponseTemplate::new(500)
        } else {
            ResponseTemplate::new(200)
        }
    }
}

#[tokio::test]
async fn an_fc_timer_turns_a_due_dose_into_one_reminder_delivered_once_despite_two_failures() {
    let app = spawn().await;
    let tz = chrono_tz::Asia::Shanghai;
    let user = app.user(tz.name()).await;
    app.dose_due_now(user, tz).await;
    let receiver = MockServer::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(Flaky {
            calls: calls.clone(),
            failures: 2,
        })
        .mount(&receiver)
        .await;
    let device = app.webhook(user, &format!("{}/hook", receiver.uri())).await;
    let secret = device["secret"].as_str().unwrap().to_owned();
    // The secret is shown once.
    let devices: Value = app
        .sched(Method::GET, Some(user), "/api/v1/devices?channel=webhook")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(devices["total"], 1);
    assert!(devices["devices"][0].get("secret").is_none());

    // FC delivers the timer to /invoke, without an internal token, as octet-stream.
    for _ in 0..2 {
        let res = app
            .client
            .post(format!("{}/invoke", app.scheduler))
            .header("x-fc-control-path", "/invoke")
            .header("content-type", "application/octet-stream")
            .body(fc_timer().to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let tick: Value = res.json().await.unwrap();
        assert_eq!(tick["trigger"], "fc");
    }
    let inbox = app.notifications(user).await;
    assert_eq!(
        inbox.len(),
        1,
        "the timer fired twice, the reminder exists once: {inbox:?}"
    );
    assert_eq!(inbox[0]["kind"], "dose_reminder");
    assert_eq!(inbox[0]["read"], false);

    // The receiver failed twice and then took it: three attempts, one delivery, each signed.
    let received = receiver.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    let ids: Vec<&str> = received
        .iter()
        .map(|r| r.headers["x-unilife-delivery"].to_str().unwrap())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one delivery retried: {ids:?}"
    );
    for r in &received {
        let sig = r.headers["x-unilife-signature"].to_str().unwrap();
        assert!(verify(&secret, sig, &r.body), "signature verifies");
        assert!(!verify("wrong-secret", sig, &r.body));
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["kind"], "dose_reminder");
    }
    // Another tick sends nothing more.
    app.sched(Method::POST, None, "/internal/tick")
        .send()
        .await
        .unwrap();
    assert_eq!(receiver.received_requests().await.unwrap().len(), 3);

    // Mark read; the unread inbox is empty; someone else cannot touch it.
    let id = inbox[0]["id"].as_str().unwrap();
    let other = app.user("UTC").await;
    let res = app
        .sched(
            Method::POST,
            Some(other),
            &format!("/api/v1/notifications/{id}/read"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .sched(
            Method::POST,
            Some(user),
            &format!("/api/v1/notifications/{id}/read"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let unread: Value = app
        .sched(Method::GET, Some(user), "/api/v1/notifications?unread=true")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unread, serde_json::json!([]));
}

#[tokio::test]
async fn a_receiver_that_never_answers_ends_dead_after_the_limit() {
    let app = spawn_with(|s| s.scheduler.max_attempts = 3).await;
    let tz = chrono_tz::Europe::Berlin;
    let user = app.user(tz.name()).await;
    app.dose_due_now(user, tz).await;
    let receiver = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&receiver)
        .await;
    app.webhook(user, &receiver.uri()).await;
    let tick = app.scf_tick().await;
    assert_eq!(tick["deliveries"]["dead"], 1);
    assert_eq!(receiver.received_requests().await.unwrap().len(), 3);
    app.sched(Method::POST, None, "/internal/tick")
        .send()
        .await
        .unwrap();
    assert_eq!(
        receiver.received_requests().await.unwrap().len(),
        3,
        "dead stays dead"
    );
}

#[tokio::test]
async fn devices_are_validated_and_owned() {
    let app = spawn().await;
    let user = app.user("UTC").await;
    for body in [
        serde_json::json!({"channel": "sms", "url": "https://x.example/h"}),
        serde_json::json!({"channel": "webhook", "url": "not a url"}),
        serde_json::json!({"channel": "webhook", "url": "ftp://x.example/h"}),
    ] {
        let res = app
            .sched(Method::POST, Some(user), "/api/v1/devices")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let d = app.webhook(user, "https://hooks.example/u1").await;
    let other = app.user("UTC").await;
    let path = format!("/api/v1/devices/{}", d["id"].as_str().unwrap());
    let res = app
        .sched(Method::DELETE, Some(other), &path)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .sched(Method::DELETE, Some(user), &path)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Without a token the public routes are refused; an SCF event that is not a timer is 400.
    let res = app
        .client
        .get(format!("{}/api/v1/devices", app.scheduler))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .client
        .post(format!("{}/event-invoke", app.scheduler))
        .json(&serde_json::json!({"Type": "Cos"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_scf_runtime_api_loop_serves_a_timer_event() {
    use wiremock::matchers::{method, path};
    let app = spawn().await;
    let tz = chrono_tz::Asia::Tokyo;
    let user = app.user(tz.name()).await;
    app.dose_due_now(user, tz).await;
    let runtime = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/runtime/init/ready"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&runtime)
        .await;
    Mock::given(method("GET"))
        .and(path("/runtime/invocation/next"))
        .respond_with(ResponseTemplate::new(200).set_body_json(scf_timer()))
        .up_to_n_times(1)
        .mount(&runtime)
        .await;
    // After the one event the next poll hangs, as the platform's long poll does.
    Mock::given(method("GET"))
        .and(path("/runtime/invocation/next"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(300)))
        .mount(&runtime)
        .await;
    Mock::given(method("POST"))
        .and(path("/runtime/invocation/response"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&runtime)
        .await;

    let db = shared::db::connect(&app.settings.database).await.unwrap();
    let ctx = svc_scheduler::state::Ctx::new(&app.settings, db).unwrap();
    let api = runtime.uri();
    let task = tokio::spawn(async move { svc_scheduler::scf_runtime::run(&ctx, &api).await });
    let mut answered = None;
    for _ in 0..100 {
        let reqs = runtime.received_requests().await.unwrap();
        if let Some(r) = reqs
            .iter()
            .find(|r| r.url.path() == "/runtime/invocation/response")
        {
            answered = Some(serde_json::from_slice::<Value>(&r.body).unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    task.abort();
    let summary = answered.expect("the runtime answered the invocation");
    assert_eq!(summary["trigger"], "scf");
    let reqs = runtime.received_requests().await.unwrap();
    assert_eq!(reqs[0].url.path(), "/runtime/init/ready", "ready first");
    let inbox = app.notifications(user).await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0]["kind"], "dose_reminder");
}

#[tokio::test]
async fn an_event_starting_soon_is_reminded_once() {
    let app = spawn().await;
    let user = app.user("Europe/Paris").await;
    let start = chrono::Utc::now() + chrono::Duration::minutes(10);
    let token = app.tokens.mint("gateway", "chat", Some(user));
    let res = app
        .client
        .post(format!("{}/api/v1/events", app.settings.services.chat))
        .header("x-internal-token", token)
        .json(&serde_json::json!({"title": "Dentist", "start_time": start}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    for _ in 0..2 {
        let tick: Value = app
            .sched(Method::POST, None, "/internal/tick")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let run = tick["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["job"] == "event-reminders")
            .unwrap()
            .clone();
        assert_eq!(run["status"], "done", "{run}");
    }
    let inbox = app.notifications(user).await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0]["kind"], "event_reminder");
    assert!(inbox[0]["title"].as_str().unwrap().contains("Dentist"));
}

/// A routine "Stretch" every day at `start`'s time, made in svc-chat as the app does; its id.
async fn daily_stretch(
    app: &TestApp,
    user: uuid::Uuid,
    start: chrono::DateTime<chrono::Utc>,
) -> String {
    let res = app
        .client
        .post(format!("{}/api/v1/events", app.settings.services.chat))
        .header(
            "x-internal-token",
            app.tokens.mint("gateway", "chat", Some(user)),
        )
        .json(&serde_json::json!({
            "title": "Stretch", "start_time": start, "repeat_pattern": {"type": "daily"},
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let template: Value = res.json().await.unwrap();
    template["template"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_routines_day_is_reminded_once_made_into_an_instance_or_not() {
    let app = spawn().await;
    let user = app.user("Europe/Paris").await;
    let start = chrono::Utc::now() + chrono::Duration::minutes(10);
    let token = || app.tokens.mint("gateway", "chat", Some(user));
    // Every day at the minute ten minutes from now (Paris time): today's day is due soon.
    let id = daily_stretch(&app, user, start).await;
    let tick = || async {
        let tick: Value = app
            .sched(Method::POST, None, "/internal/tick")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let run = tick["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["job"] == "event-reminders")
            .unwrap()
            .clone();
        assert_eq!(run["status"], "done", "{run}");
    };
    tick().await;
    tick().await;
    // The day made into an instance (the app does so to edit it): still the same day.
    let today = start.with_timezone(&chrono_tz::Europe::Paris).date_naive();
    let res = app
        .client
        .post(format!(
            "{}/api/v1/events/{id}/instances",
            app.settings.services.chat
        ))
        .header("x-internal-token", token())
        .json(&serde_json::json!({"target_date": today}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    tick().await;
    let inbox = app.notifications(user).await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0]["kind"], "event_reminder");
    assert!(inbox[0]["title"].as_str().unwrap().contains("Stretch"));
    assert_eq!(
        inbox[0]["data"]["event_id"],
        format!("virtual_{id}_{}", today.format("%Y%m%d"))
    );
}

#[tokio::test]
async fn a_routines_day_moved_to_another_day_is_not_reminded_at_its_old_time() {
    let app = spawn().await;
    let user = app.user("Europe/Paris").await;
    let start = chrono::Utc::now() + chrono::Duration::minutes(10);
    let token = || app.tokens.mint("gateway", "chat", Some(user));
    let chat = &app.settings.services.chat;
    let id = daily_stretch(&app, user, start).await;
    // Today's day moved to tomorrow at the same time: nothing is due soon any more.
    let today = start.with_timezone(&chrono_tz::Europe::Paris).date_naive();
    let tomorrow = start + chrono::Duration::days(1);
    let res = app
        .client
        .put(format!(
            "{chat}/api/v1/events/virtual_{id}_{}",
            today.format("%Y%m%d")
        ))
        .header("x-internal-token", token())
        .json(&serde_json::json!({
            "start_time": tomorrow,
            "end_time": tomorrow + chrono::Duration::minutes(30),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let tick: Value = app
        .sched(Method::POST, None, "/internal/tick")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        tick["runs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["job"] == "event-reminders" && r["status"] == "done"),
        "{tick}"
    );
    assert_eq!(app.notifications(user).await, Vec::<Value>::new());
}

/// SSRF: a webhook is a URL the user chooses; it never reaches this machine, its network or
/// the cloud's metadata service. Refused when set, and not called when delivering either (a
/// target stored before the check, or while private targets were allowed).
#[tokio::test]
async fn webhooks_never_reach_this_machine_or_its_network() {
    let app = spawn_with(|s| {
        s.scheduler.webhook_allow_private = false;
        s.scheduler.max_attempts = 1;
    })
    .await;
    let user = app.user("Europe/Berlin").await;
    for url in [
        "https://127.0.0.1:9/h",
        "https://[::1]/h",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.100.100.200/latest/meta-data/",
        "https://localhost:8080/h",
        "https://10.0.0.5/h",
        "https://0x7f000001/h",
        "https://[::ffff:192.168.1.1]/h",
        "https://metadata.google.internal/",
        "barks://127.0.0.1/key",
        "ntfys://[fd00::1]/topic",
        "barks://2130706433/key",
    ] {
        let res = app
            .sched(Method::POST, Some(user), "/api/v1/devices")
            .json(&serde_json::json!({"channel": "webhook", "url": url}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{url}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "validation_error", "{url}");
        assert!(
            body["message"].as_str().unwrap().contains("本机或内网"),
            "{body}"
        );
    }
    // Plain http only on a LAN that was allowed.
    let res = app
        .sched(Method::POST, Some(user), "/api/v1/devices")
        .json(&serde_json::json!({"url": "http://hooks.example.com/h"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("https"),
        "{body}"
    );
    app.webhook(user, "https://hooks.example.com/u1").await;

    // A loopback target already stored: the delivery is refused without a request.
    use sea_orm::{ActiveValue::Set, EntityTrait};
    use shared::entities::device;
    let receiver = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    device::Entity::delete_many().exec(&app.db).await.unwrap();
    device::Entity::insert(device::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        user_id: Set(user),
        channel: Set("webhook".into()),
        name: Set(None),
        url: Set(format!("{}/hook", receiver.uri())),
        secret: Set("s".repeat(32)),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        created_at: Set(chrono::Utc::now()),
    })
    .exec_without_returning(&app.db)
    .await
    .unwrap();
    app.dose_due_now(user, chrono_tz::Europe::Berlin).await;
    let tick = app.scf_tick().await;
    assert_eq!(tick["deliveries"]["dead"], 1, "{tick}");
    assert!(
        receiver.received_requests().await.unwrap().is_empty(),
        "nothing was sent to loopback"
    );
}
