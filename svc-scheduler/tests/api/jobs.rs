use chrono::{Duration, Utc};
use reqwest::Method;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use shared::entities::{job_item, notification};
use wiremock::matchers::{method, path};
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
        .and(path("/internal/diaries/generate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "written"})))
        .mount(&app.chat)
        .await;
    let ny = app.user("America/New_York").await;
    let sh = app.user("Asia/Shanghai").await;
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
    let calls = app.chat.received_requests().await.unwrap();
    let bodies: Vec<Value> = calls
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0], json!({"user_id": sh, "date": "2026-11-22"}));
    assert_eq!(bodies[1], json!({"user_id": ny, "date": "2026-11-22"}));
    // Every call carried an internal token for svc-chat.
    assert!(
        calls
            .iter()
            .all(|r| r.headers.contains_key("x-internal-token"))
    );
}

#[tokio::test]
async fn failed_items_keep_their_error_retry_and_a_crashed_claim_is_taken_over() {
    let app = spawn_with(|s| s.scheduler.max_attempts = 2).await;
    Mock::given(method("POST"))
        .and(path("/internal/diaries/generate"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .mount(&app.chat)
        .await;
    Mock::given(method("POST"))
        .and(path("/internal/diaries/generate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "skipped"})))
        .mount(&app.chat)
        .await;
    let user = app.user("UTC").await;
    let first = run(
        &app,
        "daily-diaries",
        json!({"date": "2026-11-21", "user": user}),
    )
    .await;
    // The first attempt failed and was retried at once (retry base 0 in tests).
    assert_eq!(
        (first["failed"].as_i64(), first["skipped"].as_i64()),
        (Some(1), Some(1)),
        "{first}"
    );
    let item = job_item::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.status, "skipped");
    assert_eq!(item.attempts, 2);

    // A run that died holding a claim: its lease lapses and the next run finishes the item.
    let now = Utc::now();
    job_item::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        job: Set("daily-diaries".into()),
        user_id: Set(user),
        period: Set("2026-11-20".into()),
        status: Set("running".into()),
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
        .filter(job_item::Column::Status.eq("running"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);

    // Runs are listed with their counts; the user sees their own items.
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
    Mock::given(method("POST"))
        .and(path("/internal/diaries/generate"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "written"}))
                .set_delay(std::time::Duration::from_millis(5)),
        )
        .mount(&app.chat)
        .await;
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
    let done = a["done"].as_i64().unwrap() + b["done"].as_i64().unwrap();
    assert_eq!(done, n, "{a} {b}");
    assert_eq!(
        app.chat.received_requests().await.unwrap().len(),
        n as usize,
        "each user's diary asked for once"
    );
    let once = job_item::Entity::find()
        .filter(job_item::Column::Attempts.eq(1))
        .filter(job_item::Column::Status.eq("done"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(once, n as u64);
}
