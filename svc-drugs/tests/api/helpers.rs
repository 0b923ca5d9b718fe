use std::path::PathBuf;
use std::sync::Arc;

use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use shared::config::Settings;
use shared::internal_auth::{INTERNAL_TOKEN_HEADER, InternalTokens};
use shared::testing::TestDatabase;
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub struct TestApp {
    pub address: String,
    pub db: sea_orm::DatabaseConnection,
    pub client: reqwest::Client,
    pub tokens: Arc<InternalTokens>,
    pub model: MockServer,
    pub upload_dir: PathBuf,
}

pub fn photo(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/drug-photos");
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    shared::install_crypto_provider();
    let database = TestDatabase::create().await.expect("test database");
    let model = MockServer::start().await;
    let mut settings = database.settings();
    let upload_dir = std::env::temp_dir().join(format!("drugs-test-{}", Uuid::new_v4()));
    settings.storage.upload_dir = upload_dir.clone();
    settings.llm_vision.base_url = format!("{}/api/v3", model.uri());
    settings.llm_vision.api_key = Some(SecretString::from("test-key".to_owned()));
    settings.llm_vision.timeout_secs = 2;
    customize(&mut settings);
    let app = svc_drugs::startup::build(&settings)
        .await
        .expect("svc-drugs builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        address,
        db: database.connect().await.expect("connect"),
        tokens: Arc::new(InternalTokens::new(
            &settings.auth.internal_secret,
            settings.auth.internal_token_ttl_secs,
        )),
        client: reqwest::Client::new(),
        model,
        upload_dir,
    }
}

/// The answer a vision model gives for the cotton-swab photos.
pub fn cotton_swab_answer() -> Value {
    json!({
        "name": "医用棉签", "brand": "可孚", "generic_name": null,
        "manufacturer": "可孚医疗科技股份有限公司", "strength": "8cm",
        "dosage_form": null, "package": "50支装", "approval_number": null,
        "barcode": "6950715599358", "batch_number": "P472410001",
        "production_date": "2024-10-06", "expiry_date": "2027.10"
    })
}

pub fn completion(content: &str) -> Value {
    json!({
        "id": "cmpl-1", "object": "chat.completion", "model": "vision-test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 80, "total_tokens": 1280}
    })
}

impl TestApp {
    pub fn url(&self, p: &str) -> String {
        format!("{}{}", self.address, p)
    }

    pub fn token(&self, user: Uuid) -> String {
        self.tokens.mint("gateway", "drugs", Some(user))
    }

    /// A user row (the gateway owns the table; tests write it directly).
    pub async fn user(&self, timezone: &str) -> Uuid {
        shared::testing::insert_user(&self.db, timezone)
            .await
            .expect("user")
    }

    pub fn get(&self, user: Uuid, p: &str) -> reqwest::RequestBuilder {
        self.client
            .get(self.url(p))
            .header(INTERNAL_TOKEN_HEADER, self.token(user))
    }

    pub fn post(&self, user: Uuid, p: &str) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(p))
            .header(INTERNAL_TOKEN_HEADER, self.token(user))
    }

    pub fn put(&self, user: Uuid, p: &str) -> reqwest::RequestBuilder {
        self.client
            .put(self.url(p))
            .header(INTERNAL_TOKEN_HEADER, self.token(user))
    }

    pub fn delete(&self, user: Uuid, p: &str) -> reqwest::RequestBuilder {
        self.client
            .delete(self.url(p))
            .header(INTERNAL_TOKEN_HEADER, self.token(user))
    }

    /// GET `p` as `user`, expecting 200 and a body of type `T`.
    pub async fn get_as<T: serde::de::DeserializeOwned>(&self, user: Uuid, p: &str) -> T {
        let res = self.get(user, p).send().await.expect("request");
        assert_eq!(res.status(), StatusCode::OK, "{p}");
        res.json().await.unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    /// Answer every model call with this text.
    pub async fn model_answers(&self, content: &str) {
        self.model.reset().await;
        Mock::given(method("POST"))
            .and(path("/api/v3/chat/completions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(completion(content)))
            .mount(&self.model)
            .await;
    }

    pub async fn model_calls(&self) -> Vec<Value> {
        self.model
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).expect("model request is JSON"))
            .collect()
    }

    pub async fn recognize(
        &self,
        user: Uuid,
        files: &[(&str, Vec<u8>)],
        query: &str,
    ) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in files {
            form = form.part(
                "files",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string()),
            );
        }
        self.post(user, &format!("/api/v1/drugs/recognize{query}"))
            .multipart(form)
            .send()
            .await
            .expect("request")
    }

    pub async fn add_drug(&self, user: Uuid, body: Value) -> Value {
        let res = self
            .post(user, "/api/v1/drugs")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.unwrap()
    }

    /// Every stored object's bytes under the upload directory.
    pub fn stored_files(&self) -> Vec<Vec<u8>> {
        fn walk(dir: &std::path::Path, out: &mut Vec<Vec<u8>>) {
            if let Ok(entries) = std::fs::read_dir(dir) {
                for e in entries.flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        walk(&p, out);
                    } else if let Ok(b) = std::fs::read(&p) {
                        out.push(b);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.upload_dir, &mut out);
        out
    }
}

/// Assert the error envelope and return its `code`.
pub async fn assert_envelope(res: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(res.status(), status);
    let body: Value = res.json().await.expect("envelope is JSON");
    assert_eq!(body["detail"], body["message"], "{body}");
    assert!(
        body["request_id"].as_str().is_some_and(|r| !r.is_empty()),
        "{body}"
    );
    body["code"].as_str().expect("code").to_owned()
}
