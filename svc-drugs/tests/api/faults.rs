//! The database taken away mid-run by a TCP proxy between svc-drugs and PostgreSQL, started
//! by the test: cut (connections closed), cut in the middle of a transaction, or stalled (no
//! byte moves). Requests fail as 503/504 in the envelope, nothing half-written is left, and
//! the pool recovers by itself. PostgreSQL only (`TEST_DATABASE_URL`).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use shared::entities::{drug, drug_image, recognition};
use shared::testing::tcp_proxy::TcpProxy;
use uuid::Uuid;

use crate::helpers::*;

/// svc-drugs whose database connections go through a proxy the test controls; None on SQLite.
async fn proxied_app() -> Option<(TcpProxy, TestApp)> {
    let Some(proxy) = TcpProxy::to_test_postgres().await else {
        eprintln!("skipped: PostgreSQL only (set TEST_DATABASE_URL)");
        return None;
    };
    let app = spawn_app_with(|s| proxy.route(s)).await;
    Some((proxy, app))
}

/// Until a drug can be added again (the pool has recovered), at most five seconds.
async fn recovers(app: &TestApp, user: Uuid, name: &str) {
    for _ in 0..50 {
        let res = app
            .post(user, "/api/v1/drugs")
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::CREATED {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the pool did not recover");
}

async fn drug_names(app: &TestApp, user: Uuid) -> Vec<String> {
    let mut names: Vec<String> = drug::Entity::find()
        .filter(drug::Column::UserId.eq(user))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    names.sort();
    names
}

/// A recognition of the cotton swabs, saved to the cabinet, with the caller's deadline.
async fn recognize_and_save(app: &TestApp, user: Uuid, deadline_ms: u64) -> reqwest::Response {
    app.model_answers(&cotton_swab_answer().to_string()).await;
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(photo("cotton-swab-front.jpg")).file_name("front.jpg"),
    );
    app.post(user, "/api/v1/drugs/recognize")
        .header("x-request-deadline-ms", deadline_ms.to_string())
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Nothing of a save that did not finish: no drug, every photo free, no recognition linked.
async fn nothing_saved(app: &TestApp, user: Uuid) {
    let images = drug_image::Entity::find()
        .filter(drug_image::Column::UserId.eq(user))
        .all(&app.db)
        .await
        .unwrap();
    assert!(!images.is_empty(), "the photo itself is kept for a retry");
    assert!(images.iter().all(|i| i.drug_id.is_none()), "{images:?}");
    let linked = recognition::Entity::find()
        .filter(recognition::Column::UserId.eq(user))
        .filter(recognition::Column::DrugId.is_not_null())
        .all(&app.db)
        .await
        .unwrap();
    assert!(linked.is_empty(), "{linked:?}");
}

#[tokio::test]
async fn a_database_cut_away_answers_503_writes_nothing_and_the_pool_recovers() {
    let Some((proxy, app)) = proxied_app().await else {
        return;
    };
    let user = app.user("Asia/Shanghai").await;
    let add = |name: &'static str| {
        app.post(user, "/api/v1/drugs")
            .json(&json!({"name": name}))
            .send()
    };
    assert_eq!(add("布洛芬").await.unwrap().status(), StatusCode::CREATED);

    proxy.cut();
    for res in [
        add("断网时").await.unwrap(),
        app.get(user, "/api/v1/drugs").send().await.unwrap(),
    ] {
        assert!(res.headers().contains_key("retry-after"));
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["code"], "database_unavailable");
        assert!(body["request_id"].is_string());
    }

    proxy.restore();
    recovers(&app, user, "恢复后").await;
    assert_eq!(
        drug_names(&app, user).await,
        ["布洛芬", "恢复后"],
        "nothing of the cut request was written"
    );
}

#[tokio::test]
async fn a_cut_in_the_middle_of_saving_a_recognition_leaves_nothing_half_written() {
    let Some((proxy, app)) = proxied_app().await else {
        return;
    };
    let user = app.user("Asia/Shanghai").await;
    // The drug row is written, the photos are being attached: then the database is gone.
    proxy.cut_on(r#"UPDATE "drug_images" SET "drug_id""#);
    let res = recognize_and_save(&app, user, 60_000).await;
    let code = assert_envelope(res, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(code, "database_unavailable");
    proxy.restore();
    recovers(&app, user, "恢复后").await;
    assert_eq!(drug_names(&app, user).await, ["恢复后"]);
    nothing_saved(&app, user).await;
}

#[tokio::test]
async fn a_stalled_database_ends_at_the_deadline_rolls_back_and_the_pool_recovers() {
    let Some((proxy, app)) = proxied_app().await else {
        return;
    };
    let user = app.user("Asia/Shanghai").await;
    // The drug row and the photos are written, the recognition is being linked: then no byte
    // moves. The caller (the gateway) gave the request 6 s, time enough on a busy machine to
    // reach that statement.
    proxy.stall_on(r#"UPDATE "recognitions" SET "drug_id""#);
    let started = Instant::now();
    let res = recognize_and_save(&app, user, 6_000).await;
    let waited = started.elapsed();
    assert!(
        proxy.is_stalled(),
        "the request ended before the statement that stalls"
    );
    let code = assert_envelope(res, StatusCode::GATEWAY_TIMEOUT).await;
    assert_eq!(code, "deadline_exceeded");
    assert!(
        waited >= Duration::from_secs(6) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    // Still stalled: a read ends at its deadline too.
    let started = Instant::now();
    let res = app
        .get(user, "/api/v1/drugs")
        .header("x-request-deadline-ms", "500")
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_envelope(res, StatusCode::GATEWAY_TIMEOUT).await,
        "deadline_exceeded"
    );
    assert!(started.elapsed() < Duration::from_secs(3));

    // The held bytes arrive; the abandoned transaction is rolled back, never committed.
    proxy.resume();
    recovers(&app, user, "恢复后").await;
    assert_eq!(drug_names(&app, user).await, ["恢复后"]);
    nothing_saved(&app, user).await;
}
