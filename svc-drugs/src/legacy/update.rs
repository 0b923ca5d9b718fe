//! The original `PUT /api/drugs/{id}`: name and dates only, as text; `""` or `null` clears a
//! date.

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, Set};
use serde::Deserialize;
use serde_json::Value;
use shared::entities::drug;
use uuid::Uuid;

use super::{LegacyError, items::items};
use crate::cabinet;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
struct LegacyUpdate {
    name: Option<String>,
    production_date: Option<String>,
    expiry_date: Option<String>,
}

/// `""` (or null) clears a date; anything else must be `YYYY-MM-DD`.
fn legacy_date(field: &str, raw: Option<String>) -> Result<Option<Option<NaiveDate>>, LegacyError> {
    match raw.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(s) => s.parse().map(|d| Some(Some(d))).map_err(|_| {
            let label = if field == "expiry_date" {
                "有效期"
            } else {
                "生产日期"
            };
            LegacyError::Invalid(format!(
                "{label}格式不对，请填写 YYYY-MM-DD 格式的日期，或留空"
            ))
        }),
    }
}

/// Change a drug's name and dates; the drug in the list shape.
pub async fn update(
    state: &AppState,
    user: Uuid,
    id: Uuid,
    raw: Value,
) -> Result<Value, LegacyError> {
    // Explicit nulls clear too, as in the original.
    let input: LegacyUpdate = serde_json::from_value(raw.clone()).map_err(|_| {
        LegacyError::Invalid(
            "请求内容有误：name、production_date、expiry_date 应为文字或 null".into(),
        )
    })?;
    let d = cabinet::owned(state, user, id).await?;
    let mut m: drug::ActiveModel = d.into();
    if let Some(name) = input.name.map(|n| n.trim().to_owned()) {
        if name.is_empty() || name.chars().count() > 200 {
            return Err(LegacyError::Invalid(
                "药品名称不能为空，最多 200 个字".into(),
            ));
        }
        m.name = Set(name);
    }
    for (field, value) in [
        ("production_date", input.production_date),
        ("expiry_date", input.expiry_date),
    ] {
        let parsed = if raw.get(field).is_some_and(Value::is_null) {
            Some(None)
        } else {
            legacy_date(field, value)?
        };
        if let Some(date) = parsed {
            if field == "production_date" {
                m.production_date = Set(date);
            } else {
                m.expiry_date = Set(date);
            }
        }
    }
    m.updated_at = Set(Utc::now());
    let saved = m.update(&state.db).await?;
    let mut items = items(state, vec![saved]).await?;
    Ok(items.pop().unwrap_or_default())
}
