use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use shared::config::Settings;
use shared::internal_auth::{INTERNAL_TOKEN_HEADER, InternalTokens};
use shared::testing::TestDatabase;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;
use wiremock::MockServer;

pub struct TestApp {
    pub address: String,
    pub db: sea_orm::DatabaseConnection,
    pub client: reqwest::Client,
    pub tokens: InternalTokens,
    pub model: MockServer,
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
    }
}

impl TestApp {
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
#[derive(Clone)]
pub struct SlowModel {
    pub url: String,
    pub completed: Arc<AtomicBool>,
    pub sent: Arc<AtomicUsize>,
    pub aborted: Arc<AtomicBool>,
}

pub async fn slow_model(tokens: usize, gap: Duration) -> SlowModel {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let model = SlowModel {
        url,
        completed: Arc::default(),
        sent: Arc::default(),
        aborted: Arc::default(),
    };
    let m = model.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let m = m.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut got = Vec::new();
                // Read the request head and its body (Content-Length).
                loop {
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got).to_string();
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let len = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if got.len() >= head_end + 4 + len {
                            break;
                        }
                    }
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for i in 0..tokens {
                    let event = format!(
                        "data: {}\n\n",
                        json!({"choices": [{"index": 0, "delta": {"content": format!("t{i} ")}}]})
                    );
                    let chunk = format!("{:x}\r\n{event}\r\n", event.len());
                    if sock.write_all(chunk.as_bytes()).await.is_err()
                        || sock.flush().await.is_err()
                    {
                        m.aborted.store(true, Ordering::SeqCst);
                        return;
                    }
                    m.sent.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(gap).await;
                }
                let done = "data: [DONE]\n\n";
                let _ = sock
                    .write_all(format!("{:x}\r\n{done}\r\n0\r\n\r\n", done.len()).as_bytes())
                    .await;
                m.completed.store(true, Ordering::SeqCst);
            });
        }
    });
    model
}
