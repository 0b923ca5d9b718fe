use chrono::Utc;
use serde_json::{Value, json};
use shared::config::Settings;
use shared::internal_auth::{INTERNAL_TOKEN_HEADER, InternalTokens};
use shared::testing::TestDatabase;
use uuid::Uuid;
use wiremock::MockServer;

pub struct TestApp {
    pub scheduler: String,
    pub drugs: String,
    pub db: sea_orm::DatabaseConnection,
    pub settings: Settings,
    pub client: reqwest::Client,
    pub tokens: InternalTokens,
    /// The chat model behind svc-chat.
    pub model: MockServer,
}

pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(customize: impl Fn(&mut Settings)) -> TestApp {
    shared::install_crypto_provider();
    let database = TestDatabase::create().await.expect("test database");
    let model = MockServer::start().await;
    let mut settings = database.settings();
    settings.storage.upload_dir =
        std::env::temp_dir().join(format!("sched-test-{}", Uuid::new_v4()));
    settings.scheduler.clock = false;
    settings.scheduler.retry_base_secs = 0;
    settings.llm_chat.base_url = model.uri();
    settings.llm_chat.api_key = Some(secrecy::SecretString::from("k".to_owned()));
    customize(&mut settings);
    let drugs = svc_drugs::startup::build(&settings)
        .await
        .expect("svc-drugs");
    settings.services.drugs = format!("http://127.0.0.1:{}", drugs.port());
    tokio::spawn(drugs.run_until_stopped(std::future::pending()));
    let chat = svc_chat::startup::build(&settings).await.expect("svc-chat");
    settings.services.chat = format!("http://127.0.0.1:{}", chat.port());
    tokio::spawn(chat.run_until_stopped(std::future::pending()));
    let scheduler = svc_scheduler::startup::build(&settings)
        .await
        .expect("svc-scheduler");
    let scheduler_url = format!("http://127.0.0.1:{}", scheduler.port());
    tokio::spawn(scheduler.run_until_stopped(std::future::pending()));
    TestApp {
        scheduler: scheduler_url,
        drugs: settings.services.drugs.clone(),
        db: database.connect().await.expect("connect"),
        tokens: InternalTokens::new(
            &settings.auth.internal_secret,
            settings.auth.internal_token_ttl_secs,
        ),
        settings,
        client: reqwest::Client::new(),
        model,
    }
}

impl TestApp {
    pub async fn user(&self, timezone: &str) -> Uuid {
        shared::testing::insert_user(&self.db, timezone)
            .await
            .expect("user")
    }

    fn token(&self, audience: &str, user: Option<Uuid>) -> String {
        self.tokens.mint("gateway", audience, user)
    }

    /// A request to svc-drugs as `user`.
    pub fn drugs(
        &self,
        method: reqwest::Method,
        user: Uuid,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.drugs))
            .header(INTERNAL_TOKEN_HEADER, self.token("drugs", Some(user)))
    }

    /// A request to svc-chat as `user`.
    pub fn chat(&self, method: reqwest::Method, user: Uuid, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.settings.services.chat))
            .header(INTERNAL_TOKEN_HEADER, self.token("chat", Some(user)))
    }

    /// A request to svc-scheduler as `user`.
    pub fn sched(
        &self,
        method: reqwest::Method,
        user: Option<Uuid>,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.scheduler))
            .header(INTERNAL_TOKEN_HEADER, self.token("scheduler", user))
    }

    /// A drug with a plan whose one daily dose is at the current minute in the user's zone.
    pub async fn dose_due_now(&self, user: Uuid, tz: chrono_tz::Tz) -> Value {
        let drug: Value = self
            .drugs(reqwest::Method::POST, user, "/api/v1/drugs")
            .json(&json!({"name": "阿司匹林肠溶片"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let local = Utc::now().with_timezone(&tz);
        let plan: Value = self
            .drugs(reqwest::Method::POST, user, "/api/v1/medications")
            .json(&json!({
                "drug_id": drug["id"], "dose": {"amount": 1, "unit": "片"},
                "schedule": {"times": [local.format("%H:%M").to_string()], "start_date": local.date_naive().to_string(), "timezone": tz.name()}
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(plan["id"].is_string(), "{plan}");
        plan
    }

    pub async fn notifications(&self, user: Uuid) -> Vec<Value> {
        let v: Value = self
            .sched(reqwest::Method::GET, Some(user), "/api/v1/notifications")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v.as_array().cloned().unwrap_or_else(|| panic!("{v}"))
    }

    /// An SCF timer event at `/event-invoke`, as the platform sends it; the tick's summary.
    pub async fn scf_tick(&self) -> Value {
        let res = self
            .client
            .post(format!("{}/event-invoke", self.scheduler))
            .json(&scf_timer())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK);
        res.json().await.unwrap()
    }

    pub async fn webhook(&self, user: Uuid, url: &str) -> Value {
        let res = self
            .sched(reqwest::Method::POST, Some(user), "/api/v1/devices")
            .json(&json!({"channel": "webhook", "url": url, "name": "phone"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::CREATED);
        res.json().await.unwrap()
    }
}

/// A zone whose local hour is in `hours` now (the test runs at any time of day).
pub fn zone_at(hours: std::ops::Range<u32>) -> (&'static str, chrono_tz::Tz) {
    [
        "Pacific/Kiritimati",
        "Asia/Shanghai",
        "Europe/London",
        "America/New_York",
        "Pacific/Pago_Pago",
    ]
    .into_iter()
    .map(|z| (z, z.parse::<chrono_tz::Tz>().unwrap()))
    .find(|(_, tz)| hours.contains(&chrono::Timelike::hour(&Utc::now().with_timezone(tz))))
    .unwrap()
}

/// A user message in svc-chat's tables at `at`.
pub async fn say(app: &TestApp, user: Uuid, at: &str, text: &str) {
    shared::testing::insert_user_message(&app.db, user, at.parse().unwrap(), text)
        .await
        .unwrap();
}

/// A diary as the fake model writes it.
pub fn diary_completion() -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200).set_body_json(json!({
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\"summary\": \"A calm day.\", \"key_insights\": [], \"extracted_signals\": []}"}}]
    }))
}

pub fn fc_timer() -> Value {
    json!({"triggerTime": Utc::now().to_rfc3339(), "triggerName": "every-minute", "payload": ""})
}

pub fn scf_timer() -> Value {
    json!({"Type": "Timer", "TriggerName": "EveryMinute", "Time": Utc::now().to_rfc3339(), "Message": ""})
}

/// Check a webhook signature the way a receiver would: `t=<ts>,v1=<hex>[,v1=<hex>…]` (two
/// during a secret's rotation), any one matching.
pub fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    use hmac::{Hmac, Mac};
    let mut parts = header.split(',');
    let Some(t) = parts.next().and_then(|p| p.strip_prefix("t=")) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    parts
        .filter_map(|p| p.strip_prefix("v1="))
        .filter_map(|v| hex::decode(v).ok())
        .any(|expected| mac.clone().verify_slice(&expected).is_ok())
}
