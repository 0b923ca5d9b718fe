//! Diaries and profiles.
//!
//! A diary is for one (user, date): the messages of that date in the user's time zone (not
//! "the last 24 hours"), skipped when there are none, written by the model as JSON
//! `{summary, key_insights, extracted_signals}` and validated; a second run for the same
//! (user, date) returns the first diary (the table's unique key decides a race).
//!
//! Profiles: the daily update merges the day's extracted signals (`[{key, value,
//! confidence}]`) into the profile; the weekly update asks the model to consolidate the last
//! seven diaries. Every update is logged with its changes and confidence delta.

use chrono::{Duration, NaiveDate, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use shared::ApiError;
use shared::entities::{diary, message, profile, profile_log};
use shared::llm::{LlmError, extract_json_object};
use uuid::Uuid;

use crate::events::local_midnight;
use crate::state::AppState;

const DIARY_PROMPT: &str = "Write the user's diary for the day from these chat messages. \
Answer with one JSON object only: {\"summary\": string (2-5 sentences, the user's language), \
\"key_insights\": [string], \"extracted_signals\": [{\"key\": string, \"value\": string, \
\"confidence\": number 0..1}]} — signals are stable facts or preferences about the user.";

const WEEKLY_PROMPT: &str = "Consolidate these diaries of one week into the user's profile. \
Answer with one JSON object only: {\"traits\": [{\"key\": string, \"value\": string, \
\"confidence\": number 0..1}]}.";

pub enum DiaryOutcome {
    Written(diary::Model),
    Existing(diary::Model),
    Skipped,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Signal {
    pub key: String,
    pub value: String,
    pub confidence: f64,
}

fn signals(v: &Value) -> Result<Vec<Signal>, String> {
    let list = v.as_array().ok_or("signals must be an array")?;
    list.iter()
        .map(|s| {
            let key = s["key"]
                .as_str()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 64)
                .ok_or("a signal needs a key")?;
            let value = match &s["value"] {
                Value::String(v) => v.clone(),
                Value::Null => return Err("a signal needs a value".to_owned()),
                other => other.to_string(),
            };
            let confidence = s["confidence"]
                .as_f64()
                .filter(|c| (0.0..=1.0).contains(c))
                .unwrap_or(0.5);
            Ok(Signal {
                key: key.to_owned(),
                value: value.chars().take(200).collect(),
                confidence,
            })
        })
        .collect()
}

/// Most insights kept from one diary, and the longest one.
const MAX_INSIGHTS: usize = 20;
const MAX_INSIGHT_CHARS: usize = 300;

/// One insight's text: a string, or the text field of an object (`{text}`, `{content}`,
/// `{insight}`), or any other value written out.
fn insight_text(v: &Value) -> Option<String> {
    let text = match v {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        Value::Object(o) => ["text", "content", "insight", "description"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))
            .map_or_else(|| v.to_string(), str::to_owned),
        other => other.to_string(),
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(MAX_INSIGHT_CHARS).collect())
}

/// The insights in whatever shape the model wrote them: a list (of strings or objects), an
/// object of lists by topic (the original UniLife's shape: `{"work": [...], "health": [...]}`,
/// read as `work: …`), one string, or nothing.
fn insights(v: &Value) -> Vec<String> {
    let list: Vec<String> = match v {
        Value::Array(items) => items.iter().filter_map(insight_text).collect(),
        Value::Object(topics) => topics
            .iter()
            .flat_map(|(topic, items)| {
                let items = match items {
                    Value::Array(a) => a.iter().filter_map(insight_text).collect(),
                    one => insight_text(one).into_iter().collect::<Vec<_>>(),
                };
                items.into_iter().map(move |i| format!("{topic}: {i}"))
            })
            .collect(),
        other => insight_text(other).into_iter().collect(),
    };
    list.into_iter().take(MAX_INSIGHTS).collect()
}

/// Validate the model's diary JSON. Only the summary is required: insights and signals in an
/// unexpected shape are normalised (or dropped) rather than losing the day's diary.
pub fn validate_diary(v: &Value) -> Result<(String, Vec<String>, Vec<Signal>), String> {
    let summary = v["summary"]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or("summary must be a non-empty string")?;
    let insights = insights(&v["key_insights"]);
    let sig = match &v["extracted_signals"] {
        Value::Null => Vec::new(),
        // `{"sport": "running"}`: a map of key to value.
        Value::Object(map) => signals(&Value::Array(
            map.iter()
                .map(|(k, v)| serde_json::json!({"key": k, "value": v}))
                .collect(),
        ))?,
        list => signals(list)?,
    };
    Ok((summary.chars().take(4000).collect(), insights, sig))
}

#[tracing::instrument(name = "diary.generate", skip_all, fields(user.id = %user, %date))]
pub async fn generate(
    state: &AppState,
    user: Uuid,
    date: NaiveDate,
) -> Result<DiaryOutcome, ApiError> {
    if let Some(existing) = find(state, user, date).await? {
        return Ok(DiaryOutcome::Existing(existing));
    }
    let tz = state.timezone(user).await?;
    let (from, to) = (
        local_midnight(tz, date),
        local_midnight(tz, date + Duration::days(1)),
    );
    let messages = message::Entity::find()
        .filter(message::Column::UserId.eq(user))
        .filter(message::Column::CreatedAt.gte(from))
        .filter(message::Column::CreatedAt.lt(to))
        .order_by_asc(message::Column::CreatedAt)
        .all(&state.db)
        .await?;
    if messages.is_empty() {
        return Ok(DiaryOutcome::Skipped);
    }
    let conversations: std::collections::HashSet<Uuid> =
        messages.iter().map(|m| m.conversation_id).collect();
    let transcript: String = messages
        .iter()
        .map(|m| {
            format!(
                "[{}] {}: {}",
                m.created_at.with_timezone(&tz).format("%H:%M"),
                m.role,
                m.content
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let transcript: String = transcript.chars().take(20_000).collect();
    let completion = state
        .llm
        .complete(
            json!([{"role": "system", "content": DIARY_PROMPT}, {"role": "user", "content": format!("Date: {date}\n{transcript}")}]),
            serde_json::Map::new(),
        )
        .await
        .map_err(|e| e.to_api_error())?;
    let parsed = extract_json_object(&completion.content)
        .ok_or_else(|| LlmError::BadAnswer("no JSON object".into()))
        .and_then(|v| validate_diary(&v).map_err(LlmError::BadAnswer))
        .map_err(|e| e.to_api_error())?;
    let (summary, insights, sig) = parsed;
    let row = diary::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        diary_date: Set(date),
        summary: Set(summary),
        key_insights: Set(json!(insights)),
        extracted_signals: Set(json!(sig)),
        conversation_count: Set(i32::try_from(conversations.len()).unwrap_or(i32::MAX)),
        message_count: Set(i32::try_from(messages.len()).unwrap_or(i32::MAX)),
        created_at: Set(Utc::now()),
    };
    let inserted = diary::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([diary::Column::UserId, diary::Column::DiaryDate])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&state.db)
        .await?;
    let saved = find(state, user, date)
        .await?
        .ok_or_else(|| ApiError::internal("diary vanished"))?;
    Ok(if inserted == 1 {
        DiaryOutcome::Written(saved)
    } else {
        DiaryOutcome::Existing(saved)
    })
}

pub async fn find(
    state: &AppState,
    user: Uuid,
    date: NaiveDate,
) -> Result<Option<diary::Model>, ApiError> {
    Ok(diary::Entity::find()
        .filter(diary::Column::UserId.eq(user))
        .filter(diary::Column::DiaryDate.eq(date))
        .one(&state.db)
        .await?)
}

pub fn view(d: &diary::Model) -> Value {
    json!({
        "id": d.id, "user_id": d.user_id, "diary_date": d.diary_date, "summary": d.summary,
        "key_insights": d.key_insights, "extracted_signals": d.extracted_signals,
        "conversation_count": d.conversation_count, "message_count": d.message_count,
        "created_at": d.created_at,
    })
}

/// Merge signals into the profile: a new key is taken at its confidence; a repeated value
/// gains confidence; a different value replaces the old one only with higher confidence.
/// Returns the changes and the summed confidence delta.
pub fn merge(data: &mut serde_json::Map<String, Value>, incoming: &[Signal]) -> (Vec<Value>, f64) {
    let mut changes = Vec::new();
    let mut delta = 0.0;
    for s in incoming {
        let now = Utc::now();
        match data.get(&s.key) {
            None => {
                data.insert(
                    s.key.clone(),
                    json!({"value": s.value, "confidence": s.confidence, "updated_at": now}),
                );
                changes.push(
                    json!({"key": s.key, "from": null, "to": s.value, "confidence": s.confidence}),
                );
                delta += s.confidence;
            }
            Some(old) => {
                let old_conf = old["confidence"].as_f64().unwrap_or(0.0);
                if old["value"].as_str() == Some(s.value.as_str()) {
                    let new_conf = (old_conf + (1.0 - old_conf) * s.confidence * 0.5).min(1.0);
                    data.insert(
                        s.key.clone(),
                        json!({"value": s.value, "confidence": new_conf, "updated_at": now}),
                    );
                    changes.push(json!({"key": s.key, "from": s.value, "to": s.value, "confidence": new_conf}));
                    delta += new_conf - old_conf;
                } else if s.confidence > old_conf {
                    changes.push(json!({"key": s.key, "from": old["value"], "to": s.value, "confidence": s.confidence}));
                    data.insert(
                        s.key.clone(),
                        json!({"value": s.value, "confidence": s.confidence, "updated_at": now}),
                    );
                    delta += s.confidence - old_conf;
                }
            }
        }
    }
    (changes, delta)
}

async fn apply(
    state: &AppState,
    user: Uuid,
    job: &str,
    date: NaiveDate,
    result: Result<Vec<Signal>, ApiError>,
) -> Result<profile_log::Model, ApiError> {
    let now = Utc::now();
    let (changes, delta, status, error) = match result {
        Ok(sig) if sig.is_empty() => (vec![], 0.0, "skipped", None),
        Ok(sig) => {
            let existing = profile::Entity::find_by_id(user).one(&state.db).await?;
            let mut data = existing
                .as_ref()
                .and_then(|p| p.data.as_object().cloned())
                .unwrap_or_default();
            let (changes, delta) = merge(&mut data, &sig);
            let row = profile::ActiveModel {
                user_id: Set(user),
                data: Set(Value::Object(data)),
                updated_at: Set(now),
            };
            if existing.is_some() {
                row.update(&state.db).await?;
            } else {
                row.insert(&state.db).await?;
            }
            (changes, delta, "applied", None)
        }
        Err(e) => (
            vec![],
            0.0,
            "failed",
            Some(format!("{}: {}", e.code, e.message)),
        ),
    };
    Ok(profile_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        job_type: Set(job.to_owned()),
        target_date: Set(date),
        changes: Set(json!(changes)),
        confidence_delta: Set(delta),
        status: Set(status.to_owned()),
        error: Set(error),
        created_at: Set(now),
    }
    .insert(&state.db)
    .await?)
}

/// Merge the signals of the diary of `date` into the profile.
pub async fn daily_profile(
    state: &AppState,
    user: Uuid,
    date: NaiveDate,
) -> Result<profile_log::Model, ApiError> {
    let sig = match find(state, user, date).await? {
        Some(d) => signals(&d.extracted_signals).map_err(ApiError::internal),
        None => Ok(vec![]),
    };
    apply(state, user, "daily", date, sig).await
}

/// Consolidate the seven diaries ending at `date` with the model.
pub async fn weekly_profile(
    state: &AppState,
    user: Uuid,
    date: NaiveDate,
) -> Result<profile_log::Model, ApiError> {
    let diaries = diary::Entity::find()
        .filter(diary::Column::UserId.eq(user))
        .filter(diary::Column::DiaryDate.gt(date - Duration::days(7)))
        .filter(diary::Column::DiaryDate.lte(date))
        .order_by_asc(diary::Column::DiaryDate)
        .all(&state.db)
        .await?;
    if diaries.is_empty() {
        return apply(state, user, "weekly", date, Ok(vec![])).await;
    }
    let text: Vec<String> = diaries
        .iter()
        .map(|d| {
            format!(
                "{}: {} signals {}",
                d.diary_date, d.summary, d.extracted_signals
            )
        })
        .collect();
    let result = async {
        let completion = state
            .llm
            .complete(json!([{"role": "system", "content": WEEKLY_PROMPT}, {"role": "user", "content": text.join("\n")}]), serde_json::Map::new())
            .await
            .map_err(|e| e.to_api_error())?;
        let v = extract_json_object(&completion.content)
            .ok_or_else(|| LlmError::BadAnswer("no JSON object".into()).to_api_error())?;
        signals(&v["traits"]).map_err(|e| LlmError::BadAnswer(e).to_api_error())
    }
    .await;
    apply(state, user, "weekly", date, result).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_signals_gains_and_replaces_by_confidence() {
        let mut data = serde_json::Map::new();
        let s = |k: &str, v: &str, c: f64| Signal {
            key: k.into(),
            value: v.into(),
            confidence: c,
        };
        let (c, d) = merge(&mut data, &[s("sport", "running", 0.6)]);
        assert_eq!((c.len(), d), (1, 0.6));
        let (_, d) = merge(&mut data, &[s("sport", "running", 0.6)]);
        assert!(d > 0.0 && data["sport"]["confidence"].as_f64().unwrap() > 0.6);
        let (c, _) = merge(&mut data, &[s("sport", "swimming", 0.3)]);
        assert!(c.is_empty(), "a weaker different value does not replace");
        assert_eq!(data["sport"]["value"], "running");
        assert!(
            validate_diary(&json!({"summary": "", "key_insights": [], "extracted_signals": []}))
                .is_err()
        );
    }

    #[test]
    fn insights_in_other_shapes_are_normalised_and_only_a_missing_summary_fails() {
        let diary = |insights: Value| {
            validate_diary(
                &json!({"summary": "ok", "key_insights": insights, "extracted_signals": []}),
            )
            .map(|(_, i, _)| i)
        };
        assert_eq!(diary(json!(["早起", "跑步"])).unwrap(), ["早起", "跑步"]);
        assert_eq!(
            diary(json!({"work": ["写完报告"], "health": ["吃了布洛芬", "  "]})).unwrap(),
            ["health: 吃了布洛芬", "work: 写完报告"]
        );
        assert_eq!(diary(json!("只有一条")).unwrap(), ["只有一条"]);
        assert_eq!(
            diary(json!([{"text": "对象里的"}, {"other": 1}, null, 3])).unwrap(),
            ["对象里的", "{\"other\":1}", "3"]
        );
        assert!(diary(Value::Null).unwrap().is_empty());
        assert_eq!(diary(json!(vec!["x"; 50])).unwrap().len(), MAX_INSIGHTS);
        let (_, _, signals) = validate_diary(&json!({
            "summary": "ok", "key_insights": [], "extracted_signals": {"sport": "running"}
        }))
        .unwrap();
        assert_eq!(
            (signals[0].key.as_str(), signals[0].value.as_str()),
            ("sport", "running")
        );
        assert!(validate_diary(&json!({"key_insights": {"work": ["x"]}})).is_err());
    }
}
