//! One chat turn: the prompt (persona, profile, the user's time, recent conversation within a
//! budget with older turns summarised), a bounded tool loop over a streamed completion, the
//! reply stored, and a snapshot of the events the turn changed.

use bytes::Bytes;
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use futures_util::StreamExt;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use shared::ApiError;
use shared::entities::{chat_usage, conversation, message, profile, snapshot};
use shared::llm::{LlmError, SseDecoder, StreamEvent};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::state::AppState;

pub mod snapshots;
pub mod tools;

const PERSONA: &str = "You are UniLife, a warm, concise personal assistant. You keep the \
user's schedule with the tools given (never invent an event id: query first), and you can \
read their medicine cabinet and today's doses. Answer in the user's language.";

pub struct TurnRequest {
    pub user: Uuid,
    pub conversation_id: Option<Uuid>,
    pub message: String,
    pub current_time: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, serde::Serialize)]
pub struct TurnResult {
    pub reply: String,
    pub conversation_id: Uuid,
    pub actions: Vec<Value>,
    pub suggestions: Option<Vec<String>>,
}

/// One server-sent event: `event: <name>` and one line of JSON data.
pub fn sse_event(event: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

/// Where a streamed turn's text goes, already framed as SSE `delta` events: the one channel
/// between the turn and the response body. A closed receiver means the client went away.
pub struct Sink(mpsc::Sender<Bytes>);

impl Sink {
    pub fn new(events: mpsc::Sender<Bytes>) -> Self {
        Self(events)
    }

    /// Send a piece of the reply; `false` once the client has gone.
    async fn text(&self, text: &str) -> bool {
        self.0
            .send(sse_event("delta", &json!({ "text": text })))
            .await
            .is_ok()
    }
}

/// Count one model request against the user's daily quota (429 when used up).
async fn take_quota(state: &AppState, user: Uuid) -> Result<(), ApiError> {
    let day = Utc::now().date_naive();
    let limit = state.chat.daily_quota;
    chat_usage::Entity::insert(chat_usage::ActiveModel {
        user_id: Set(user),
        day: Set(day),
        requests: Set(0),
    })
    .on_conflict(
        OnConflict::columns([chat_usage::Column::UserId, chat_usage::Column::Day])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    let taken = chat_usage::Entity::update_many()
        .col_expr(
            chat_usage::Column::Requests,
            Expr::col(chat_usage::Column::Requests).add(1),
        )
        .filter(chat_usage::Column::UserId.eq(user))
        .filter(chat_usage::Column::Day.eq(day))
        .filter(chat_usage::Column::Requests.lt(limit))
        .exec(&state.db)
        .await?;
    if taken.rows_affected == 0 {
        let mut err = ApiError::too_many_requests(seconds_to_midnight());
        err.code = "quota_exceeded";
        err.message = format!("the daily limit of {limit} assistant requests is used up");
        return Err(err);
    }
    Ok(())
}

fn seconds_to_midnight() -> u64 {
    let now = Utc::now();
    let next = (now.date_naive() + chrono::Duration::days(1))
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    u64::try_from((next - now).num_seconds()).unwrap_or(3600)
}

async fn conversation_for(
    state: &AppState,
    req: &TurnRequest,
) -> Result<conversation::Model, ApiError> {
    if let Some(id) = req.conversation_id {
        return conversation::Entity::find_by_id(id)
            .filter(conversation::Column::UserId.eq(req.user))
            .one(&state.db)
            .await?
            .ok_or_else(|| ApiError::not_found("conversation_not_found", "no such conversation"));
    }
    let now = Utc::now();
    Ok(conversation::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(req.user),
        title: Set(req.message.chars().take(30).collect()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?)
}

pub async fn store_message(
    state: &AppState,
    conv: Uuid,
    user: Uuid,
    role: &str,
    content: &str,
) -> Result<message::Model, ApiError> {
    let now = Utc::now();
    let m = message::ActiveModel {
        id: Set(Uuid::now_v7()),
        conversation_id: Set(conv),
        user_id: Set(user),
        role: Set(role.to_owned()),
        content: Set(content.to_owned()),
        created_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    conversation::Entity::update_many()
        .col_expr(conversation::Column::UpdatedAt, Expr::value(now))
        .filter(conversation::Column::Id.eq(conv))
        .exec(&state.db)
        .await?;
    Ok(m)
}

/// The system prompt and the conversation so far: newest turns verbatim within the budget,
/// older ones as dated one-line summaries.
async fn prompt(
    state: &AppState,
    user: Uuid,
    conv: Uuid,
    tz: Tz,
    now: DateTime<FixedOffset>,
    budget: usize,
) -> Result<Vec<Value>, ApiError> {
    let profile = profile::Entity::find_by_id(user).one(&state.db).await?;
    let known: Vec<String> = profile
        .and_then(|p| p.data.as_object().cloned())
        .unwrap_or_default()
        .into_iter()
        .take(30)
        .map(|(k, v)| {
            format!(
                "- {k}: {} (confidence {:.2})",
                v["value"],
                v["confidence"].as_f64().unwrap_or(0.0)
            )
        })
        .collect();
    let local = now.with_timezone(&tz);
    let mut system = format!(
        "{PERSONA}\nCurrent time: {} ({}), time zone {}.",
        local.format("%Y-%m-%d %H:%M"),
        local.format("%A"),
        tz.name()
    );
    if !known.is_empty() {
        system.push_str("\nWhat you know about the user:\n");
        system.push_str(&known.join("\n"));
    }
    let history = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conv))
        .order_by_desc(message::Column::CreatedAt)
        .order_by_desc(message::Column::Id)
        .all(&state.db)
        .await?;
    let mut recent = Vec::new();
    let mut used = 0;
    let mut older = Vec::new();
    for m in history {
        if older.is_empty() && used + m.content.len() <= budget {
            used += m.content.len();
            recent.push(m);
        } else {
            older.push(m);
        }
    }
    if !older.is_empty() {
        older.reverse();
        let lines: Vec<String> = older
            .iter()
            .rev()
            .take(30)
            .rev()
            .map(|m| {
                let text: String = m.content.chars().take(80).collect();
                format!(
                    "[{}] {}: {text}",
                    m.created_at.with_timezone(&tz).format("%Y-%m-%d"),
                    m.role
                )
            })
            .collect();
        system.push_str("\nEarlier in this conversation (summarised):\n");
        system.push_str(&lines.join("\n"));
    }
    let mut messages = vec![json!({"role": "system", "content": system})];
    for m in recent.into_iter().rev() {
        // Plain strings only: DeepSeek rejects content arrays.
        messages.push(json!({"role": m.role, "content": m.content}));
    }
    Ok(messages)
}

#[derive(Default)]
struct ToolCall {
    id: String,
    name: String,
    arguments: String,
}

pub enum TurnError {
    Api(ApiError),
    /// The client went away before the reply was complete; nothing was stored.
    Cancelled,
}

impl From<ApiError> for TurnError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl From<sea_orm::DbErr> for TurnError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Api(e.into())
    }
}

/// Run a turn. With a sink, text is sent as it arrives.
pub async fn run(
    state: &AppState,
    req: TurnRequest,
    sink: Option<Sink>,
) -> Result<TurnResult, TurnError> {
    if !state.llm.is_configured() {
        return Err(LlmError::NotConfigured.to_api_error().into());
    }
    // Every step that awaits something other than the model's stream is boxed: a future is as
    // large as its largest suspended state, and a streamed turn's task lives as long as its
    // stream, so unboxed database calls here would make every open stream carry their
    // ~3 KiB of state (4.2 KiB per turn before, ~1 KiB now).
    let conv = Box::pin(conversation_for(state, &req)).await?;
    let tz = Box::pin(state.timezone(req.user)).await?;
    let now = req
        .current_time
        .unwrap_or_else(|| Utc::now().fixed_offset());
    let mut messages = Box::pin(prompt(
        state,
        req.user,
        conv.id,
        tz,
        now,
        state.chat.history_chars,
    ))
    .await?;
    // The user's message is kept whatever happens to the model call.
    Box::pin(store_message(
        state,
        conv.id,
        req.user,
        "user",
        &req.message,
    ))
    .await?;
    messages.push(json!({"role": "user", "content": req.message}));

    let mut tools = tools::ToolContext {
        state,
        user: req.user,
        tz,
        changes: Vec::new(),
        actions: Vec::new(),
    };
    let mut reply = String::new();
    let mut rounds = 0;
    loop {
        rounds += 1;
        Box::pin(take_quota(state, req.user)).await?;
        let mut extra = serde_json::Map::new();
        if rounds <= state.chat.max_tool_rounds {
            extra.insert("tools".into(), tools::definitions());
        }
        let (response, _permit) = Box::pin(
            state
                .llm
                .start_stream(Value::Array(messages.clone()), extra),
        )
        .await
        .map_err(|e| TurnError::Api(e.to_api_error()))?;
        // The body alone from here on: the response head goes now. Its header values share
        // the connection's first read buffer, which hyper can then reuse for the body
        // instead of allocating a second one for as long as the stream lasts.
        let mut body = response.bytes_stream();
        let mut decoder = SseDecoder::default();
        let mut calls: Vec<ToolCall> = Vec::new();
        let mut text = String::new();
        loop {
            let chunk = match body.next().await {
                Some(Ok(c)) => c,
                None => break,
                Some(Err(e)) if e.is_timeout() => {
                    return Err(TurnError::Api(LlmError::Timeout.to_api_error()));
                }
                Some(Err(e)) => {
                    return Err(TurnError::Api(
                        LlmError::Transport(e.to_string()).to_api_error(),
                    ));
                }
            };
            for event in decoder
                .push(&chunk)
                .map_err(|e| TurnError::Api(e.to_api_error()))?
            {
                match event {
                    StreamEvent::Content(t) => {
                        text.push_str(&t);
                        if let Some(s) = &sink
                            && !s.text(&t).await
                            && !decoder.done
                        {
                            // Dropping the response here cancels the upstream request.
                            return Err(TurnError::Cancelled);
                        }
                    }
                    StreamEvent::ToolCall {
                        index,
                        id,
                        name,
                        arguments,
                    } => {
                        while calls.len() <= index {
                            calls.push(ToolCall::default());
                        }
                        let call = &mut calls[index];
                        if let Some(id) = id {
                            call.id = id;
                        }
                        if let Some(name) = name {
                            call.name.push_str(&name);
                        }
                        call.arguments.push_str(&arguments);
                    }
                    StreamEvent::Usage { .. } => {}
                }
            }
            if decoder.done {
                break;
            }
        }
        drop(body);
        if calls.is_empty() || rounds > state.chat.max_tool_rounds {
            reply.push_str(&text);
            break;
        }
        let call_json: Vec<Value> = calls
            .iter()
            .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
            .collect();
        messages.push(json!({"role": "assistant", "content": text, "tool_calls": call_json}));
        for c in &calls {
            let result = Box::pin(tools.execute(&c.name, &c.arguments)).await;
            messages.push(json!({"role": "tool", "tool_call_id": c.id, "content": result}));
        }
    }
    if reply.trim().is_empty() && !tools.actions.is_empty() {
        reply = "好的，已处理。".into();
    }
    Box::pin(store_message(state, conv.id, req.user, "assistant", &reply)).await?;
    if !tools.changes.is_empty() {
        Box::pin(snapshots::record(
            state,
            req.user,
            conv.id,
            &req.message,
            &tools.changes,
        ))
        .await?;
    }
    Ok(TurnResult {
        reply,
        conversation_id: conv.id,
        actions: tools.actions,
        suggestions: None,
    })
}

pub fn snapshot_view(s: &snapshot::Model) -> Value {
    json!({"id": s.id, "conversation_id": s.conversation_id, "summary": s.summary,
        "changes": s.changes, "reverted_at": s.reverted_at, "created_at": s.created_at})
}
