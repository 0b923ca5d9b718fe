//! The original's `user_profiles`: one JSON document per user (`profile_data`), whose shape
//! changed over time: sections of traits with a section confidence (`relationships`,
//! `identity`, `preferences`, `habits`), later a preferences map, `explicit_rules` and
//! `learned_patterns` (pattern → confidence). Here a profile maps a trait key to `{value,
//! confidence, updated_at}`; each original value becomes one trait, `section.field`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, DbErr, EntityTrait, Set};
use serde_json::{Map, Value, json};
use shared::entities::profile;

use super::owners::Owners;
use super::source::Source;
use super::summary::Summary;
use super::values;

/// Bookkeeping in the original document, not traits.
const NOT_TRAITS: &[&str] = &["id", "user_id", "created_at", "updated_at", "total_points"];

pub async fn import(
    src: &Source,
    txn: &DatabaseTransaction,
    owners: &Owners,
    summary: &mut Summary,
) -> Result<(), DbErr> {
    let table = summary.table("profiles");
    let Some(rows) = src.rows("user_profiles").await? else {
        table.absent = true;
        return Ok(());
    };
    for row in rows {
        table.read += 1;
        let original = row.get("id").or(row.get("user_id")).unwrap_or("?");
        let owner = match owners.resolve(row.get("user_id")) {
            Ok(owner) => owner,
            Err(reason) => {
                table.skip(original, reason);
                continue;
            }
        };
        if profile::Entity::find_by_id(owner.id)
            .one(txn)
            .await?
            .is_some()
        {
            table.existing += 1;
            continue;
        }
        let document = match row.get("profile_data").map(values::json) {
            Some(Ok(Value::Object(o))) => o,
            Some(Ok(_)) => {
                table.skip(original, "profile_data is not a JSON object");
                continue;
            }
            Some(Err(e)) => {
                table.skip(original, format!("profile_data {e}"));
                continue;
            }
            None => {
                table.skip(original, "no profile_data");
                continue;
            }
        };
        let updated_at = row
            .get("updated_at")
            .and_then(|v| values::instant(v, Tz::UTC))
            .unwrap_or_else(Utc::now);
        profile::ActiveModel {
            user_id: Set(owner.id),
            data: Set(Value::Object(traits(&document, updated_at))),
            updated_at: Set(updated_at),
        }
        .insert(txn)
        .await?;
        table.created += 1;
    }
    Ok(())
}

/// Every known value of the document as a trait. A section's own `confidence` applies to its
/// fields; what the user set or said outright (no confidence given) counts as certain.
pub fn traits(document: &Map<String, Value>, updated_at: DateTime<Utc>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |key: String, value: &Value, confidence: f64| {
        if known(value) {
            out.insert(
                key,
                json!({"value": value, "confidence": confidence.clamp(0.0, 1.0), "updated_at": updated_at}),
            );
        }
    };
    for (name, value) in document {
        if NOT_TRAITS.contains(&name.as_str()) {
            continue;
        }
        match value {
            Value::Object(fields) if name == "learned_patterns" => {
                for (pattern, confidence) in fields {
                    if let Some(c) = confidence.as_f64() {
                        put(format!("{name}.{pattern}"), &Value::Bool(true), c);
                    }
                }
            }
            Value::Object(fields) => {
                let confidence = fields
                    .get("confidence")
                    .and_then(Value::as_f64)
                    .unwrap_or(1.0);
                for (field, v) in fields {
                    if !matches!(field.as_str(), "confidence" | "evidence_count") {
                        put(format!("{name}.{field}"), v, confidence);
                    }
                }
            }
            other => put(name.clone(), other, 1.0),
        }
    }
    out
}

/// Not a placeholder: not null, empty or the original's `unknown`.
fn known(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty() && s != "unknown",
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}
