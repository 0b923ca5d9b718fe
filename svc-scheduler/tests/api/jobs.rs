use chrono::{Duration, Utc};
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use shared::entities::job_item::JobItemStatus;
use shared::entities::{diary, job_item, notification};
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

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

#[tokio::test]
async fn diaries_are_due_at_each_users_own_three_oclock_and_written_once() {
    let app = spawn().await;
    Mock::given(method("POST"))
        .respond_with(diary_completion())
        .mount(&app.model)
        .await;
    let ny = app.user("America/New_York").await;
    let sh = app.user("Asia/Shanghai").await;
    // Both chatted on their own 22 November.
    say(&app, ny, "2026-11-22T15:00:00Z", "lunch with Ann").await;
    say(&app, sh, "2026-11-22T02:00:00Z", "早上跑步").await;
    // 07:59Z on 23 Nov: 02:59 in New York (not yet), 15:59 in Shanghai (due).
    let first = run(
        &app,
        "daily-diaries",
        json!({"now": "2026-11-23T07:59:00Z"}),
    )
    .await;
    assert_eq!(first["done"], 1, "{first}");
    // 08:00Z: New York's 03:00; Shanghai's diary is not written again.
    let second = run(
        &app,
        "daily-diaries",
        json!({"now": "2026-11-23T08:00:00Z"}),
    )
    .await;
    assert_eq!(second["done"], 1, "{second}");
    // The same trigger again: nothing.
    let third = run(
        &app,
        "daily-diaries",
        json!({"now": "2026-11-23T08:00:00Z"}),
    )
    .await;
    assert_eq!(third["total"], 0, "{third}");
    let diaries = diary::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(diaries.len(), 2);
    assert!(
        diaries
            .iter()
            .all(|d| d.diary_date.to_string() == "2026-11-22")
    );
    assert_eq!(
        app.model.received_requests().await.unwrap().len(),
        2,
        "one model call per diary"
    );
}

#[tokio::test]
async fn an_fc_timer_delivered_twice_writes_one_diary_through_svc_chat() {
    let app = spawn().await;
    Mock::given(method("POST"))
        .respond_with(diary_completion())
        .mount(&app.model)
        .await;
    // A user whose local time is past 03:00 now (whichever zone that is at test time), who
    // chatted yesterday, their time.
    let (zone, tz) = zone_at(4..23);
    let user = app.user(zone).await;
    let yesterday = Utc::now().with_timezone(&tz).date_naive() - Duration::days(1);
    let noon =
        chrono::TimeZone::from_local_datetime(&tz, &yesterday.and_hms_opt(12, 0, 0).unwrap())
            .unwrap();
    say(
        &app,
        user,
        &noon.with_timezone(&Utc).to_rfc3339(),
        "a good day",
    )
    .await;
    for _ in 0..2 {
        let res = app
            .client
            .post(format!("{}/invoke", app.scheduler))
            .header("x-fc-control-path", "/invoke")
            .body(fc_timer().to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK);
    }
    let diaries = diary::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(diaries.len(), 1);
    assert_eq!(diaries[0].user_id, user);
    assert_eq!(diaries[0].diary_date, yesterday);
}

#[tokio::test]
async fn expiry_alerts_at_nine_local_once_per_day() {
    let app = spawn().await;
    let user = app.user("America/New_York").await;
    let today = Utc::now()
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive();
    app.drugs(Method::POST, user, "/api/v1/drugs")
        .json(&json!({"name": "布洛芬", "expiry_date": (today + Duration::days(3)).to_string()}))
        .send()
        .await
        .unwrap();
    let quiet = app.user("America/New_York").await;
    for _ in 0..2 {
        let r = run(&app, "expiry-alerts", json!({"date": today})).await;
        assert_eq!(r["failed"], 0, "{r}");
    }
    let alerts = notification::Entity::find()
        .filter(notification::Column::Kind.eq("expiry_alert"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].user_id, user);
    assert!(alerts[0].body.contains("布洛芬"));
    assert!(app.notifications(quiet).await.is_empty());
}

#[tokio::test]
async fn two_instances_share_one_run_and_every_user_is_done_once() {
    let app = spawn_with(|s| s.scheduler.batch_size = 20).await;
    let n = 500;
    for _ in 0..n {
        app.user("Asia/Shanghai").await;
    }
    // A second instance on the same database.
    let mut second = app.settings.clone();
    second.server.port = 0;
    let other = svc_scheduler::startup::build(&second).await.unwrap();
    let other_url = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until_stopped(std::future::pending()));
    let body = json!({"date": "2026-11-21"});
    let token = app.tokens.mint("gateway", "scheduler", None);
    let call = |base: String| {
        let client = app.client.clone();
        let token = token.clone();
        let body = body.clone();
        async move {
            client
                .post(format!("{base}/internal/jobs/daily-diaries/run"))
                .header("x-internal-token", token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let (a, b) = tokio::join!(call(app.scheduler.clone()), call(other_url));
    // Nobody chatted that day: every item ends skipped, each claimed exactly once, the work
    // shared between the two instances.
    let handled = a["skipped"].as_i64().unwrap() + b["skipped"].as_i64().unwrap();
    assert_eq!(handled, n, "{a} {b}");
    assert_eq!(
        a["failed"].as_i64().unwrap() + b["failed"].as_i64().unwrap(),
        0
    );
    let once = job_item::Entity::find()
        .filter(job_item::Column::Attempts.eq(1))
        .filter(job_item::Column::Status.eq(JobItemStatus::Skipped))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(once, n as u64);
}

#[tokio::test]
async fn failed_items_keep_their_error_retry_and_a_crashed_claim_is_taken_over() {
    let app = spawn_with(|s| s.scheduler.max_attempts = 2).await;
    // The model fails (three times: svc-chat's own retries), then writes.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(3)
        .mount(&app.model)
        .await;
    Mock::given(method("POST"))
        .respond_with(diary_completion())
        .mount(&app.model)
        .await;
    let user = app.user("UTC").await;
    say(&app, user, "2026-11-21T10:00:00Z", "hi").await;
    let first = run(
        &app,
        "daily-diaries",
        json!({"date": "2026-11-21", "user": user}),
    )
    .await;
    // The first attempt failed and was retried at once (retry base 0 in tests).
    assert_eq!(
        (first["failed"].as_i64(), first["done"].as_i64()),
        (Some(1), Some(1)),
        "{first}"
    );
    let item = job_item::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.status, JobItemStatus::Done);
    assert_eq!(item.attempts, 2);
    assert_eq!(diary::Entity::find().count(&app.db).await.unwrap(), 1);

    // A run that died holding a claim: its lease lapses and the next run finishes the item.
    let now = Utc::now();
    job_item::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        job: Set("daily-diaries".into()),
        user_id: Set(user),
        period: Set("2026-11-20".into()),
        status: Set(JobItemStatus::Running),
        attempts: Set(1),
        next_attempt_at: Set(now),
        claimed_by: Set(Some("a-dead-instance".into())),
        claimed_until: Set(Some(now - Duration::seconds(1))),
        error: Set(None),
        run_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let resumed = run(
        &app,
        "daily-diaries",
        json!({"date": "2026-11-21", "user": user}),
    )
    .await;
    assert_eq!(resumed["total"], 1, "{resumed}");
    let left = job_item::Entity::find()
        .filter(job_item::Column::Status.eq(JobItemStatus::Running))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);

    // Runs are listed with their counts; the user sees their own items, a stranger none.
    let runs: Value = app
        .sched(
            Method::GET,
            Some(user),
            "/api/v1/jobs/runs?job=daily-diaries",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(runs["runs"].as_array().unwrap().len() >= 2);
    assert_eq!(runs["items"].as_array().unwrap().len(), 2);
    let stranger = app.user("UTC").await;
    let theirs: Value = app
        .sched(Method::GET, Some(stranger), "/api/v1/jobs/runs")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["items"], json!([]));
    assert_eq!(theirs["runs"], json!([]), "no one else's runs");
    // An admin (the role an operator grants) sees everyone's.
    use sea_orm::IntoActiveModel;
    let mut admin = shared::entities::user::Entity::find_by_id(stranger)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    admin.is_admin = Set(true);
    admin.update(&app.db).await.unwrap();
    let all: Value = app
        .sched(
            Method::GET,
            Some(stranger),
            "/api/v1/jobs/runs?job=daily-diaries",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "{all}");
    assert!(all["runs"].as_array().unwrap().len() >= 2, "{all}");
}

#[tokio::test]
async fn a_failed_run_shown_to_its_user_names_no_internal_address() {
    let app = spawn().await;
    let user = app.user("Asia/Shanghai").await;
    say(&app, user, "2026-11-22T02:00:00Z", "早上跑步").await;
    // A second scheduler instance whose svc-chat and svc-drugs cannot be reached.
    let mut settings = app.settings.clone();
    settings.services.chat = "http://127.0.0.1:1".into();
    settings.services.drugs = "http://127.0.0.1:1".into();
    let broken = svc_scheduler::startup::build(&settings)
        .await
        .expect("svc-scheduler");
    let base = format!("http://127.0.0.1:{}", broken.port());
    tokio::spawn(broken.run_until_stopped(std::future::pending()));
    for (job, body) in [
        ("daily-diaries", json!({"user": user, "date": "2026-11-22"})),
        ("dose-reminders", json!({})),
    ] {
        let res = app
            .client
            .post(format!("{base}/internal/jobs/{job}/run"))
            .header(
                shared::internal_auth::INTERNAL_TOKEN_HEADER,
                app.tokens.mint("gateway", "scheduler", None),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        let summary: Value = res.json().await.unwrap();
        assert_ne!(summary["status"], "done", "{summary}");
    }
    let listed: Value = app
        .sched(Method::GET, Some(user), "/api/v1/jobs/runs")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = listed.to_string();
    assert!(
        text.contains("unreachable"),
        "the failure is listed: {listed}"
    );
    assert!(
        !text.contains("127.0.0.1") && !text.contains("http://"),
        "{listed}"
    );
}

#[tokio::test]
async fn ticks_keep_their_own_budget_and_a_bad_tick_body_is_refused() {
    // Services stop requests at 1 s; the diary model takes 1.5 s.
    let app = spawn_with(|s| {
        s.server.request_timeout_secs = 1;
        s.scheduler.max_attempts = 1;
    })
    .await;
    Mock::given(method("POST"))
        .respond_with(diary_completion().set_delay(std::time::Duration::from_millis(1_500)))
        .mount(&app.model)
        .await;
    let user = app.user("UTC").await;
    say(&app, user, "2026-11-21T10:00:00Z", "hi").await;
    let started = std::time::Instant::now();
    let summary = run(
        &app,
        "daily-diaries",
        json!({"date": "2026-11-21", "user": user}),
    )
    .await;
    // svc-chat's diary route was stopped at its deadline (504 in the envelope) ...
    let item = job_item::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.status, JobItemStatus::Dead, "{summary}");
    assert!(
        item.error.as_deref().is_some_and(|e| e.contains("504")),
        "{item:?}"
    );
    // ... while the run itself, past the same limit, answered in full.
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert_eq!(summary["failed"], 1, "{summary}");

    let tick = |body: &'static str| {
        app.sched(Method::POST, None, "/internal/tick")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let res = tick(r#"{"now": "2026-11-21T03:30:00Z"}"#).await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let summary: Value = res.json().await.unwrap();
    assert_eq!(summary["at"], "2026-11-21T03:30:00Z", "{summary}");
    // A time that is not one is said so, not taken for "now".
    let res = tick(r#"{"now": "yesterday"}"#).await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "invalid_json", "{body}");
}
