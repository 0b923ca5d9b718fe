//! An OpenAI-compatible chat-completions client for both model configurations (vision for
//! recognition, chat for the assistant): base URL with or without `/chat/completions`, a
//! timeout per attempt, retries with backoff on 429 and 5xx (honouring `Retry-After`), a
//! concurrency cap, and the token usage of every call.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Semaphore;

use crate::ApiError;
use crate::ErrorCode;
use crate::config::{ConfigError, LlmSettings};

/// Retries after the first attempt, on 429 and 5xx only.
const MAX_RETRIES: u32 = 2;
/// The longest `Retry-After` we wait for; a longer one fails the call.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("no API key is configured for the model")]
    NotConfigured,
    #[error("the model did not answer in time")]
    Timeout,
    #[error("the model answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the model could not be reached: {0}")]
    Transport(String),
    #[error("the model's answer is unusable: {0}")]
    BadAnswer(String),
}

impl LlmError {
    /// The envelope a client sees: 503 when no key is set, 504 on timeout, 502 otherwise.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            Self::NotConfigured => ApiError::new(
                ErrorCode::LlmNotConfigured,
                "the model is not configured on this server",
            ),
            Self::Timeout => ApiError::gateway_timeout(ErrorCode::LlmTimeout, self),
            _ => ApiError::bad_gateway(ErrorCode::LlmFailed, self),
        }
    }
}

/// One finished completion.
#[derive(Debug, Clone)]
pub struct Completion {
    pub content: String,
    pub model: String,
    pub prompt_tokens: Option<u32>,
    pub completion_tokens: Option<u32>,
    pub duration: Duration,
}

#[derive(Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    endpoint: String,
    api_key: Option<SecretString>,
    model: String,
    timeout: Duration,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("configured", &self.is_configured())
            .finish_non_exhaustive()
    }
}

/// The HTTP client for a model endpoint: HTTP/1.1 or HTTP/2 as the endpoint's TLS
/// negotiation (ALPN) offers (over HTTP/2, every open stream of this process shares one
/// connection), the platform's certificate roots plus those of `ca_file`, no redirects.
pub fn http_client(
    settings: &LlmSettings,
    key: &'static str,
) -> Result<reqwest::Client, ConfigError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = &settings.ca_file {
        let key = ca_file_key(key);
        let certs = crate::certs::pem_certificates(path, key)?;
        builder = builder.tls_certs_merge(crate::certs::for_reqwest(&certs, key)?);
    }
    builder.build().map_err(|e| ConfigError::BadValue {
        key: ca_file_key(key),
        reason: format!("the HTTP client cannot be built: {e}"),
    })
}

fn ca_file_key(key: &'static str) -> &'static str {
    match key {
        "llm_vision" => "llm_vision.ca_file",
        _ => "llm_chat.ca_file",
    }
}

/// `…/v3` and `…/v3/chat/completions` both name the same endpoint.
pub fn completions_endpoint(base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    if base.ends_with("/chat/completions") {
        base.to_owned()
    } else {
        format!("{base}/chat/completions")
    }
}

#[derive(Deserialize)]
struct Answer {
    model: Option<String>,
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: AnswerMessage,
}

#[derive(Deserialize)]
struct AnswerMessage {
    content: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    prompt_tokens: Option<u32>,
    completion_tokens: Option<u32>,
}

impl LlmClient {
    /// A client for one model configuration; `key` names it in errors (`llm_chat`,
    /// `llm_vision`). Fails when `ca_file` is set but cannot be read or holds no certificate.
    pub fn new(settings: &LlmSettings, key: &'static str) -> Result<Self, ConfigError> {
        Ok(Self::with_http(settings, http_client(settings, key)?))
    }

    /// A client over a given HTTP client (tests that need their own).
    pub fn with_http(settings: &LlmSettings, http: reqwest::Client) -> Self {
        Self {
            http,
            endpoint: completions_endpoint(&settings.base_url),
            api_key: settings
                .api_key
                .clone()
                .filter(|k| !k.expose_secret().trim().is_empty()),
            model: settings.model.clone(),
            timeout: Duration::from_secs(settings.timeout_secs.max(1)),
            permits: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
        }
    }

    pub fn is_configured(&self) -> bool {
        self.api_key.is_some()
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// Send `messages` (and any extra request fields) and return the first choice's text.
    #[tracing::instrument(name = "llm.complete", skip_all, fields(model = %self.model))]
    pub async fn complete(
        &self,
        messages: serde_json::Value,
        extra: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Completion, LlmError> {
        let key = self.api_key.as_ref().ok_or(LlmError::NotConfigured)?;
        let mut body = serde_json::Map::new();
        body.insert("model".into(), self.model.clone().into());
        body.insert("messages".into(), messages);
        body.insert("stream".into(), false.into());
        body.extend(extra);
        let body = serde_json::Value::Object(body);

        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| LlmError::Transport(e.to_string()))?;
        let started = Instant::now();
        let response = self.send(key, &body).await?;
        let text = response.text().await.map_err(|e| {
            if e.is_timeout() {
                LlmError::Timeout
            } else {
                LlmError::Transport(e.to_string())
            }
        })?;
        let answer: Answer = serde_json::from_str(&text)
            .map_err(|e| LlmError::BadAnswer(format!("not a completion: {e}")))?;
        let content = answer
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| LlmError::BadAnswer("no choice with content".into()))?;
        Ok(Completion {
            content,
            model: answer.model.unwrap_or_else(|| self.model.clone()),
            prompt_tokens: answer.usage.as_ref().and_then(|u| u.prompt_tokens),
            completion_tokens: answer.usage.as_ref().and_then(|u| u.completion_tokens),
            duration: started.elapsed(),
        })
    }

    /// POST the body; retry on connection failures, 429 and 5xx (honouring `Retry-After` up
    /// to [`MAX_RETRY_AFTER`]); the response once its status is a success.
    async fn send(
        &self,
        key: &SecretString,
        body: &serde_json::Value,
    ) -> Result<reqwest::Response, LlmError> {
        let mut attempt = 0;
        loop {
            let sent = self
                .http
                .post(&self.endpoint)
                .bearer_auth(key.expose_secret())
                .timeout(self.timeout)
                .json(body)
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) if e.is_timeout() => return Err(LlmError::Timeout),
                Err(e) if attempt < MAX_RETRIES && e.is_connect() => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(LlmError::Transport(e.to_string())),
            };
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            let retryable =
                status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            if retryable && attempt < MAX_RETRIES {
                let wait = retry_after.unwrap_or_else(|| backoff(attempt + 1));
                if wait <= MAX_RETRY_AFTER {
                    attempt += 1;
                    tracing::warn!(status = status.as_u16(), attempt, "model busy, retrying");
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            let mut text = response.text().await.unwrap_or_default();
            text.truncate(500);
            return Err(LlmError::Status {
                status: status.as_u16(),
                body: text,
            });
        }
    }
}

/// One piece of a streamed completion.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// Text for the user.
    Content(String),
    /// A fragment of a tool call; fragments with the same index belong together.
    ToolCall {
        index: usize,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
    Usage {
        prompt_tokens: Option<u32>,
        completion_tokens: Option<u32>,
    },
}

impl LlmClient {
    /// Start a streamed completion (`stream: true`): the response once its headers are in,
    /// with the same retries as [`LlmClient::complete`] before the first byte. Read it with
    /// [`SseDecoder`]. Dropping the response cancels the upstream request.
    #[tracing::instrument(name = "llm.stream", skip_all, fields(model = %self.model))]
    pub async fn start_stream(
        &self,
        messages: serde_json::Value,
        extra: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(reqwest::Response, tokio::sync::OwnedSemaphorePermit), LlmError> {
        let key = self.api_key.as_ref().ok_or(LlmError::NotConfigured)?;
        let mut body = serde_json::Map::new();
        body.insert("model".into(), self.model.clone().into());
        body.insert("messages".into(), messages);
        body.insert("stream".into(), true.into());
        body.insert(
            "stream_options".into(),
            serde_json::json!({"include_usage": true}),
        );
        body.extend(extra);
        let body = serde_json::Value::Object(body);
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| LlmError::Transport(e.to_string()))?;
        let response = self.send(key, &body).await?;
        Ok((response, permit))
    }
}

/// Decodes an OpenAI-style SSE body (`data: {...}` lines, `data: [DONE]`) chunk by chunk.
/// `reasoning_content` (reasoning models) is dropped: it is never shown, and it must not be
/// sent back to the provider in later turns.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes not yet ending in a newline (a chunk may end inside a UTF-8 character).
    buffer: Vec<u8>,
    pub done: bool,
}

impl SseDecoder {
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<StreamEvent>, LlmError> {
        self.buffer.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim();
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            let data = data.trim();
            if data == "[DONE]" {
                self.done = true;
                continue;
            }
            let value: serde_json::Value = serde_json::from_str(data)
                .map_err(|e| LlmError::BadAnswer(format!("bad stream chunk: {e}")))?;
            if let Some(usage) = value.get("usage").filter(|u| u.is_object()) {
                out.push(StreamEvent::Usage {
                    prompt_tokens: usage["prompt_tokens"]
                        .as_u64()
                        .and_then(|v| u32::try_from(v).ok()),
                    completion_tokens: usage["completion_tokens"]
                        .as_u64()
                        .and_then(|v| u32::try_from(v).ok()),
                });
            }
            let Some(delta) = value["choices"].get(0).map(|c| &c["delta"]) else {
                continue;
            };
            if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
                out.push(StreamEvent::Content(text.to_owned()));
            }
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                out.push(StreamEvent::ToolCall {
                    index: call["index"].as_u64().unwrap_or(0) as usize,
                    id: call["id"].as_str().map(str::to_owned),
                    name: call["function"]["name"].as_str().map(str::to_owned),
                    arguments: call["function"]["arguments"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned(),
                });
            }
        }
        Ok(out)
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 * 2u64.pow(attempt.min(6)))
}

/// The JSON object in a model's text: the whole text, a fenced block, or the outermost
/// braces within surrounding prose.
pub fn extract_json_object(text: &str) -> Option<serde_json::Value> {
    let trimmed = text.trim();
    if let Ok(v @ serde_json::Value::Object(_)) = serde_json::from_str(trimmed) {
        return Some(v);
    }
    let mut rest = trimmed;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let body_start = after.find('\n').map_or(0, |i| i + 1);
        let Some(end) = after[body_start..].find("```") else {
            break;
        };
        let block = &after[body_start..body_start + end];
        if let Ok(v @ serde_json::Value::Object(_)) = serde_json::from_str(block.trim()) {
            return Some(v);
        }
        rest = &after[body_start + end + 3..];
    }
    let (start, end) = (trimmed.find('{')?, trimmed.rfind('}')?);
    (start < end)
        .then(|| serde_json::from_str(&trimmed[start..=end]).ok())
        .flatten()
        .filter(serde_json::Value::is_object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unusable_ca_file_is_refused_and_the_error_names_the_setting() {
        crate::install_crypto_provider();
        let settings = |ca_file: &str| LlmSettings {
            base_url: "https://model.example".into(),
            api_key: None,
            model: "m".into(),
            timeout_secs: 5,
            max_concurrency: 1,
            ca_file: Some(ca_file.into()),
        };
        let error = http_client(&settings("/nonexistent/ca.pem"), "llm_vision").unwrap_err();
        assert!(
            error.to_string().starts_with(
                "invalid value for llm_vision.ca_file: cannot read /nonexistent/ca.pem"
            ),
            "{error}"
        );
        let not_pem = std::env::temp_dir().join(format!("not-pem-{}", uuid::Uuid::new_v4()));
        std::fs::write(
            &not_pem,
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let error = http_client(&settings(not_pem.to_str().unwrap()), "llm_chat").unwrap_err();
        let _ = std::fs::remove_file(&not_pem);
        assert!(error.to_string().contains("llm_chat.ca_file"), "{error}");
        let mut none = settings("");
        none.ca_file = None;
        assert!(http_client(&none, "llm_chat").is_ok());
    }

    #[test]
    fn sse_chunks_split_anywhere_decode_to_text_and_tool_calls() {
        let body = concat!(
            "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"thinking\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"你好\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"function\":{\"name\":\"create_event\",\"arguments\":\"{\\\"ti\"}}]}}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n",
            "data: [DONE]\n\n"
        );
        let mut decoder = SseDecoder::default();
        let mut events = Vec::new();
        for piece in body.as_bytes().chunks(7) {
            events.extend(decoder.push(piece).unwrap());
        }
        assert!(decoder.done);
        assert_eq!(
            events,
            vec![
                StreamEvent::Content("你好".into()),
                StreamEvent::ToolCall {
                    index: 0,
                    id: Some("c1".into()),
                    name: Some("create_event".into()),
                    arguments: "{\"ti".into()
                },
                StreamEvent::Usage {
                    prompt_tokens: Some(5),
                    completion_tokens: Some(2)
                },
            ]
        );
    }

    #[test]
    fn endpoint_with_or_without_path() {
        assert_eq!(
            completions_endpoint("https://ark.example/api/v3"),
            "https://ark.example/api/v3/chat/completions"
        );
        assert_eq!(
            completions_endpoint("https://ark.example/api/v3/chat/completions/"),
            "https://ark.example/api/v3/chat/completions"
        );
    }

    #[test]
    fn json_is_found_in_fences_and_prose() {
        let plain = r#"{"name":"a"}"#;
        let fenced = "Here you go:\n```json\n{\"name\": \"b\"}\n```\nThanks";
        let prose = "The box says {\"name\": \"c\", \"x\": {\"y\": 1}} as read.";
        assert_eq!(extract_json_object(plain).unwrap()["name"], "a");
        assert_eq!(extract_json_object(fenced).unwrap()["name"], "b");
        assert_eq!(extract_json_object(prose).unwrap()["name"], "c");
        assert!(extract_json_object("no json here").is_none());
        assert!(extract_json_object("[1, 2]").is_none());
    }

    mod properties {
        use proptest::prelude::*;
        use serde_json::json;

        use super::super::{SseDecoder, StreamEvent, extract_json_object};

        /// An SSE body as a provider streams it: text deltas (any Unicode), a tool call in
        /// fragments, usage, and `[DONE]`.
        fn body(texts: &[String], args: &str) -> Vec<u8> {
            let mut out = String::from(": keep-alive\n\n");
            for t in texts {
                let chunk = json!({"choices": [{"index": 0, "delta": {"content": t}}]});
                out.push_str(&format!("data: {chunk}\n\n"));
            }
            let call = json!({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "id": "c1", "function": {"name": "create_event", "arguments": args}}
            ]}}]});
            out.push_str(&format!("data:{call}\r\n\r\n"));
            out.push_str("data: {\"choices\": [], \"usage\": {\"prompt_tokens\": 3, \"completion_tokens\": 4}}\n\n");
            out.push_str("data: [DONE]\n\n");
            out.into_bytes()
        }

        fn decode(bytes: &[u8], cuts: &[usize]) -> (Result<Vec<StreamEvent>, String>, bool) {
            let mut decoder = SseDecoder::default();
            let mut events = Vec::new();
            let mut at = 0;
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
            points.sort_unstable();
            points.push(bytes.len());
            for end in points {
                match decoder.push(&bytes[at..end.max(at)]) {
                    Ok(mut e) => events.append(&mut e),
                    Err(e) => return (Err(e.to_string()), decoder.done),
                }
                at = end.max(at);
            }
            (Ok(events), decoder.done)
        }

        proptest! {
            #[test]
            fn a_stream_decodes_the_same_however_the_network_cuts_it(
                texts in prop::collection::vec("\\PC{0,12}", 0..6),
                args in "\\PC{0,30}",
                cuts in prop::collection::vec(any::<usize>(), 0..12),
            ) {
                let bytes = body(&texts, &args);
                let whole = decode(&bytes, &[]);
                prop_assert_eq!(decode(&bytes, &cuts), whole.clone());
                let (events, done) = whole;
                prop_assert!(done);
                let events = events.map_err(TestCaseError::fail)?;
                let text: String = events.iter().filter_map(|e| match e {
                    StreamEvent::Content(t) => Some(t.as_str()),
                    _ => None,
                }).collect();
                prop_assert_eq!(text, texts.concat());
                let has_usage = events.iter().any(|e| matches!(e, StreamEvent::Usage { .. }));
                prop_assert!(has_usage);
            }

            #[test]
            fn any_bytes_are_decoded_or_refused_without_panicking(
                bytes in prop::collection::vec(any::<u8>(), 0..400),
                cuts in prop::collection::vec(any::<usize>(), 0..6),
            ) {
                let _ = decode(&bytes, &cuts);
            }

            #[test]
            fn the_answers_object_is_found_in_fences_and_prose(
                name in "\\PC{0,20}", before in "[^{}`]{0,40}", after in "[^{}`]{0,40}",
            ) {
                let object = json!({"name": name, "n": 1});
                let fenced = format!("{before}\n```json\n{object}\n```\n{after}");
                prop_assert_eq!(extract_json_object(&fenced), Some(object.clone()));
                let prose = format!("{before} {object} {after}");
                prop_assert_eq!(extract_json_object(&prose), Some(object));
            }

            #[test]
            fn a_truncated_answer_is_nothing_or_an_object_never_a_panic(
                name in "\\PC{0,30}", keep in any::<usize>(), noise in "\\PC{0,60}",
            ) {
                let full = json!({"name": name, "expiry_date": "2027.10"}).to_string();
                let cut: String = full.chars().take(keep % (full.chars().count() + 1)).collect();
                for text in [cut, noise] {
                    if let Some(v) = extract_json_object(&text) {
                        prop_assert!(v.is_object());
                    }
                }
            }
        }
    }
}
