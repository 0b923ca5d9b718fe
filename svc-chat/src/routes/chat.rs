//! `POST /api/v1/chat`: plain JSON, or SSE with `stream: true` / `Accept: text/event-stream`
//! (`delta` events as the model's text arrives, then one `done` event with the full body).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Deserialize;
use shared::ApiError;
use shared::internal_auth::UserId;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use uuid::Uuid;

use crate::engine::{self, Sink, TurnError, TurnRequest, sse_event};
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
    let slot = state.turns.take(user)?;
    if !wants_stream {
        let _slot = slot;
        return match engine::run(&state, turn, None).await {
            Ok(result) => Ok(HttpResponse::Ok().json(result)),
            Err(TurnError::Api(e)) => Err(e),
            Err(TurnError::Cancelled) => Err(ApiError::internal("a plain turn was cancelled")),
        };
    }
    // Check what can fail before the stream starts, so it fails as a plain envelope.
    if !state.llm.is_configured() {
        return Err(shared::llm::LlmError::NotConfigured.to_api_error());
    }
    // One channel carries the SSE frames from the turn to the response body; when the client
    // goes away the body (the receiver) is dropped and the turn stops at its next send.
    let (events_tx, events_rx) = mpsc::channel::<Bytes>(64);
    let state = state.into_inner();
    // The turn runs on in its own task (it finishes and is stored even if the client leaves),
    // with the request's id, trace and span: its tool calls and its error event carry them.
    shared::request_id::spawn_local(async move {
        let _slot = slot;
        let sink = Sink::new(events_tx.clone());
        let last = match engine::run(&state, turn, Some(sink)).await {
            Ok(done) => sse_event("done", &serde_json::to_value(&done).unwrap_or_default()),
            Err(TurnError::Cancelled) => {
                tracing::info!("client went away; upstream cancelled");
                return;
            }
            Err(TurnError::Api(e)) => {
                use actix_web::ResponseError;
                let status = e.status_code();
                sse_event(
                    "error",
                    &serde_json::json!({
                        "code": e.code, "message": e.message, "detail": e.message, "status": status.as_u16(),
                        "request_id": shared::request_id::current().unwrap_or_default(),
                    }),
                )
            }
        };
        let _ = events_tx.send(last).await;
    });
    let stream = ReceiverStream::new(events_rx).map(Ok::<_, actix_web::Error>);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(stream))
}
