use std::sync::OnceLock;

use opentelemetry_sdk::trace::InMemorySpanExporter;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::config::Settings;
use shared::testing::TestDatabase;

pub struct TestApp {
    pub address: String,
    pub db: sea_orm::DatabaseConnection,
    pub settings: Settings,
    pub client: reqwest::Client,
}

/// One in-memory span exporter for the whole test binary (the subscriber is global).
pub fn spans() -> &'static InMemorySpanExporter {
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        shared::telemetry::init_for_tests("gateway-tests", exporter.clone());
        exporter
    })
}

/// Nothing listens on port 1: calls to it are refused at once.
pub const CLOSED: &str = "http://127.0.0.1:1";

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    shared::install_crypto_provider();
    spans();
    let database = TestDatabase::create().await.expect("test database");
    let mut settings = database.settings();
    settings.services.drugs = CLOSED.into();
    settings.services.chat = CLOSED.into();
    settings.services.scheduler = CLOSED.into();
    customize(&mut settings);
    let app = gateway::startup::build(&settings)
        .await
        .expect("gateway builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        address,
        db: database.connect().await.expect("connect"),
        settings,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
    }
}

pub struct Session {
    pub user_id: String,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn register(&self, login: &str) -> Session {
        let res = self
            .post_json(
                "/api/v1/auth/register",
                &json!({"user_id": login, "password": "s3cret-passw0rd", "nickname": "Tester"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.expect("json");
        Session {
            user_id: body["user_id"].as_str().expect("user_id").to_owned(),
            access: body["access_token"].as_str().expect("access").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh").to_owned(),
        }
    }

    pub async fn get_authed(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }
}

/// Assert the error envelope of `API.md` and return its `code`.
pub async fn assert_envelope(res: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(res.status(), status);
    let header_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("x-request-id header");
    let body: Value = res.json().await.expect("envelope is JSON");
    let code = body["code"].as_str().expect("code").to_owned();
    assert!(!code.is_empty());
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body["detail"], body["message"], "{body}");
    assert_eq!(
        body["request_id"].as_str(),
        Some(header_id.as_str()),
        "{body}"
    );
    code
}
