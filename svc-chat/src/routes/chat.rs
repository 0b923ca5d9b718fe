//! `POST /api/v1/chat`: plain JSON, or SSE with `stream: true` / `Accept: text/event-stream`
//! (`delta` events as the model's text arrives, then one `done` event with the full body),
//! resumable with `Last-Event-ID` (`engine/stream.rs`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Deserialize;
use shared::ApiError;
use shared::internal_auth::UserId;
use std::sync::Arc;
use uuid::Uuid;

use crate::engine::stream::{self, EventId};
use crate::engine::{self, TurnError, TurnRequest};
use crate::state::AppState;

/// The original's `ChatRequest`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatBody {
    message: String,
    /// An id that is not one of the caller's conversations starts a new one, as the
    /// original did; the answer names the conversation used.
    conversation_id: Option<String>,
    /// Ignored: the token decides whose chat this is (compat field).
    #[serde(rename = "user_id")]
    _user_id: Option<serde_json::Value>,
    /// `{channel, session_id}` in the original; it changed nothing there either.
    #[serde(rename = "context")]
    _context: Option<serde_json::Value>,
    /// `YYYY-MM-DD HH:MM:SS` in the user's time, or ISO 8601.
    current_time: Option<shared::time::AppTime>,
    stream: Option<bool>,
}

pub async fn post_chat(
    state: web::Data<AppState>,
    UserId(user): UserId,
    req: HttpRequest,
    body: web::Json<ChatBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let message = body.message.trim().to_owned();
    if message.is_empty() || message.chars().count() > 4000 {
        return Err(ApiError::validation("message must be 1 to 4000 characters"));
    }
    let wants_stream = body.stream == Some(true)
        || req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/event-stream"));
    let turn = TurnRequest {
        user,
        conversation_id: body
            .conversation_id
            .as_deref()
            .and_then(|s| s.trim().parse::<Uuid>().ok()),
        message,
        current_time: body.current_time,
    };
    // The same request sent again after a lost stream takes that stream up again.
    if let Some(raw) = last_event_id(&req) {
        return resume_from(state.into_inner(), user, &raw).await;
    }
    let slot = state.turns.take(user)?;
    if !wants_stream {
        let _slot = slot;
        return match engine::run(&state, turn, None).await {
            Ok(result) => {
                crate::memory::summarise_later(state.into_inner(), user, result.summarise);
                Ok(HttpResponse::Ok().json(result))
            }
            Err(TurnError::Api(e)) => Err(e),
        };
    }
    // Check what can fail before the stream starts, so it fails as a plain envelope.
    if !state.llm.is_configured() {
        return Err(shared::llm::LlmError::NotConfigured.to_api_error());
    }
    let state = state.into_inner();
    let (id, sink) = stream::begin(&state, user).await?;
    // The turn runs on in its own task, whoever follows it: it finishes and is stored even if
    // the client leaves, who can then take the stream up again (`Last-Event-ID`). It keeps the
    // request's id, trace and span: its tool calls and its error event carry them.
    let turn_state = Arc::clone(&state);
    shared::request_id::spawn_local(async move {
        let state = turn_state;
        let _slot = slot;
        let end = match engine::run(&state, turn, Some(&sink)).await {
            Ok(done) => {
                crate::memory::summarise_later(Arc::clone(&state), user, done.summarise);
                ("done", serde_json::to_value(&done).unwrap_or_default())
            }
            Err(TurnError::Api(e)) => ("error", stream::envelope(&e)),
        };
        stream::finish(&state, user, id, &sink, end).await;
    });
    sse(stream::follow(
        state,
        user,
        EventId {
            turn: id,
            sent: Some(0),
        },
    )
    .await?)
}

/// `GET /api/v1/chat/resume` (or the chat request sent again) with `Last-Event-ID` (header,
/// or `last_event_id` in the query for clients that cannot set it): the rest of that turn's
/// stream. A client that already had the end gets 204 (an EventSource stops there).
pub async fn resume(
    state: web::Data<AppState>,
    UserId(user): UserId,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Some(raw) = last_event_id(&req) else {
        return Err(ApiError::validation(
            "需要 Last-Event-ID（请求头或 last_event_id 参数）/ Last-Event-ID is required (header or last_event_id)",
        ));
    };
    resume_from(state.into_inner(), user, &raw).await
}

async fn resume_from(
    state: Arc<AppState>,
    user: uuid::Uuid,
    raw: &str,
) -> Result<HttpResponse, ApiError> {
    let from = EventId::parse(raw)?;
    let events = stream::follow(state, user, from).await?;
    if from.sent.is_none() {
        return Ok(HttpResponse::NoContent().finish());
    }
    sse(events)
}

fn last_event_id(req: &HttpRequest) -> Option<String> {
    if let Some(v) = req.headers().get("last-event-id") {
        return Some(v.to_str().unwrap_or_default().to_owned());
    }
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("last_event_id").cloned())
}

fn sse(
    events: impl futures_util::Stream<Item = Bytes> + 'static,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(events.map(Ok::<_, actix_web::Error>)))
}
