use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;
use shared::config::Settings;
use shared::internal_auth::{INTERNAL_TOKEN_HEADER, InternalTokens};
use shared::testing::TestDatabase;
use uuid::Uuid;
use wiremock::MockServer;

pub struct TestApp {
    pub address: String,
    pub db: sea_orm::DatabaseConnection,
    pub client: reqwest::Client,
    pub tokens: InternalTokens,
    pub model: MockServer,
    pub settings: Settings,
}

pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    shared::install_crypto_provider();
    let database = TestDatabase::create().await.expect("test database");
    let model = MockServer::start().await;
    let mut settings = database.settings();
    settings.llm_chat.base_url = model.uri();
    settings.llm_chat.api_key = Some(SecretString::from("k".to_owned()));
    settings.llm_chat.timeout_secs = 2;
    settings.storage.upload_dir =
        std::env::temp_dir().join(format!("chat-test-{}", Uuid::new_v4()));
    // svc-drugs beside it, for the cabinet tools.
    let drugs = svc_drugs::startup::build(&settings)
        .await
        .expect("svc-drugs");
    settings.services.drugs = format!("http://127.0.0.1:{}", drugs.port());
    tokio::spawn(drugs.run_until_stopped(std::future::pending()));
    customize(&mut settings);
    let app = svc_chat::startup::build(&settings).await.expect("svc-chat");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        address,
        db: database.connect().await.expect("connect"),
        client: reqwest::Client::new(),
        tokens: InternalTokens::new(
            &settings.auth.internal_secret,
            settings.auth.internal_token_ttl_secs,
        ),
        model,
        settings,
    }
}

impl TestApp {
    /// A second instance of svc-chat on the same database (as on a serverless platform):
    /// the same app, reached at another address.
    pub async fn another_instance(&self) -> TestApp {
        let app = svc_chat::startup::build(&self.settings)
            .await
            .expect("svc-chat");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        TestApp {
            address,
            db: self.db.clone(),
            client: reqwest::Client::new(),
            tokens: self.tokens.clone(),
            model: MockServer::start().await,
            settings: self.settings.clone(),
        }
    }

    pub async fn user(&self, timezone: &str) -> Uuid {
        shared::testing::insert_user(&self.db, timezone)
            .await
            .expect("user")
    }

    pub fn req(
        &self,
        method: reqwest::Method,
        user: Option<Uuid>,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
            .header(
                INTERNAL_TOKEN_HEADER,
                self.tokens.mint("gateway", "chat", user),
            )
    }

    pub async fn chat(&self, user: Uuid, body: Value) -> reqwest::Response {
        self.req(reqwest::Method::POST, Some(user), "/api/v1/chat")
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

pub use shared::testing::{sse_text, sse_tool_call};

pub fn sse_response(body: String) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200)
        .insert_header("content-type", "text/event-stream")
        .set_body_string(body)
}

/// The model's script for the next turn: each tool call once, in order, then `text` for
/// every request after them.
pub async fn script(app: &TestApp, calls: &[(&str, Value)], text: &str) {
    use wiremock::Mock;
    use wiremock::matchers::method;
    for (name, args) in calls {
        Mock::given(method("POST"))
            .respond_with(sse_response(sse_tool_call(name, args)))
            .up_to_n_times(1)
            .mount(&app.model)
            .await;
    }
    Mock::given(method("POST"))
        .respond_with(sse_response(sse_text(&[text])))
        .mount(&app.model)
        .await;
}

/// A plain (non-streamed) completion whose answer is `content`.
pub fn completion(content: &str) -> Value {
    serde_json::json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}], "model": "m", "usage": {"prompt_tokens": 10, "completion_tokens": 5}})
}

/// Parse an SSE body into (event, data) pairs.
pub fn parse_sse(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|block| {
            let mut event = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event: ") {
                    event = e.to_owned();
                }
                if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            (event, serde_json::from_str(&data).unwrap_or(Value::Null))
        })
        .collect()
}

/// A model that streams `tokens` tokens `gap` apart over raw HTTP/1.1 and records whether
/// the client stayed to the end.
pub async fn slow_model(tokens: usize, gap: Duration) -> shared::testing::RawModel {
    let gap_ms = u64::try_from(gap.as_millis()).unwrap_or(u64::MAX);
    shared::testing::RawModel::start(tokens, gap_ms)
        .await
        .expect("fake model")
}

/// A request as the gateway makes it for `user`: the status and the JSON body (null if none).
pub async fn send(
    app: &TestApp,
    m: reqwest::Method,
    user: Uuid,
    path: &str,
    body: Option<Value>,
) -> (reqwest::StatusCode, Value) {
    let mut req = app.req(m, Some(user), path);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A request to the svc-drugs beside the app, as the gateway makes it for `user`.
pub async fn drugs_post(app: &TestApp, user: Uuid, path: &str, body: Value) -> Value {
    let res = app
        .client
        .post(format!("{}{path}", app.settings.services.drugs))
        .header(
            INTERNAL_TOKEN_HEADER,
            app.tokens.mint("gateway", "drugs", Some(user)),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}
