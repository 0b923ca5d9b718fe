//! The original's `user_diaries` (the observer's daily diaries, in the database until the
//! original moved them to per-user `memory.md` files, which are not imported). One per user
//! and day, as here.

use chrono::Utc;
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, Set,
};
use serde_json::{Value, json};
use shared::entities::diary;

use super::owners::Owners;
use super::source::Source;
use super::summary::{Summary, TableSummary};
use super::{ids, values};

pub async fn import(
    src: &Source,
    txn: &DatabaseTransaction,
    owners: &Owners,
    summary: &mut Summary,
) -> Result<(), DbErr> {
    let table = summary.table("diaries");
    let Some(rows) = src.rows("user_diaries").await? else {
        table.absent = true;
        return Ok(());
    };
    for row in rows {
        table.read += 1;
        let Some(original) = row.get("id") else {
            table.skip("?", "no id");
            continue;
        };
        let owner = match owners.resolve(row.get("user_id")) {
            Ok(owner) => owner,
            Err(reason) => {
                table.skip(original, reason);
                continue;
            }
        };
        let Some(date) = row.get("diary_date").and_then(values::date) else {
            table.skip(original, "no readable diary_date");
            continue;
        };
        let id = ids::our_id("diary", original);
        let same_day = diary::Entity::find()
            .filter(diary::Column::UserId.eq(owner.id))
            .filter(diary::Column::DiaryDate.eq(date))
            .one(txn)
            .await?;
        if same_day.is_some() || diary::Entity::find_by_id(id).one(txn).await?.is_some() {
            table.existing += 1;
            continue;
        }
        let key_insights = json_or(
            row.get("key_insights"),
            json!({}),
            "key_insights",
            original,
            table,
        );
        let signals = json_or(
            row.get("extracted_signals"),
            json!([]),
            "extracted_signals",
            original,
            table,
        );
        let count = |c: &str| {
            row.get(c)
                .and_then(values::integer)
                .and_then(|n| i32::try_from(n).ok())
                .unwrap_or(0)
        };
        diary::ActiveModel {
            id: Set(id),
            user_id: Set(owner.id),
            diary_date: Set(date),
            summary: Set(row.raw("summary").unwrap_or_default().to_owned()),
            key_insights: Set(key_insights),
            extracted_signals: Set(with_keys(signals)),
            conversation_count: Set(count("conversation_count")),
            message_count: Set(count("message_count")),
            created_at: Set(row
                .get("created_at")
                .and_then(|v| values::instant(v, Tz::UTC))
                .unwrap_or_else(Utc::now)),
        }
        .insert(txn)
        .await?;
        table.created += 1;
    }
    Ok(())
}

/// The column's JSON; `default` (with a note) when it is not JSON.
fn json_or(
    raw: Option<&str>,
    default: Value,
    column: &str,
    original: &str,
    table: &mut TableSummary,
) -> Value {
    match raw.map(values::json) {
        None | Some(Ok(Value::Null)) => default,
        Some(Ok(v)) => v,
        Some(Err(e)) => {
            table.note(original, format!("{column} {e}; left empty"));
            default
        }
    }
}

/// The original's signals are `{type, value, confidence, evidence}`; the profile job here
/// reads a signal's `key`, so each gets its `type` as `key` (the rest is kept as it was).
fn with_keys(signals: Value) -> Value {
    match signals {
        Value::Array(list) => Value::Array(
            list.into_iter()
                .map(|s| match s {
                    Value::Object(mut o) if !o.contains_key("key") => {
                        if let Some(t) = o.get("type").cloned() {
                            o.insert("key".into(), t);
                        }
                        Value::Object(o)
                    }
                    other => other,
                })
                .collect(),
        ),
        other => other,
    }
}
