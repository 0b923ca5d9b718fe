//! The app's one chat timeline across all of the caller's conversations (**compat**):
//! `GET /messages/history?before=&limit=` newest first, and `GET /messages/history/dates`.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::json;
use shared::ApiError;
use shared::entities::message;
use shared::internal_auth::UserId;

use crate::state::AppState;

const MAX_LIMIT: u64 = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    limit: Option<u64>,
    before: Option<String>,
    /// The original's clients send it; the caller's token decides whose history it is.
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

/// A `before` cursor: RFC 3339, or a time without offset, which is UTC (the original wrote its
/// times so, and the app sends back what it got). A `+` that the query string turned into a
/// space is read as `+`.
pub fn parse_before(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    let rfc = |s: &str| DateTime::parse_from_rfc3339(s).ok().map(|t| t.to_utc());
    if let Some(t) = rfc(raw) {
        return Some(t);
    }
    if let Some((head, tail)) = raw.rsplit_once(' ')
        && head.len() >= 19
        && let Some(t) = rfc(&format!("{head}+{tail}"))
    {
        return Some(t);
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(t.and_utc());
        }
    }
    None
}

pub async fn history(
    state: web::Data<AppState>,
    UserId(user): UserId,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::validation(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let mut select = message::Entity::find().filter(message::Column::UserId.eq(user));
    if let Some(raw) = query.before.as_deref().filter(|s| !s.trim().is_empty()) {
        let before = parse_before(raw).ok_or_else(|| {
            ApiError::validation(format!(
                "before must be a date-time such as 2026-12-03T08:30:00Z (got {raw:?})"
            ))
        })?;
        select = select.filter(message::Column::CreatedAt.lt(before));
    }
    let rows = select
        .order_by_desc(message::Column::CreatedAt)
        .order_by_desc(message::Column::Id)
        .limit(limit)
        .all(&state.db)
        .await?;
    let out: Vec<_> = rows
        .iter()
        .map(|m| json!({"id": m.id, "conversation_id": m.conversation_id, "role": m.role, "content": m.content, "created_at": m.created_at}))
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatesQuery {
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

/// Every date with a message, as `YYYY-MM-DD` in the user's time zone, newest first.
pub async fn dates(
    state: web::Data<AppState>,
    UserId(user): UserId,
    _query: web::Query<DatesQuery>,
) -> Result<HttpResponse, ApiError> {
    let tz = state.timezone(user).await?;
    let times: Vec<DateTime<Utc>> = message::Entity::find()
        .select_only()
        .column(message::Column::CreatedAt)
        .filter(message::Column::UserId.eq(user))
        .into_tuple()
        .all(&state.db)
        .await?;
    let days: std::collections::BTreeSet<_> = times
        .iter()
        .map(|t| t.with_timezone(&tz).date_naive())
        .collect();
    let out: Vec<String> = days.iter().rev().map(|d| d.to_string()).collect();
    Ok(HttpResponse::Ok().json(out))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn a_cursor_is_rfc_3339_or_a_utc_time_without_offset() {
        let want: DateTime<Utc> = "2026-12-01T02:00:00Z".parse().unwrap();
        for raw in [
            "2026-12-01T02:00:00Z",
            "2026-12-01T10:00:00+08:00",
            "2026-12-01T10:00:00 08:00",
            "2026-12-01T02:00:00",
            "2026-12-01 02:00:00.000000",
        ] {
            assert_eq!(parse_before(raw), Some(want), "{raw}");
        }
        assert_eq!(parse_before("yesterday"), None);
    }
}
