//! The daily check-ins: written by the model from the user's day at the user's own time,
//! stored in the chat timeline, delivered once whatever the timers and instances do; skipped
//! when there is nothing to say or the user turned them off; a template without a model.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use shared::entities::job_item::JobItemStatus;
use shared::entities::{checkin, job_item, message, notification};
use uuid::Uuid;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

/// A zone where it is now between 01:00 and 20:59, so that a minute ago and two hours ahead
/// are the same local day.
fn daytime_zone() -> (&'static str, Tz) {
    zone_at(1..21)
}

fn local_hm(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%H:%M").to_string()
}

fn completion(content: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content.to_string()}}],
    }))
}

async fn settings(app: &TestApp, user: Uuid, body: Value) {
    let res = app
        .sched(
            Method::PUT,
            Some(user),
            "/api/v1/users/me/notification-settings",
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
}

/// An event of today at 09:00 local (the morning's).
async fn morning_event(app: &TestApp, user: Uuid, tz: Tz, title: &str) {
    let today = Utc::now().with_timezone(&tz).date_naive();
    let res = app
        .chat(Method::POST, user, "/api/v1/events")
        .json(&json!({"title": title, "event_type": "schedule", "start_time": format!("{today}T09:00:00")}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        reqwest::StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
}

async fn run(app: &TestApp, job: &str, body: Value) -> Value {
    let res = app
        .sched(Method::POST, None, &format!("/internal/jobs/{job}/run"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    res.json().await.unwrap()
}

async fn model_calls(app: &TestApp, marker: &str) -> usize {
    app.model
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains(marker))
        .count()
}

#[tokio::test]
async fn the_morning_briefing_comes_at_the_wake_time_once_whatever_the_timers_do() {
    let app = spawn_with(|s| s.scheduler.checkins = true).await;
    let written = json!({"should_send": true, "title": "早安", "body": "09:00 有团队周会，记得带上周报。", "reasoning": "有会"});
    Mock::given(method("POST"))
        .and(body_string_contains("早安简报"))
        .respond_with(completion(&written))
        .mount(&app.model)
        .await;
    let (zone, tz) = daytime_zone();
    let user = app.user(zone).await;
    morning_event(&app, user, tz, "团队周会").await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    app.webhook(user, &receiver.uri()).await;
    // Waking in an hour: the timers fire, nothing is written yet.
    let now = Utc::now();
    settings(
        &app,
        user,
        json!({"wake_time": local_hm(now + Duration::hours(1), tz), "sleep_time": "23:59"}),
    )
    .await;
    app.scf_tick().await;
    assert_eq!(model_calls(&app, "早安简报").await, 0);
    let item = job_item::Entity::find()
        .filter(job_item::Column::Job.eq("morning-briefing"))
        .filter(job_item::Column::UserId.eq(user))
        .one(&app.db)
        .await
        .unwrap()
        .expect("seeded at midnight");
    assert_eq!(item.status, JobItemStatus::Pending);
    assert!(
        item.next_attempt_at > now + Duration::minutes(58),
        "{item:?}"
    );
    // The user gets up earlier: today's briefing moves with the setting and is due now.
    settings(
        &app,
        user,
        json!({"wake_time": local_hm(now - Duration::minutes(1), tz), "sleep_time": "23:59"}),
    )
    .await;
    // Two instances' timers at once, then the platform's timer again.
    let mut second = app.settings.clone();
    second.server.port = 0;
    let other = svc_scheduler::startup::build(&second).await.unwrap();
    let other_url = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until_stopped(std::future::pending()));
    let tick = |base: String| {
        let client = app.client.clone();
        async move {
            let res = client
                .post(format!("{base}/event-invoke"))
                .json(&scf_timer())
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), reqwest::StatusCode::OK);
        }
    };
    tokio::join!(tick(app.scheduler.clone()), tick(other_url.clone()));
    tick(other_url).await;
    app.scf_tick().await;

    assert_eq!(model_calls(&app, "早安简报").await, 1, "one model call");
    let prompt =
        String::from_utf8_lossy(&app.model.received_requests().await.unwrap()[0].body).to_string();
    assert!(
        prompt.contains("09:00 团队周会"),
        "the day is in the prompt: {prompt}"
    );
    let rows = checkin::Entity::find()
        .filter(checkin::Column::UserId.eq(user))
        .all(&app.db)
        .await
        .unwrap();
    let morning: Vec<_> = rows.iter().filter(|c| c.kind == "morning").collect();
    assert_eq!(morning.len(), 1);
    assert_eq!(
        (morning[0].status.as_str(), morning[0].source.as_str()),
        ("sent", "model")
    );
    // In the chat timeline as the assistant's message.
    let said = message::Entity::find()
        .filter(message::Column::UserId.eq(user))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(said.len(), 1, "{said:?}");
    assert_eq!(said[0].role, "assistant");
    assert_eq!(said[0].content, "09:00 有团队周会，记得带上周报。");
    assert_eq!(Some(said[0].id), morning[0].message_id);
    let history: Value = app
        .chat(Method::GET, user, "/api/v1/messages/history?limit=10")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(history.to_string().contains("记得带上周报"), "{history}");
    // One notification, delivered once.
    let greetings = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user))
        .filter(notification::Column::Kind.eq("greeting"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(greetings.len(), 1);
    assert_eq!(greetings[0].title, "早安");
    assert_eq!(greetings[0].data["type"], "morning_notification");
    assert_eq!(
        greetings[0].data["push"]["category"],
        "MORNING_NOTIFICATION"
    );
    let received = receiver.received_requests().await.unwrap();
    let bodies: Vec<Value> = received
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let briefings: Vec<&Value> = bodies.iter().filter(|b| b["kind"] == "greeting").collect();
    assert_eq!(briefings.len(), 1, "{bodies:?}");
    assert_eq!(briefings[0]["body"], "09:00 有团队周会，记得带上周报。");
}

#[tokio::test]
async fn nothing_to_say_or_turned_off_sends_nothing_and_asks_no_model() {
    let app = spawn().await;
    Mock::given(method("POST"))
        .respond_with(completion(
            &json!({"should_send": true, "title": "t", "body": "b"}),
        ))
        .mount(&app.model)
        .await;
    let (zone, tz) = daytime_zone();
    let today = Utc::now().with_timezone(&tz).date_naive();
    let idle = app.user(zone).await;
    let off = app.user(zone).await;
    morning_event(&app, off, tz, "复诊").await;
    settings(&app, off, json!({"morning_briefing_enabled": false})).await;
    for user in [idle, off] {
        let r = run(
            &app,
            "morning-briefing",
            json!({"date": today, "user": user}),
        )
        .await;
        assert_eq!(
            (r["done"].as_i64(), r["skipped"].as_i64()),
            (Some(0), Some(1)),
            "{r}"
        );
    }
    assert_eq!(app.model.received_requests().await.unwrap().len(), 0);
    let rows = checkin::Entity::find().all(&app.db).await.unwrap();
    // The idle user's is decided (by the rules) and kept; the one turned off never reached svc-chat.
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0].user_id,
            rows[0].status.as_str(),
            rows[0].source.as_str()
        ),
        (idle, "skipped", "rules")
    );
    assert!(app.notifications(idle).await.is_empty());
    assert!(app.notifications(off).await.is_empty());
}

#[tokio::test]
async fn the_model_may_decline_and_without_one_a_template_in_the_users_language_goes() {
    let app = spawn().await;
    Mock::given(method("POST"))
        .respond_with(completion(
            &json!({"should_send": false, "reasoning": "都是小事"}),
        ))
        .mount(&app.model)
        .await;
    let (zone, tz) = daytime_zone();
    let today = Utc::now().with_timezone(&tz).date_naive();
    let user = app.user(zone).await;
    morning_event(&app, user, tz, "买菜").await;
    let r = run(
        &app,
        "morning-briefing",
        json!({"date": today, "user": user}),
    )
    .await;
    assert_eq!(r["skipped"], 1, "{r}");
    let row = checkin::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(
        (
            row.status.as_str(),
            row.source.as_str(),
            row.reason.as_deref()
        ),
        ("skipped", "model", Some("都是小事"))
    );

    // No model configured: the plain template, Chinese by default, English by preference.
    let bare = spawn_with(|s| s.llm_chat.api_key = None).await;
    let zh = bare.user(zone).await;
    let en = bare.user(zone).await;
    shared::entities::user::Entity::update_many()
        .col_expr(
            shared::entities::user::Column::Preferences,
            sea_orm::sea_query::Expr::value(json!({"language": "en"})),
        )
        .filter(shared::entities::user::Column::Id.eq(en))
        .exec(&bare.db)
        .await
        .unwrap();
    for user in [zh, en] {
        morning_event(&bare, user, tz, "Dentist").await;
        let r = run(
            &bare,
            "morning-briefing",
            json!({"date": today, "user": user}),
        )
        .await;
        assert_eq!(r["done"], 1, "{r}");
    }
    let zh_note = &bare.notifications(zh).await[0];
    assert_eq!(zh_note["title"], "🌅 早安简报");
    assert_eq!(zh_note["body"], "早上好！今天上午的安排：09:00 Dentist。");
    let en_note = &bare.notifications(en).await[0];
    assert_eq!(en_note["title"], "🌅 Morning briefing");
    assert_eq!(
        en_note["body"],
        "Good morning! This morning: 09:00 Dentist."
    );
    let sources: Vec<String> = checkin::Entity::find()
        .all(&bare.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.source)
        .collect();
    assert_eq!(sources, ["template", "template"]);
}
