//! The database cut away in the middle of a job (a TCP proxy between the services and
//! PostgreSQL, started by the test): the run answers 503 in the envelope, and once the
//! database is back the next run finishes every item, none twice. PostgreSQL only.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use shared::entities::job_item::{self, JobItemStatus};
use shared::testing::tcp_proxy::TcpProxy;

use crate::helpers::*;

#[tokio::test]
async fn a_job_cut_off_from_its_database_resumes_where_it_stopped() {
    let Some(proxy) = TcpProxy::to_test_postgres().await else {
        eprintln!("skipped: PostgreSQL only (set TEST_DATABASE_URL)");
        return;
    };
    let app = spawn_with(|s| {
        proxy.route(s);
        s.scheduler.batch_size = 10;
        s.scheduler.lease_secs = 1;
    })
    .await;
    let mut users = Vec::new();
    for _ in 0..35 {
        users.push(app.user("UTC").await);
    }
    let run = || async {
        app.sched(Method::POST, None, "/internal/jobs/daily-diaries/run")
            .json(&json!({"date": "2026-11-21"}))
            .send()
            .await
            .unwrap()
    };
    // The first batch is worked; recording how it went, the database is gone.
    proxy.cut_on(r#"UPDATE "job_items" SET "status" = $1, "error""#);
    let res = run().await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "database_unavailable");

    proxy.restore();
    // The stopped run's claims lapse (1 s), then the next run takes them over.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let mut summary = Value::Null;
    for _ in 0..30 {
        let res = run().await;
        if res.status() == StatusCode::OK {
            summary = res.json().await.unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every item finished in this run, the ten the cut run had claimed included (a call that
    // met svc-chat's own pool still reconnecting failed and was retried at once).
    assert_eq!(summary["skipped"], users.len(), "{summary}");
    let items = job_item::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(items.len(), users.len(), "one item per user");
    for user in &users {
        assert!(
            items.iter().any(|i| i.user_id == *user),
            "{user} has no item"
        );
    }
    assert!(
        items.iter().all(|i| i.status == JobItemStatus::Skipped),
        "every user seen (nobody chatted that day)"
    );
    let taken_over = items.iter().filter(|i| i.attempts >= 2).count();
    assert!(taken_over >= 10, "{items:?}");
}
