//! One chat turn: the prompt (persona, profile, the user's time, recent conversation within a
//! budget with older turns summarised), a bounded tool loop over a streamed completion, the
//! reply stored, and a snapshot of the events and projects the turn changed.

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use futures_util::StreamExt;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::{chat_usage, conversation, message, profile};
use shared::llm::{LlmError, SseDecoder, StreamEvent};
use uuid::Uuid;

use crate::memory;
use crate::state::AppState;

pub mod confirm;
pub mod interactive;
pub mod project_tools;
pub mod slots;
pub mod snapshots;
pub mod stream;
pub mod tools;
pub mod when;

pub use stream::Sink;

const PERSONA: &str = "You keep the \
user's schedule with the tools given (never invent an event id: query first), and you can \
read their medicine cabinet and today's doses. Answer in the user's language.\n\
Times: for any time the user gives in words (明天下午三点, 下周一, 月底, in 3 hours) call \
resolve_time and use the date and time it returns; never work dates out yourself.\n\
Deleting events, ending a routine and archiving a project wait for the user's yes: when a \
tool answers awaiting_confirmation, ask one short question naming exactly that action, and \
never say it is done. To take back a change made in chat, use undo_change.\n\
Medicines: you may explain what is printed on a box and restate the user's own plan and \
doses; you never diagnose, prescribe, or suggest starting, stopping or changing a dose. When \
asked, say you cannot and suggest a pharmacist or doctor. Whether medicines interact or \
share an ingredient comes only from check_medicine_interactions (an offline table): relay \
what it found; when it finds nothing, say it knows of no interaction in its table, never \
that a combination is safe.";

pub struct TurnRequest {
    pub user: Uuid,
    pub conversation_id: Option<Uuid>,
    pub message: String,
    /// The app's `current_time` (its local time without an offset).
    pub current_time: Option<shared::time::AppTime>,
}

/// The original's `ChatResponse`.
#[derive(Debug, serde::Serialize)]
pub struct TurnResult {
    pub reply: String,
    pub conversation_id: Uuid,
    pub actions: Vec<Value>,
    /// The snapshot of the events this turn changed (undo it with `/snapshots/{id}/revert`).
    pub snapshot_id: Option<Uuid>,
    pub suggestions: Option<Vec<interactive::Suggestion>>,
    pub questions: Option<Vec<interactive::Question>>,
    pub query_results: Option<Vec<Value>>,
    /// A destructive action this turn proposed, waiting for the user's yes (absent otherwise,
    /// so the original's shape is unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_action: Option<Value>,
    /// The conversation outgrew its rolling summary: bring it up to date after the turn
    /// (`memory::summarise`), never on the turn's path.
    #[serde(skip)]
    pub summarise: Option<Uuid>,
}

/// Whether the user has no message at all yet (the turn's own is stored after this).
async fn never_spoke(state: &AppState, user: Uuid) -> Result<bool, ApiError> {
    let any = message::Entity::find()
        .select_only()
        .column(message::Column::Id)
        .filter(message::Column::UserId.eq(user))
        .into_tuple::<Uuid>()
        .one(&state.db)
        .await?;
    Ok(any.is_none())
}

/// What the memory part of a prompt is chosen from: the active facts, the last days' diaries
/// and the assistant's identity for the user.
async fn remembered(
    state: &AppState,
    user: Uuid,
) -> Result<
    (
        Vec<memory::Recall>,
        Vec<shared::entities::diary::Model>,
        Option<shared::entities::chat_user_state::Model>,
    ),
    ApiError,
> {
    let today = Utc::now().date_naive() + chrono::Duration::days(1);
    Ok(tokio::try_join!(
        memory::recall(&state.db, user),
        memory::recent_diaries(&state.db, user, today),
        async { Ok(crate::user_state::get(&state.db, user).await?) },
    )?)
}

/// Count one model request against the user's daily quota (429 when used up), in one
/// statement: the day's row is created at 1 or raised by one while under the limit.
async fn take_quota(state: &AppState, user: Uuid) -> Result<(), ApiError> {
    let day = Utc::now().date_naive();
    let limit = state.chat.daily_quota;
    let taken = if limit > 0 {
        chat_usage::Entity::insert(chat_usage::ActiveModel {
            user_id: Set(user),
            day: Set(day),
            requests: Set(1),
        })
        .on_conflict(
            OnConflict::columns([chat_usage::Column::UserId, chat_usage::Column::Day])
                .value(
                    chat_usage::Column::Requests,
                    Expr::col((chat_usage::Entity, chat_usage::Column::Requests)).add(1),
                )
                .action_and_where(
                    Expr::col((chat_usage::Entity, chat_usage::Column::Requests)).lt(limit),
                )
                .to_owned(),
        )
        .exec_without_returning(&state.db)
        .await?
    } else {
        0
    };
    if taken == 0 {
        let mut err = ApiError::too_many_requests(shared::time::seconds_to_utc_midnight());
        err.code = ErrorCode::QuotaExceeded;
        err.message = format!("the daily limit of {limit} assistant requests is used up");
        return Err(err);
    }
    Ok(())
}

/// The turn's conversation: the one named if it is the user's, else a new one (the original
/// started a new conversation for an id it did not know; another user's id is not known here).
async fn conversation_for(
    state: &AppState,
    req: &TurnRequest,
) -> Result<conversation::Model, ApiError> {
    if let Some(id) = req.conversation_id
        && let Some(found) = conversation::Entity::find_by_id(id)
            .filter(conversation::Column::UserId.eq(req.user))
            .one(&state.db)
            .await?
    {
        return Ok(found);
    }
    let now = shared::time::now_micros();
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

/// The newest messages of a conversation, newest first: at most what a prompt can use
/// (`VERBATIM_MAX` verbatim and `SUMMARY_LINES` summarised), however long it has grown.
async fn recent_messages(
    state: &AppState,
    user: Uuid,
    conv: Option<Uuid>,
) -> Result<Vec<message::Model>, ApiError> {
    let Some(conv) = conv else {
        return Ok(Vec::new());
    };
    // What came before the app's last `clear_context` is no longer the assistant's context.
    let mut select = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conv))
        .filter(message::Column::UserId.eq(user));
    if let Some(since) = crate::user_state::context_cleared_at(&state.db, user).await? {
        select = select.filter(message::Column::CreatedAt.gte(since));
    }
    Ok(select
        .order_by_desc(message::Column::CreatedAt)
        .order_by_desc(message::Column::Id)
        .limit((VERBATIM_MAX + SUMMARY_LINES) as u64)
        .all(&state.db)
        .await?)
}

pub async fn store_message(
    state: &AppState,
    conv: Uuid,
    user: Uuid,
    role: &str,
    content: &str,
) -> Result<message::Model, ApiError> {
    let now = shared::time::now_micros();
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

/// Between the texts of two model rounds of one reply.
const ROUND_BREAK: &str = "\n\n";
/// Messages sent verbatim at most, however short they are.
const VERBATIM_MAX: usize = 100;
/// Older messages summarised in the system prompt, one dated line each.
const SUMMARY_LINES: usize = 30;
/// Characters of an older message kept in its summary line.
const SUMMARY_CHARS: usize = 80;
/// Profile entries named in the system prompt.
const PROFILE_ENTRIES: usize = 30;

/// A text's size in tokens, estimated as DeepSeek documents it: about 0.3 token an English
/// character and 0.6 a Chinese one (any non-ASCII character is counted as the latter).
pub fn estimate_tokens(text: &str) -> usize {
    let tenths: usize = text.chars().map(|c| if c.is_ascii() { 3 } else { 6 }).sum();
    tenths.div_ceil(10)
}

/// How many of the newest messages (`history`, newest first) go word for word: as many as fit
/// in `budget` estimated tokens, at most `VERBATIM_MAX`, stopping at the first that does not.
pub fn verbatim_count(history: &[message::Model], budget: usize) -> usize {
    let mut used = 0;
    history
        .iter()
        .take(VERBATIM_MAX)
        .take_while(|m| {
            used += estimate_tokens(&m.content);
            used <= budget
        })
        .count()
}

/// What a prompt says beyond the conversation: who the assistant is to this user, what it
/// remembers, and whether the user is new.
#[derive(Debug, Default)]
pub struct Extra {
    /// (name, emoji, vibe) the user gave the assistant.
    pub identity: Option<(String, String, String)>,
    /// The memory section (`memory::section`).
    pub memory: String,
    /// A new user: the turn gets to know them.
    pub onboarding: bool,
    /// The conversation's rolling summary of its older turns.
    pub summary: Option<shared::entities::conversation_summary::Model>,
}

const ONBOARDING: &str = "\nThis user is new. Besides answering, get to know them over the \
first turns, one or two questions at a time: what to call them, when they usually get up and \
go to sleep, anything you should always keep in mind (allergies, medicines they take, people \
close to them). Save each lasting fact with remember. They may give you a name with \
set_identity.";

/// The system prompt and the conversation so far: the newest messages verbatim within
/// `budget` tokens (estimated), older ones as dated one-line summaries. `history` is newest
/// first, as `recent_messages` reads it.
pub fn prompt(
    profile: Option<&profile::Model>,
    history: Vec<message::Model>,
    tz: Tz,
    now: DateTime<FixedOffset>,
    budget: usize,
    extra: &Extra,
) -> Vec<Value> {
    let local = now.with_timezone(&tz);
    let (name, emoji, vibe) = extra.identity.clone().unwrap_or_else(|| {
        (
            crate::user_state::DEFAULT_AI_NAME.to_owned(),
            crate::user_state::DEFAULT_AI_EMOJI.to_owned(),
            "warm, concise".to_owned(),
        )
    });
    let mut system = format!(
        "You are {name} {emoji}, the user's personal assistant and companion ({vibe}). {PERSONA}\nCurrent time: {} ({}), time zone {}.",
        local.format("%Y-%m-%d %H:%M"),
        local.format("%A"),
        tz.name()
    );
    if let Some(known) = profile.and_then(|p| p.data.as_object())
        && !known.is_empty()
    {
        system.push_str("\nWhat you know about the user:");
        for (k, v) in known.iter().take(PROFILE_ENTRIES) {
            system.push_str(&format!(
                "\n- {k}: {} (confidence {:.2})",
                v["value"],
                v["confidence"].as_f64().unwrap_or(0.0)
            ));
        }
    }
    system.push_str(&extra.memory);
    if extra.onboarding {
        system.push_str(ONBOARDING);
    }
    let keep = verbatim_count(&history, budget);
    let mut history = history.into_iter();
    let recent: Vec<message::Model> = history.by_ref().take(keep).collect();
    // What the rolling summary covers is told by it; the rest as one line each.
    let covered = extra.summary.as_ref().map(|s| s.covers_until);
    let older: Vec<message::Model> = history
        .filter(|m| covered.is_none_or(|until| m.created_at > until))
        .take(SUMMARY_LINES)
        .collect();
    if let Some(s) = &extra.summary {
        system.push_str(&format!(
            "\nEarlier in this conversation ({} messages, {} to {}, summarised):\n{}",
            s.message_count,
            s.covers_from.with_timezone(&tz).format("%Y-%m-%d"),
            s.covers_until.with_timezone(&tz).format("%Y-%m-%d"),
            s.summary
        ));
    }
    if !older.is_empty() {
        system.push_str(if extra.summary.is_some() {
            "\nAfter that (one line each):"
        } else {
            "\nEarlier in this conversation (summarised):"
        });
        for m in older.iter().rev() {
            let text: String = m.content.chars().take(SUMMARY_CHARS).collect();
            system.push_str(&format!(
                "\n[{}] {}: {text}",
                m.created_at.with_timezone(&tz).format("%Y-%m-%d"),
                m.role
            ));
        }
    }
    let mut messages = vec![json!({"role": "system", "content": system})];
    for m in recent.into_iter().rev() {
        // Plain strings only: DeepSeek rejects content arrays.
        messages.push(json!({"role": m.role, "content": m.content}));
    }
    messages
}

#[derive(Default)]
struct ToolCall {
    id: String,
    name: String,
    arguments: String,
}

pub enum TurnError {
    Api(ApiError),
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

/// The model's rounds: stream an answer, run the tools it calls, until it answers in text.
/// What the tools changed is in `tools` whatever this returns. The reply is all the text the
/// model wrote in its rounds (a blank line between two rounds' texts), exactly what was
/// streamed, so a resumed stream and the stored answer agree.
async fn converse(
    state: &AppState,
    user: Uuid,
    mut messages: Vec<Value>,
    tools: &mut tools::ToolContext<'_>,
    sink: Option<&Sink>,
) -> Result<String, TurnError> {
    let mut reply = String::new();
    let mut rounds = 0;
    loop {
        rounds += 1;
        Box::pin(take_quota(state, user)).await?;
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
                        if text.is_empty() && !reply.is_empty() && !t.is_empty() {
                            reply.push_str(ROUND_BREAK);
                            if let Some(s) = sink {
                                s.text(ROUND_BREAK);
                            }
                        }
                        text.push_str(&t);
                        reply.push_str(&t);
                        if let Some(s) = sink {
                            s.text(&t);
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
        // Forgotten words leave this turn's prompt too, before the model is asked again.
        for words in &tools.forgotten {
            for m in &mut messages {
                memory::redact_value(m, words);
            }
        }
    }
    Ok(reply)
}

/// Run a turn. With a sink, text is sent as it arrives.
#[tracing::instrument(name = "chat.turn", skip_all, fields(user.id = %req.user, streamed = sink.is_some()))]
pub async fn run(
    state: &AppState,
    req: TurnRequest,
    sink: Option<&Sink>,
) -> Result<TurnResult, TurnError> {
    if !state.llm.is_configured() {
        return Err(LlmError::NotConfigured.to_api_error().into());
    }
    // Every step that awaits something other than the model's stream is boxed: a future is as
    // large as its largest suspended state, and a streamed turn's task lives as long as its
    // stream, so unboxed database calls here would make every open stream carry their
    // ~3 KiB of state (4.2 KiB per turn before, ~1 KiB now).
    // What the prompt needs is read at once: the conversation (or a new one), the user's
    // time zone and profile, and the conversation's newest messages (read for the user in the
    // token, so another user's conversation yields none, and is then refused as not found).
    let (conv, tz, profile, history, (facts, diaries, user_state), summary) = Box::pin(async {
        tokio::try_join!(
            conversation_for(state, &req),
            state.timezone(req.user),
            async {
                Ok::<_, ApiError>(profile::Entity::find_by_id(req.user).one(&state.db).await?)
            },
            recent_messages(state, req.user, req.conversation_id),
            remembered(state, req.user),
            memory::summary_of(&state.db, req.user, req.conversation_id),
        )
    })
    .await?;
    let now = req
        .current_time
        .map_or_else(Utc::now, |t| t.in_zone(tz))
        .fixed_offset();
    // What memory adds, chosen without a model call: by the message and the user's turn before.
    let about = history
        .iter()
        .find(|m| m.role == "user")
        .map_or(String::new(), |m| m.content.clone());
    let chosen = memory::select(
        &facts,
        &format!("{} {about}", req.message),
        memory::FACT_TOKENS,
    );
    let today = now.with_timezone(&tz).date_naive();
    // The days the message speaks of ("昨天", "上周三") first, then the last days.
    let asked = when::days_mentioned(&req.message, now.with_timezone(&Utc), tz);
    let mut diaries: Vec<_> = diaries
        .into_iter()
        .filter(|d| d.diary_date < today)
        .collect();
    let missing: Vec<_> = asked
        .iter()
        .filter(|d| !diaries.iter().any(|x| x.diary_date == **d))
        .copied()
        .collect();
    if !missing.is_empty() {
        let mut found = Box::pin(memory::diaries_on(&state.db, req.user, &missing)).await?;
        found.append(&mut diaries);
        diaries = found;
    }
    diaries.sort_by_key(|d| !asked.contains(&d.diary_date));
    // Older messages the rolling summary does not cover yet: enough of them, and the summary
    // is brought up to date after the turn, off its path.
    let keep = verbatim_count(&history, state.chat.history_tokens);
    let uncovered = history
        .iter()
        .skip(keep)
        .filter(|m| {
            summary
                .as_ref()
                .is_none_or(|s| m.created_at > s.covers_until)
        })
        .count();
    let extra = Extra {
        summary,
        identity: user_state.as_ref().and_then(|s| {
            Some((
                s.ai_name.clone()?,
                s.ai_emoji.clone().unwrap_or_default(),
                s.ai_vibe.clone().unwrap_or_default(),
            ))
        }),
        memory: memory::section(&chosen, &diaries),
        // A new user: onboarding not dismissed, nothing remembered, and nothing ever said
        // (the last asked only when the rest holds).
        onboarding: user_state
            .as_ref()
            .is_none_or(|s| s.onboarding_done_at.is_none())
            && facts.is_empty()
            && history.is_empty()
            && Box::pin(never_spoke(state, req.user)).await?,
    };
    let mut messages = prompt(
        profile.as_ref(),
        history,
        tz,
        now,
        state.chat.history_tokens,
        &extra,
    );
    // The user's message is kept whatever happens to the model call.
    let said = Box::pin(store_message(
        state,
        conv.id,
        req.user,
        "user",
        &req.message,
    ))
    .await?;
    messages.push(json!({"role": "user", "content": req.message}));

    let mut tools = tools::ToolContext::new(state, req.user, tz, now.with_timezone(&Utc));
    tools.conversation = Some(conv.id);
    tools.message_id = Some(said.id);
    // An action waiting for a yes is decided by this message, in code: a yes runs exactly it
    // (no model call), anything else or a late answer cancels it and the model is told.
    if let Some(action) = Box::pin(confirm::pending(state, req.user, conv.id)).await? {
        let late = action.expires_at <= Utc::now();
        if !late && confirm::is_yes(&req.message) {
            if Box::pin(confirm::decide(state, &action, "done")).await? {
                return Box::pin(confirmed(state, &req, conv.id, tools, action, sink)).await;
            }
        } else if Box::pin(confirm::decide(
            state,
            &action,
            if late { "expired" } else { "cancelled" },
        ))
        .await?
            && let Some(system) = messages[0]["content"].as_str()
        {
            messages[0]["content"] = json!(format!(
                "{system}\n{}",
                confirm::not_done_note(&action, Utc::now())
            ));
        }
    }
    // A turn that fails after its tools changed events still records their snapshot, so
    // the changes can be undone.
    let outcome = Box::pin(converse(state, req.user, messages, &mut tools, sink)).await;
    let snapshot_id = if !tools.changed_anything() {
        None
    } else {
        Some(
            Box::pin(snapshots::record(
                state,
                req.user,
                conv.id,
                &req.message,
                &tools.changes,
                &tools.project_changes,
            ))
            .await?,
        )
    };
    let mut reply = outcome?;
    if reply.trim().is_empty() && !tools.actions.is_empty() {
        let done = "好的，已处理。";
        if let Some(s) = sink {
            s.text(done);
        }
        reply.push_str(done);
    }
    // What the user asked to forget is not kept in the reply either.
    for words in &tools.forgotten {
        if let Some(r) = memory::redact(&reply, words) {
            reply = r;
        }
    }
    Box::pin(store_message(state, conv.id, req.user, "assistant", &reply)).await?;
    Ok(TurnResult {
        reply,
        conversation_id: conv.id,
        actions: tools.actions,
        snapshot_id,
        suggestions: tools.suggestions,
        questions: tools.questions,
        query_results: (!tools.query_results.is_empty()).then_some(tools.query_results),
        pending_action: tools.pending_action,
        summarise: (uncovered >= memory::SUMMARISE_AFTER).then_some(conv.id),
    })
}

/// The user said yes: run exactly the stored action, without the model, and answer with what
/// was done (or why it could not be).
async fn confirmed(
    state: &AppState,
    req: &TurnRequest,
    conv: Uuid,
    mut tools: tools::ToolContext<'_>,
    action: shared::entities::pending_action::Model,
    sink: Option<&Sink>,
) -> Result<TurnResult, TurnError> {
    tools.confirmed = true;
    let outcome = Box::pin(tools.run(&action.tool, &action.arguments)).await;
    let zh = !req.message.is_ascii();
    let what = &action.description;
    let reply = match &outcome {
        Ok(_) if zh => format!("已完成：{what}。"),
        Ok(_) => format!("Done: {what}."),
        Err(e) if zh => format!("没能完成：{what}。原因：{e}"),
        Err(e) => format!("Could not do it: {what} ({e})."),
    };
    let snapshot_id = if tools.changed_anything() {
        Some(
            Box::pin(snapshots::record(
                state,
                req.user,
                conv,
                what,
                &tools.changes,
                &tools.project_changes,
            ))
            .await?,
        )
    } else {
        None
    };
    if let Some(s) = sink {
        s.text(&reply);
    }
    Box::pin(store_message(state, conv, req.user, "assistant", &reply)).await?;
    Ok(TurnResult {
        reply,
        conversation_id: conv,
        actions: tools.actions,
        snapshot_id,
        suggestions: None,
        questions: None,
        query_results: (!tools.query_results.is_empty()).then_some(tools.query_results),
        pending_action: None,
        summarise: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn msg(n: i64, content: &str) -> message::Model {
        message::Model {
            id: Uuid::now_v7(),
            conversation_id: Uuid::nil(),
            user_id: Uuid::nil(),
            role: if n % 2 == 0 { "user" } else { "assistant" }.into(),
            content: content.into(),
            // Message n was written n days after 2026-01-01 00:30 UTC.
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 30, 0).unwrap()
                + chrono::Duration::days(n),
        }
    }

    /// Newest first, as `recent_messages` reads them.
    fn history(contents: &[&str]) -> Vec<message::Model> {
        let mut v: Vec<_> = contents
            .iter()
            .enumerate()
            .map(|(i, c)| msg(i as i64, c))
            .collect();
        v.reverse();
        v
    }

    fn now() -> DateTime<FixedOffset> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .unwrap()
            .fixed_offset()
    }

    #[test]
    fn tokens_are_estimated_per_script() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("hello world"), 4); // 11 × 0.3 = 3.3
        assert_eq!(estimate_tokens("明天下午三点看牙医"), 6); // 9 × 0.6 = 5.4
    }

    #[test]
    fn the_newest_turns_go_verbatim_within_the_budget_and_older_ones_as_dated_summaries() {
        // 100 ASCII characters ≈ 30 tokens each: a budget of 70 takes the newest two.
        let long = |c: char| c.to_string().repeat(100);
        let (a, b, c, d) = (long('a'), long('b'), long('c'), long('d'));
        let msgs = prompt(
            None,
            history(&[&a, &b, &c, &d]),
            chrono_tz::America::New_York,
            now(),
            70,
            &Extra::default(),
        );
        assert_eq!(msgs.len(), 3, "system + the two newest");
        assert_eq!(msgs[1]["content"], c.as_str());
        assert_eq!(msgs[1]["role"], "user");
        assert_eq!(msgs[2]["content"], d.as_str());
        let system = msgs[0]["content"].as_str().unwrap();
        // Dates in the user's zone: 00:30 UTC on Jan 1 is Dec 31 in New York.
        assert!(
            system.contains(&format!(
                "Earlier in this conversation (summarised):\n[2025-12-31] user: {}\n[2026-01-01] assistant: {}",
                &a[..80],
                &b[..80]
            )),
            "{system}"
        );
        assert!(
            system.contains("Current time: 2026-03-01 07:00 (Sunday), time zone America/New_York.")
        );
        assert!(!system.contains("What you know"));
    }

    #[test]
    fn a_turn_that_does_not_fit_sends_everything_older_to_the_summary() {
        // The newest message alone is over the budget: nothing goes verbatim after it either.
        let big = "x".repeat(1000);
        let msgs = prompt(
            None,
            history(&["short", &big]),
            chrono_tz::Asia::Shanghai,
            now(),
            100,
            &Extra::default(),
        );
        assert_eq!(msgs.len(), 1);
        let system = msgs[0]["content"].as_str().unwrap();
        assert!(system.contains("user: short"), "{system}");
        assert!(system.contains(&format!("assistant: {}", &big[..80])));
    }

    #[test]
    fn verbatim_turns_and_summary_lines_are_capped() {
        let texts: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let msgs = prompt(
            None,
            history(&refs),
            chrono_tz::UTC,
            now(),
            1_000_000,
            &Extra::default(),
        );
        assert_eq!(msgs.len(), 1 + VERBATIM_MAX);
        assert_eq!(msgs[1]["content"], "m100");
        assert_eq!(msgs[VERBATIM_MAX]["content"], "m199");
        let system = msgs[0]["content"].as_str().unwrap();
        let lines: Vec<&str> = system.lines().filter(|l| l.starts_with('[')).collect();
        assert_eq!(lines.len(), SUMMARY_LINES);
        assert!(lines[0].ends_with(": m70"), "{}", lines[0]);
        assert!(lines[SUMMARY_LINES - 1].ends_with(": m99"));
    }

    #[test]
    fn the_profile_is_named_with_its_confidence() {
        let p = profile::Model {
            user_id: Uuid::nil(),
            data: json!({"sport": {"value": "running", "confidence": 0.7}}),
            updated_at: Utc::now(),
        };
        let msgs = prompt(
            Some(&p),
            Vec::new(),
            chrono_tz::UTC,
            now(),
            100,
            &Extra::default(),
        );
        let system = msgs[0]["content"].as_str().unwrap();
        assert!(
            system
                .ends_with("What you know about the user:\n- sport: \"running\" (confidence 0.70)"),
            "{system}"
        );
    }
}
