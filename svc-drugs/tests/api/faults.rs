//! The database cut away mid-run (a TCP proxy between svc-drugs and PostgreSQL, closed and
//! reopened by the test): requests fail as 503 in the envelope, nothing half-written is left,
//! and the pool recovers by itself. PostgreSQL only (`TEST_DATABASE_URL`).

use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use shared::entities::drug;
use shared::testing::tcp_proxy::TcpProxy;

use crate::helpers::*;

#[tokio::test]
async fn a_database_cut_away_answers_503_writes_nothing_and_the_pool_recovers() {
    let Some(admin) = std::env::var(shared::testing::TEST_DATABASE_URL)
        .ok()
        .filter(|u| u.starts_with("postgres"))
    else {
        eprintln!("skipped: PostgreSQL only (set TEST_DATABASE_URL)");
        return;
    };
    let server = reqwest::Url::parse(&admin).unwrap();
    let target = format!(
        "{}:{}",
        server.host_str().unwrap(),
        server.port().unwrap_or(5432)
    );
    let proxy = TcpProxy::start(target.parse().unwrap()).await.unwrap();
    let port = proxy.addr.port();
    let app = spawn_app_with(move |s| {
        use secrecy::ExposeSecret;
        let mut url = reqwest::Url::parse(s.database.url.expose_secret()).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(port)).unwrap();
        s.database.url = url.to_string().into();
        s.database.acquire_timeout_secs = 2;
        s.database.connect_timeout_secs = 2;
    })
    .await;
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
    let mut recovered = false;
    for _ in 0..50 {
        if add("恢复后").await.unwrap().status() == StatusCode::CREATED {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the pool did not recover");
    let mut names: Vec<String> = drug::Entity::find()
        .filter(drug::Column::UserId.eq(user))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["布洛芬", "恢复后"],
        "nothing of the cut request was written"
    );
}
