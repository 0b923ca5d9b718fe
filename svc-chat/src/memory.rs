//! Long-term memory: facts about the user (`memories`), kept with where they came from, that
//! the assistant sees in every turn within a budget, that the user can see, edit and make it
//! forget.
//!
//! - **Written** nightly from the day's messages (`consolidate`: one model call per user and
//!   day that answers add / update / supersede / drop against the facts already kept, as mem0
//!   does; once per day, `memory_runs`), by the assistant's `remember` tool in a turn, or by
//!   the user. The weekly job drops exact duplicates (`compact`).
//! - **Read** in each turn with no model call, from one row per user (`memory_digests`, rewritten
//!   in the transaction of every write, `begin_write`/`end_write`), chosen by `select`: health facts first (allergies and
//!   conditions are what a wrong answer costs most), then the facts sharing the most character
//!   pairs with the user's message and the turn before it, then the newest; within
//!   `FACT_TOKENS`, with the last `DIARY_DAYS` diaries' summaries within `DIARY_TOKENS`.
//! - **Forgotten** (`forget`): the facts that mention the words are deleted and the words are
//!   redacted wherever they were kept — messages, diaries, the profile, check-ins,
//!   conversation titles and summaries — so no later prompt carries them.
//! - **Summarised**: a conversation that outgrew what a prompt sends word for word gets a
//!   rolling summary of its older turns (`summarise`), written by the model after a turn and
//!   off its path; later prompts carry it instead of one line per older message.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde_json::{Value, json};
use shared::entities::{
    checkin, conversation, conversation_summary, diary, memory, memory_digest, memory_run, message,
    profile,
};
use shared::llm::extract_json_object;
use shared::{ApiError, ErrorCode};
use uuid::Uuid;

use crate::engine::estimate_tokens;
use crate::state::AppState;

pub const KINDS: &[&str] = &[
    "health",
    "person",
    "preference",
    "routine",
    "place",
    "other",
];
/// Estimated tokens of facts in a prompt at most.
pub const FACT_TOKENS: usize = 1_200;
/// Estimated tokens of recent diaries in a prompt at most.
pub const DIARY_TOKENS: usize = 300;
/// Days of diaries a prompt looks back.
pub const DIARY_DAYS: i64 = 3;
/// Facts read for a turn at most (the newest).
const READ_AT_MOST: u64 = 1_000;
/// What forgotten words become.
pub const FORGOTTEN: &str = "〔已遗忘〕";

pub fn view(m: &memory::Model) -> Value {
    json!({
        "id": m.id, "kind": m.kind, "content": m.content, "status": m.status,
        "confidence": m.confidence, "origin": m.origin, "learnt_on": m.learnt_on,
        "source_message_ids": m.sources, "supersedes": m.supersedes,
        "created_at": m.created_at, "updated_at": m.updated_at,
    })
}

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::MemoryNotFound, ErrorCode::MemoryNotFound.zh())
}

/// A fact's text and kind as the user or the model gave them, checked.
pub fn checked(kind: &str, content: &str) -> Result<(String, String), ApiError> {
    let kind = kind.trim().to_ascii_lowercase();
    if !KINDS.contains(&kind.as_str()) {
        return Err(ApiError::validation(format!(
            "kind 只能是 {} / kind must be one of {}",
            KINDS.join("、"),
            KINDS.join(", ")
        )));
    }
    let content = content.trim().to_owned();
    if content.is_empty() || content.chars().count() > 200 {
        return Err(ApiError::validation(
            "内容需要 1 到 200 个字 / content must be 1 to 200 characters",
        ));
    }
    Ok((kind, content))
}

/// The user's active facts, health facts first, then newest first (at most `READ_AT_MOST`:
/// however many there are, a health fact is never left out for a newer liking).
pub async fn active(db: &impl ConnectionTrait, user: Uuid) -> Result<Vec<memory::Model>, ApiError> {
    Ok(memory::Entity::find()
        .filter(memory::Column::UserId.eq(user))
        .filter(memory::Column::Status.eq("active"))
        .order_by(
            Expr::cust("CASE WHEN kind = 'health' THEN 0 ELSE 1 END"),
            sea_orm::Order::Asc,
        )
        .order_by_desc(memory::Column::UpdatedAt)
        .order_by_desc(memory::Column::Id)
        .limit(READ_AT_MOST)
        .all(db)
        .await?)
}

/// What a prompt needs of a fact (read without the rest of its row: this runs every turn).
#[derive(Debug, Clone, PartialEq)]
pub struct Recall {
    pub kind: String,
    pub content: String,
    pub learnt_on: NaiveDate,
}

impl From<&memory::Model> for Recall {
    fn from(m: &memory::Model) -> Self {
        Self {
            kind: m.kind.clone(),
            content: m.content.clone(),
            learnt_on: m.learnt_on,
        }
    }
}

/// The user's active facts as a prompt needs them, in `active`'s order: one row, the digest
/// (a user who never had a fact has none: nothing to read).
pub async fn recall(db: &impl ConnectionTrait, user: Uuid) -> Result<Vec<Recall>, ApiError> {
    let Some(digest) = memory_digest::Entity::find_by_id(user).one(db).await? else {
        return Ok(Vec::new());
    };
    Ok(digest
        .facts
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            Some(Recall {
                kind: f[0].as_str()?.to_owned(),
                content: f[1].as_str()?.to_owned(),
                learnt_on: f[2].as_str()?.parse().ok()?,
            })
        })
        .take(READ_AT_MOST as usize)
        .collect())
}

/// The characters relevance compares: lower-cased letters and digits (punctuation and spaces
/// left out).
fn letters(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_ascii_lowercase()
            } else {
                // The first of its lower-case forms is enough to compare by.
                c.to_lowercase().next().unwrap_or(c)
            }
        })
        .filter(|c| c.is_alphanumeric())
}

/// Pairs of neighbouring characters, the unit of relevance: "青霉素过敏" and "我能吃青霉素吗"
/// share 青霉 and 霉素. A message's few pairs, sorted: looked up for every fact of every turn.
fn pairs(text: &str) -> Vec<(char, char)> {
    let chars: Vec<char> = letters(text).take(400).collect();
    let mut pairs: Vec<(char, char)> = chars.windows(2).map(|w| (w[0], w[1])).collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// How many of `text`'s neighbouring pairs are in `wanted` (no allocation: this runs for every
/// fact of every turn).
fn shared_pairs(text: &str, wanted: &[(char, char)]) -> usize {
    let mut previous = None;
    let mut n = 0;
    for c in letters(text) {
        if let Some(p) = previous
            && wanted.binary_search(&(p, c)).is_ok()
        {
            n += 1;
        }
        previous = Some(c);
    }
    n
}

/// The facts for a turn about `query`, within `budget` estimated tokens: health facts first,
/// then by shared character pairs with the query, then the newest.
pub fn select<'a>(facts: &'a [Recall], query: &str, budget: usize) -> Vec<&'a Recall> {
    let wanted = pairs(query);
    let mut scored: Vec<(usize, usize, &Recall)> = facts
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let health = usize::from(f.kind == "health");
            (health * 1_000 + shared_pairs(&f.content, &wanted), i, f)
        })
        .collect();
    // Higher score first; among equals the newest (the list is newest first within a kind).
    scored.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut used = 0;
    let mut out = Vec::new();
    for (_, _, f) in scored {
        let cost = line_tokens(f);
        if used + cost > budget {
            continue;
        }
        used += cost;
        out.push(f);
    }
    out
}

fn line(f: &Recall) -> String {
    format!("- [{}] ({}) {}", f.learnt_on, f.kind, f.content)
}

/// `estimate_tokens(&line(f)) + 1` without writing the line: its fixed part ("- [date] (kind) ")
/// is ASCII.
fn line_tokens(f: &Recall) -> usize {
    let tenths: usize = (18 + f.kind.len()) * 3
        + f.content
            .chars()
            .map(|c| if c.is_ascii() { 3 } else { 6 })
            .sum::<usize>();
    tenths.div_ceil(10) + 1
}

/// The memory part of the system prompt: the selected facts and the recent diaries.
pub fn section(facts: &[&Recall], diaries: &[diary::Model]) -> String {
    let mut out = String::new();
    if !facts.is_empty() {
        out.push_str(
            "\nWhat you remember about the user (from earlier days; they can see and delete it in the app). \
             Use it when it matters; health facts are theirs to tell, never a diagnosis:",
        );
        for f in facts {
            out.push('\n');
            out.push_str(&line(f));
        }
    }
    let mut used = 0;
    let mut lines = Vec::new();
    for d in diaries {
        let text: String = d.summary.chars().take(160).collect();
        let l = format!("- [{}] {text}", d.diary_date);
        used += estimate_tokens(&l);
        if used > DIARY_TOKENS {
            break;
        }
        lines.push(l);
    }
    if !lines.is_empty() {
        out.push_str("\nThe user's diary (the days asked about first, then the last days):");
        for l in &lines {
            out.push('\n');
            out.push_str(l);
        }
    }
    out
}

/// The diaries of the last `DIARY_DAYS` days before `today`, newest first.
pub async fn recent_diaries(
    db: &impl ConnectionTrait,
    user: Uuid,
    today: NaiveDate,
) -> Result<Vec<diary::Model>, ApiError> {
    Ok(diary::Entity::find()
        .filter(diary::Column::UserId.eq(user))
        .filter(diary::Column::DiaryDate.gte(today - chrono::Duration::days(DIARY_DAYS)))
        .filter(diary::Column::DiaryDate.lt(today))
        .order_by_desc(diary::Column::DiaryDate)
        .all(db)
        .await?)
}

/// The user's diaries of these days.
pub async fn diaries_on(
    db: &impl ConnectionTrait,
    user: Uuid,
    days: &[NaiveDate],
) -> Result<Vec<diary::Model>, ApiError> {
    Ok(diary::Entity::find()
        .filter(diary::Column::UserId.eq(user))
        .filter(diary::Column::DiaryDate.is_in(days.iter().copied()))
        .order_by_desc(diary::Column::DiaryDate)
        .all(db)
        .await?)
}

pub struct NewFact<'a> {
    pub kind: &'a str,
    pub content: &'a str,
    pub confidence: f64,
    pub sources: Vec<Uuid>,
    pub origin: &'a str,
    pub learnt_on: NaiveDate,
    pub supersedes: Option<Uuid>,
}

/// Keep a fact; the same text of the same kind already kept is refreshed instead of doubled.
pub async fn remember(
    db: &DatabaseConnection,
    user: Uuid,
    fact: NewFact<'_>,
) -> Result<memory::Model, ApiError> {
    let txn = begin_write(db, user).await?;
    let kept = keep(&txn, user, fact).await?;
    end_write(txn, user).await?;
    Ok(kept)
}

/// A write to the user's memories: its transaction, holding the user's digest row first (a
/// write, so SQLite takes its write lock and a second writer on PostgreSQL waits here and then
/// reads what the first one committed).
async fn begin_write(db: &DatabaseConnection, user: Uuid) -> Result<DatabaseTransaction, ApiError> {
    let txn = db.begin().await?;
    memory_digest::Entity::insert(memory_digest::ActiveModel {
        user_id: Set(user),
        facts: Set(json!([])),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(memory_digest::Column::UserId)
            .update_column(memory_digest::Column::UpdatedAt)
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    Ok(txn)
}

/// The digest rewritten from the facts as the transaction leaves them, then committed.
async fn end_write(txn: DatabaseTransaction, user: Uuid) -> Result<(), ApiError> {
    let facts: Vec<Value> = active(&txn, user)
        .await?
        .iter()
        .map(|f| json!([f.kind, f.content, f.learnt_on]))
        .collect();
    memory_digest::Entity::update_many()
        .col_expr(
            memory_digest::Column::Facts,
            Expr::value(Value::Array(facts)),
        )
        .filter(memory_digest::Column::UserId.eq(user))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

async fn keep(
    db: &impl ConnectionTrait,
    user: Uuid,
    fact: NewFact<'_>,
) -> Result<memory::Model, ApiError> {
    let (kind, content) = checked(fact.kind, fact.content)?;
    let now = shared::time::now_micros();
    let folded = shared::text::fold(&content);
    if let Some(same) = active(db, user)
        .await?
        .into_iter()
        .find(|f| f.kind == kind && shared::text::fold(&f.content) == folded)
    {
        let mut m = same.into_active_model();
        m.updated_at = Set(now);
        return Ok(m.update(db).await?);
    }
    Ok(memory::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        kind: Set(kind),
        content: Set(content),
        status: Set("active".into()),
        confidence: Set(fact.confidence.clamp(0.0, 1.0)),
        sources: Set(json!(fact.sources)),
        origin: Set(fact.origin.to_owned()),
        learnt_on: Set(fact.learnt_on),
        supersedes: Set(fact.supersedes),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

/// The user's fact, or 404 (another user's is not found either).
pub async fn owned(
    db: &impl ConnectionTrait,
    user: Uuid,
    id: Uuid,
) -> Result<memory::Model, ApiError> {
    memory::Entity::find_by_id(id)
        .filter(memory::Column::UserId.eq(user))
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// The user edits a fact: it is theirs now (confidence 1).
pub async fn edit(
    state: &AppState,
    user: Uuid,
    id: Uuid,
    kind: Option<&str>,
    content: Option<&str>,
) -> Result<memory::Model, ApiError> {
    let txn = begin_write(&state.db, user).await?;
    let found = owned(&txn, user, id).await?;
    let (kind, content) = checked(
        kind.unwrap_or(&found.kind),
        content.unwrap_or(&found.content),
    )?;
    let mut m = found.into_active_model();
    m.kind = Set(kind);
    m.content = Set(content);
    m.confidence = Set(1.0);
    m.updated_at = Set(shared::time::now_micros());
    let edited = m.update(&txn).await?;
    end_write(txn, user).await?;
    Ok(edited)
}

/// Case-insensitive (ASCII) replacement of `needle` in `text`.
pub fn redact(text: &str, needle: &str) -> Option<String> {
    if needle.is_empty() {
        return None;
    }
    let (hay, pin) = if needle.is_ascii() {
        (text.to_ascii_lowercase(), needle.to_ascii_lowercase())
    } else {
        (text.to_owned(), needle.to_owned())
    };
    if !hay.contains(&pin) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in hay.match_indices(&pin) {
        out.push_str(&text[last..at]);
        out.push_str(FORGOTTEN);
        last = at + pin.len();
    }
    out.push_str(&text[last..]);
    Some(out)
}

/// `redact` in every string of a JSON value; whether anything changed.
pub fn redact_value(v: &mut Value, needle: &str) -> bool {
    match v {
        Value::String(s) => match redact(s, needle) {
            Some(r) => {
                *s = r;
                true
            }
            None => false,
        },
        Value::Array(items) => {
            let mut changed = false;
            for i in items {
                changed |= redact_value(i, needle);
            }
            changed
        }
        Value::Object(map) => {
            let mut changed = false;
            for i in map.values_mut() {
                changed |= redact_value(i, needle);
            }
            changed
        }
        _ => false,
    }
}

/// What `forget` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Forgotten {
    pub facts: Vec<Uuid>,
    pub messages: usize,
    pub diaries: usize,
    pub other: usize,
}

/// Forget `words`: the facts mentioning them are deleted, and they are redacted from the
/// messages, diaries, profile, check-ins and conversation titles, in one transaction.
pub async fn forget(state: &AppState, user: Uuid, words: &str) -> Result<Forgotten, ApiError> {
    let words = words.trim();
    if words.chars().count() < 2 || words.chars().count() > 100 {
        return Err(ApiError::validation(
            "要忘记的内容需要 2 到 100 个字 / what to forget must be 2 to 100 characters",
        ));
    }
    let like = format!("%{}%", words.to_lowercase());
    let lower = |c: message::Column| Expr::expr(Func::lower(Expr::col(c)));
    let txn = begin_write(&state.db, user).await?;
    let mut done = Forgotten::default();
    // Facts: every one whose text holds the words (superseded ones too).
    let folded = shared::text::fold(words);
    for f in memory::Entity::find()
        .filter(memory::Column::UserId.eq(user))
        .all(&txn)
        .await?
    {
        if shared::text::fold(&f.content).contains(&folded) {
            done.facts.push(f.id);
        }
    }
    if !done.facts.is_empty() {
        memory::Entity::delete_many()
            .filter(memory::Column::Id.is_in(done.facts.clone()))
            .exec(&txn)
            .await?;
    }
    for m in message::Entity::find()
        .filter(message::Column::UserId.eq(user))
        .filter(lower(message::Column::Content).like(like.as_str()))
        .all(&txn)
        .await?
    {
        if let Some(text) = redact(&m.content, words) {
            let mut row = m.into_active_model();
            row.content = Set(text);
            row.update(&txn).await?;
            done.messages += 1;
        }
    }
    for d in diary::Entity::find()
        .filter(diary::Column::UserId.eq(user))
        .all(&txn)
        .await?
    {
        let mut summary = Value::String(d.summary.clone());
        let (mut insights, mut signals) = (d.key_insights.clone(), d.extracted_signals.clone());
        let changed = redact_value(&mut summary, words)
            | redact_value(&mut insights, words)
            | redact_value(&mut signals, words);
        if changed {
            let mut row = d.into_active_model();
            row.summary = Set(summary.as_str().unwrap_or_default().to_owned());
            row.key_insights = Set(insights);
            row.extracted_signals = Set(signals);
            row.update(&txn).await?;
            done.diaries += 1;
        }
    }
    if let Some(p) = profile::Entity::find_by_id(user).one(&txn).await? {
        let mut data = p.data.clone();
        if let Some(map) = data.as_object_mut() {
            let before = map.len();
            map.retain(|k, v| {
                let mut probe = json!([k, v]);
                !redact_value(&mut probe, words)
            });
            if map.len() != before {
                let mut row = p.into_active_model();
                row.data = Set(data);
                row.update(&txn).await?;
                done.other += 1;
            }
        }
    }
    for c in checkin::Entity::find()
        .filter(checkin::Column::UserId.eq(user))
        .all(&txn)
        .await?
    {
        let (title, body) = (redact(&c.title, words), redact(&c.body, words));
        if title.is_some() || body.is_some() {
            let mut row = c.clone().into_active_model();
            row.title = Set(title.unwrap_or(c.title));
            row.body = Set(body.unwrap_or(c.body));
            row.update(&txn).await?;
            done.other += 1;
        }
    }
    for c in conversation_summary::Entity::find()
        .filter(conversation_summary::Column::UserId.eq(user))
        .all(&txn)
        .await?
    {
        if let Some(summary) = redact(&c.summary, words) {
            let mut row = c.into_active_model();
            row.summary = Set(summary);
            row.update(&txn).await?;
            done.other += 1;
        }
    }
    for c in conversation::Entity::find()
        .filter(conversation::Column::UserId.eq(user))
        .all(&txn)
        .await?
    {
        if let Some(title) = redact(&c.title, words) {
            let mut row = c.into_active_model();
            row.title = Set(title);
            row.update(&txn).await?;
            done.other += 1;
        }
    }
    end_write(txn, user).await?;
    Ok(done)
}

/// The user deletes one fact: it is gone, and its text is redacted where it was kept word for
/// word (a diary that quoted it).
pub async fn delete(state: &AppState, user: Uuid, id: Uuid) -> Result<Forgotten, ApiError> {
    let found = owned(&state.db, user, id).await?;
    let mut done = if found.content.chars().count() >= 2 {
        forget(state, user, &found.content).await?
    } else {
        Forgotten::default()
    };
    // Its text alone may not match itself once folded differently: delete it by id as well.
    let txn = begin_write(&state.db, user).await?;
    let gone = memory::Entity::delete_by_id(id).exec(&txn).await?;
    end_write(txn, user).await?;
    if gone.rows_affected == 1 && !done.facts.contains(&id) {
        done.facts.push(id);
    }
    Ok(done)
}

const CONSOLIDATE_PROMPT: &str = "You keep a long-term memory of facts about the user for their life-planning assistant. \
From the day's messages, find lasting facts worth remembering: health (allergies, conditions, medicines they take), \
people (names and relations), preferences, routines, places (where they live or work). Not moods, not one-off plans. \
Compare with the facts already kept and answer only one JSON object: \
{\"operations\": [{\"op\": \"add\", \"kind\": \"health|person|preference|routine|place|other\", \"content\": \"short fact in the user's language\", \"confidence\": 0.0-1.0, \"source_message_ids\": [\"…\"]}, \
{\"op\": \"update\", \"id\": \"…\", \"content\": \"the same fact, refined\"}, \
{\"op\": \"supersede\", \"id\": \"…\", \"content\": \"the new fact that replaces it\", \"kind\": \"…\", \"source_message_ids\": [\"…\"]}, \
{\"op\": \"drop\", \"id\": \"…\"}]}. Nothing new: {\"operations\": []}.";

/// What one night's consolidation applied.
#[derive(Debug, Default, serde::Serialize)]
pub struct Applied {
    pub status: &'static str,
    pub added: usize,
    pub updated: usize,
    pub superseded: usize,
    pub dropped: usize,
    /// Operations that were not valid (an unknown id, a bad kind): ignored.
    pub ignored: usize,
}

/// Consolidate the user's local `date` (its messages, and its diary when written) into their
/// memories: once per (user, day); no messages → nothing asked.
pub async fn consolidate(
    state: &AppState,
    user: Uuid,
    date: NaiveDate,
) -> Result<Applied, ApiError> {
    let done_before = memory_run::Entity::find()
        .filter(memory_run::Column::UserId.eq(user))
        .filter(memory_run::Column::Day.eq(date))
        .one(&state.db)
        .await?;
    if done_before.is_some() {
        return Ok(Applied {
            status: "exists",
            ..Applied::default()
        });
    }
    let tz = state.timezone(user).await?;
    let (from, to) = (
        crate::events::local_midnight(tz, date),
        crate::events::local_midnight(tz, date + chrono::Duration::days(1)),
    );
    let said = message::Entity::find()
        .filter(message::Column::UserId.eq(user))
        .filter(message::Column::Role.eq("user"))
        .filter(message::Column::CreatedAt.gte(from))
        .filter(message::Column::CreatedAt.lt(to))
        .order_by_asc(message::Column::CreatedAt)
        .all(&state.db)
        .await?;
    if said.is_empty() {
        return Ok(Applied {
            status: "skipped",
            ..Applied::default()
        });
    }
    let facts = active(&state.db, user).await?;
    let kept: String = facts
        .iter()
        .take(300)
        .map(|f| format!("{} ({}): {}", f.id, f.kind, f.content))
        .collect::<Vec<_>>()
        .join("\n");
    let day: String = said
        .iter()
        .map(|m| {
            format!(
                "{} [{}]: {}",
                m.id,
                m.created_at.with_timezone(&tz).format("%H:%M"),
                m.content
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let day: String = day.chars().take(20_000).collect();
    // The day's diary too, when it was written first (the nightly job writes it before).
    let diary = diaries_on(&state.db, user, &[date])
        .await?
        .first()
        .map_or(String::new(), |d| {
            format!("\n\nDiary of {date}: {}", d.summary)
        });
    let completion = state
        .llm
        .complete(
            json!([
                {"role": "system", "content": CONSOLIDATE_PROMPT},
                {"role": "user", "content": format!("Facts kept:\n{kept}\n\nMessages of {date}:\n{day}{diary}")}
            ]),
            serde_json::Map::new(),
        )
        .await
        .map_err(|e| e.to_api_error())?;
    let answer = extract_json_object(&completion.content).ok_or_else(|| {
        shared::llm::LlmError::BadAnswer("no JSON object in the memory answer".into())
            .to_api_error()
    })?;
    let said_ids: HashSet<Uuid> = said.iter().map(|m| m.id).collect();
    let txn = begin_write(&state.db, user).await?;
    // The day's claim first: a second run at the same time stops here and changes nothing.
    let claimed = memory_run::Entity::insert(memory_run::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        day: Set(date),
        summary: Set(json!({})),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([memory_run::Column::UserId, memory_run::Column::Day])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if claimed == 0 {
        return Ok(Applied {
            status: "exists",
            ..Applied::default()
        });
    }
    let mut applied = Applied {
        status: "done",
        ..Applied::default()
    };
    let by_id = |id: &Value| -> Option<&memory::Model> {
        let id: Uuid = id.as_str()?.parse().ok()?;
        facts.iter().find(|f| f.id == id)
    };
    let sources = |op: &Value| -> Vec<Uuid> {
        op["source_message_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str()?.parse().ok())
            .filter(|id| said_ids.contains(id))
            .collect()
    };
    for op in answer["operations"].as_array().into_iter().flatten() {
        let content = op["content"].as_str().unwrap_or_default();
        let ok = match op["op"].as_str().unwrap_or_default() {
            "add" => keep(
                &txn,
                user,
                NewFact {
                    kind: op["kind"].as_str().unwrap_or("other"),
                    content,
                    confidence: op["confidence"].as_f64().unwrap_or(0.7),
                    sources: sources(op),
                    origin: "nightly",
                    learnt_on: date,
                    supersedes: None,
                },
            )
            .await
            .map(|_| applied.added += 1)
            .is_ok(),
            "update" => match by_id(&op["id"]).map(|f| (f, checked(&f.kind, content))) {
                Some((f, Ok((_, content)))) => {
                    let mut row = f.clone().into_active_model();
                    row.content = Set(content);
                    row.updated_at = Set(shared::time::now_micros());
                    row.update(&txn).await?;
                    applied.updated += 1;
                    true
                }
                _ => false,
            },
            "supersede" => match by_id(&op["id"]) {
                Some(old) if checked(&old.kind, content).is_ok() => {
                    let mut row = old.clone().into_active_model();
                    row.status = Set("superseded".into());
                    row.updated_at = Set(shared::time::now_micros());
                    row.update(&txn).await?;
                    let kind = op["kind"].as_str().unwrap_or(&old.kind);
                    keep(
                        &txn,
                        user,
                        NewFact {
                            kind,
                            content,
                            confidence: op["confidence"].as_f64().unwrap_or(old.confidence),
                            sources: sources(op),
                            origin: "nightly",
                            learnt_on: date,
                            supersedes: Some(old.id),
                        },
                    )
                    .await?;
                    applied.superseded += 1;
                    true
                }
                _ => false,
            },
            "drop" => match by_id(&op["id"]) {
                Some(f) => {
                    let mut row = f.clone().into_active_model();
                    row.status = Set("dropped".into());
                    row.updated_at = Set(shared::time::now_micros());
                    row.update(&txn).await?;
                    applied.dropped += 1;
                    true
                }
                None => false,
            },
            _ => false,
        };
        if !ok {
            applied.ignored += 1;
        }
    }
    memory_run::Entity::update_many()
        .col_expr(memory_run::Column::Summary, Expr::value(json!(applied)))
        .filter(memory_run::Column::UserId.eq(user))
        .filter(memory_run::Column::Day.eq(date))
        .exec(&txn)
        .await?;
    end_write(txn, user).await?;
    Ok(applied)
}

/// The weekly job: the same fact kept twice (same kind and folded text) is kept once, the
/// newest. Returns how many were dropped.
pub async fn compact(state: &AppState, user: Uuid) -> Result<usize, ApiError> {
    let txn = begin_write(&state.db, user).await?;
    let facts = active(&txn, user).await?;
    let mut seen = HashSet::new();
    let mut doubles = Vec::new();
    for f in &facts {
        if !seen.insert((f.kind.clone(), shared::text::fold(&f.content))) {
            doubles.push(f.id);
        }
    }
    if !doubles.is_empty() {
        memory::Entity::update_many()
            .col_expr(memory::Column::Status, Expr::value("dropped"))
            .filter(memory::Column::Id.is_in(doubles.clone()))
            .exec(&txn)
            .await?;
    }
    end_write(txn, user).await?;
    Ok(doubles.len())
}

/// Older messages left out of the rolling summary before it is brought up to date.
pub const SUMMARISE_AFTER: usize = 6;
/// Messages one summary call reads at most (the oldest uncovered first).
const SUMMARISE_AT_MOST: u64 = 200;

const SUMMARY_PROMPT: &str = "Summarise the earlier part of this conversation for the assistant's own memory: \
what the user said about themselves, decisions and plans with their dates, open questions, promises made. \
Keep names, dates and numbers exactly. At most 200 words, in the user's language, plain text. \
If a previous summary is given, return it updated with the new messages (one summary, not two).";

/// The conversation's rolling summary, if it has one.
pub async fn summary_of(
    db: &impl ConnectionTrait,
    user: Uuid,
    conversation: Option<Uuid>,
) -> Result<Option<conversation_summary::Model>, ApiError> {
    let Some(conversation) = conversation else {
        return Ok(None);
    };
    Ok(conversation_summary::Entity::find_by_id(conversation)
        .filter(conversation_summary::Column::UserId.eq(user))
        .one(db)
        .await?)
}

/// Bring a conversation's summary up to date in the background (the turn has answered), one
/// at a time per conversation on this instance.
pub fn summarise_later(state: std::sync::Arc<AppState>, user: Uuid, conversation: Option<Uuid>) {
    let Some(conversation) = conversation else {
        return;
    };
    if !state
        .summarising
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(conversation)
    {
        return;
    }
    shared::request_id::spawn_local(async move {
        if let Err(e) = summarise(&state, user, conversation).await {
            tracing::warn!(error = %e, "conversation summary not updated");
        }
        state
            .summarising
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&conversation);
    });
}

/// Summarise the conversation's older messages that its summary does not cover yet (those
/// before the ones a prompt sends word for word) into the summary.
pub async fn summarise(state: &AppState, user: Uuid, conversation: Uuid) -> Result<(), ApiError> {
    let previous = summary_of(&state.db, user, Some(conversation)).await?;
    let mut select = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation))
        .filter(message::Column::UserId.eq(user));
    if let Some(since) = crate::user_state::context_cleared_at(&state.db, user).await? {
        select = select.filter(message::Column::CreatedAt.gte(since));
    }
    if let Some(p) = &previous {
        select = select.filter(message::Column::CreatedAt.gt(p.covers_until));
    }
    let newest_first = select
        .order_by_desc(message::Column::CreatedAt)
        .order_by_desc(message::Column::Id)
        .limit(SUMMARISE_AT_MOST + 100)
        .all(&state.db)
        .await?;
    let keep = crate::engine::verbatim_count(&newest_first, state.chat.history_tokens);
    let older: Vec<&message::Model> = newest_first.iter().skip(keep).rev().collect();
    if older.len() < SUMMARISE_AFTER {
        return Ok(());
    }
    let tz = state.timezone(user).await?;
    let transcript: String = older
        .iter()
        .map(|m| {
            format!(
                "[{}] {}: {}",
                m.created_at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                m.role,
                m.content
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let transcript: String = transcript.chars().take(30_000).collect();
    let before = previous.as_ref().map_or(String::new(), |p| {
        format!("Previous summary:\n{}\n\n", p.summary)
    });
    let completion = state
        .llm
        .complete(
            json!([
                {"role": "system", "content": SUMMARY_PROMPT},
                {"role": "user", "content": format!("{before}Messages:\n{transcript}")}
            ]),
            serde_json::Map::new(),
        )
        .await
        .map_err(|e| e.to_api_error())?;
    let text: String = completion.content.trim().chars().take(2_000).collect();
    if text.is_empty() {
        return Err(shared::llm::LlmError::BadAnswer("an empty summary".into()).to_api_error());
    }
    let (first, last) = match (older.first(), older.last()) {
        (Some(f), Some(l)) => (f.created_at, l.created_at),
        _ => return Ok(()),
    };
    let count = i32::try_from(older.len()).unwrap_or(i32::MAX);
    conversation_summary::Entity::insert(conversation_summary::ActiveModel {
        conversation_id: Set(conversation),
        user_id: Set(user),
        summary: Set(text),
        covers_from: Set(previous.as_ref().map_or(first, |p| p.covers_from)),
        covers_until: Set(last),
        message_count: Set(previous.as_ref().map_or(0, |p| p.message_count) + count),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(conversation_summary::Column::ConversationId)
            .update_columns([
                conversation_summary::Column::Summary,
                conversation_summary::Column::CoversUntil,
                conversation_summary::Column::MessageCount,
                conversation_summary::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    Ok(())
}

/// The local day of `now` in `tz`.
pub fn today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(kind: &str, content: &str, age: i64) -> Recall {
        Recall {
            kind: kind.into(),
            content: content.into(),
            learnt_on: (Utc::now() - chrono::Duration::days(age)).date_naive(),
        }
    }

    #[test]
    fn health_first_then_what_the_message_is_about_within_the_budget() {
        let facts = vec![
            fact("preference", "喜欢喝美式咖啡，不加糖", 1),
            fact("person", "妹妹叫小雨，在杭州读大学", 2),
            fact("health", "对青霉素过敏", 30),
            fact("place", "住在上海徐汇区", 3),
        ];
        let picked = select(&facts, "我妹妹下周来看我", 1_000);
        assert_eq!(picked[0].content, "对青霉素过敏");
        assert_eq!(picked[1].content, "妹妹叫小雨，在杭州读大学");
        assert_eq!(picked.len(), 4, "everything fits");
        // A tight budget keeps the health fact and the relevant one.
        let tight = line_tokens(&facts[2]) + line_tokens(&facts[1]);
        let picked = select(&facts, "我妹妹下周来看我", tight);
        let texts: Vec<&str> = picked.iter().map(|f| f.content.as_str()).collect();
        assert_eq!(texts, ["对青霉素过敏", "妹妹叫小雨，在杭州读大学"]);
    }

    #[test]
    fn a_lines_tokens_are_counted_without_writing_it() {
        for f in [
            fact("health", "对青霉素过敏", 1),
            fact("other", "Reads Dune, twice", 2),
        ] {
            assert_eq!(line_tokens(&f), estimate_tokens(&line(&f)) + 1);
        }
    }

    #[test]
    fn redaction_is_case_insensitive_for_ascii_and_reaches_into_json() {
        assert_eq!(
            redact("I am allergic to Penicillin.", "penicillin").unwrap(),
            "I am allergic to 〔已遗忘〕."
        );
        assert_eq!(
            redact("我对青霉素过敏，青霉素不能用", "青霉素").unwrap(),
            "我对〔已遗忘〕过敏，〔已遗忘〕不能用"
        );
        assert!(redact("nothing here", "青霉素").is_none());
        let mut v = json!({"a": ["x 青霉素", {"b": "青霉素"}], "n": 1});
        assert!(redact_value(&mut v, "青霉素"));
        assert_eq!(
            v,
            json!({"a": ["x 〔已遗忘〕", {"b": "〔已遗忘〕"}], "n": 1})
        );
    }

    #[test]
    fn kinds_and_lengths_are_checked_with_a_bilingual_reason() {
        assert!(checked("Health", " 对青霉素过敏 ").is_ok());
        let e = checked("mood", "开心").unwrap_err();
        assert!(e.message.starts_with("kind 只能是"));
        assert!(checked("other", "").is_err());
        assert!(checked("other", &"字".repeat(201)).is_err());
    }
}
