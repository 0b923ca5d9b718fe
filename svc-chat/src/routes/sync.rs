//! `/sync`: the changes to the caller's events since a cursor, in the original's shape
//! (`{since, until, has_more, changes:{events:{created, updated, deleted}, routines}}`).
//!
//! The cursor is a time from the user's change clock (`events::clock`): every write stamps
//! its rows with the next value inside its transaction, so stamps follow commit order. A page
//! ends at a stamp (a write's rows never straddle two pages) and at most at the clock's
//! committed value, so a write that commits while a client pages is in a later page, never
//! skipped.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::json;
use shared::ApiError;
use shared::entities::{event, event_tombstone};
use shared::internal_auth::UserId;
use shared::time::AppTime;

use crate::events::{self as ev, clock};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncQuery {
    /// A previous answer's `until`; a time without an offset is UTC (the original's
    /// timestamps had none and were UTC). Absent: everything.
    since: Option<AppTime>,
    limit: Option<u64>,
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

enum Change {
    Row(Box<event::Model>),
    Gone(event_tombstone::Model),
}

impl Change {
    fn stamp(&self) -> DateTime<Utc> {
        match self {
            Self::Row(e) => e.changed_at,
            Self::Gone(t) => t.changed_at,
        }
    }
}

pub async fn changes(
    state: web::Data<AppState>,
    UserId(user): UserId,
    q: web::Query<SyncQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::validation("limit must be 1 to 10000"));
    }
    let tz = state.timezone(user).await?;
    let since = q.since.map(|t| t.in_zone(chrono_tz::UTC));
    // Read first: nothing stamped after this is in this answer.
    let floor = since.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    // No clock yet: nothing was written. The cursor stays where it was (not now: a first
    // write committing meanwhile is stamped before now, and would be skipped).
    let Some(head) = clock::committed(&state.db, user).await? else {
        return Ok(HttpResponse::Ok().json(answer(since, floor, false, &[], tz)));
    };
    if head <= floor {
        return Ok(HttpResponse::Ok().json(answer(since, floor, false, &[], tz)));
    }
    // One more than a page from each table tells whether more follow.
    let rows = event::Entity::find()
        .filter(event::Column::UserId.eq(user))
        .filter(event::Column::ChangedAt.gt(floor))
        .filter(event::Column::ChangedAt.lte(head))
        .order_by_asc(event::Column::ChangedAt)
        .order_by_asc(event::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    // A client that starts from nothing has nothing to delete.
    let gone = if since.is_some() {
        event_tombstone::Entity::find()
            .filter(event_tombstone::Column::UserId.eq(user))
            .filter(event_tombstone::Column::ChangedAt.gt(floor))
            .filter(event_tombstone::Column::ChangedAt.lte(head))
            .order_by_asc(event_tombstone::Column::ChangedAt)
            .limit(limit + 1)
            .all(&state.db)
            .await?
    } else {
        Vec::new()
    };
    let mut all: Vec<Change> = rows
        .into_iter()
        .map(|e| Change::Row(Box::new(e)))
        .chain(gone.into_iter().map(Change::Gone))
        .collect();
    all.sort_by_key(Change::stamp);
    if all.len() as u64 <= limit {
        return Ok(HttpResponse::Ok().json(answer(since, head, false, &all, tz)));
    }
    // A page ends after a whole write: the last write's rows are read in full, however many.
    let last = all[usize::try_from(limit).unwrap_or(usize::MAX) - 1].stamp();
    all.retain(|c| c.stamp() < last);
    let group = event::Entity::find()
        .filter(event::Column::UserId.eq(user))
        .filter(event::Column::ChangedAt.eq(last))
        .all(&state.db)
        .await?;
    all.extend(group.into_iter().map(|e| Change::Row(Box::new(e))));
    if since.is_some() {
        let gone = event_tombstone::Entity::find()
            .filter(event_tombstone::Column::UserId.eq(user))
            .filter(event_tombstone::Column::ChangedAt.eq(last))
            .all(&state.db)
            .await?;
        all.extend(gone.into_iter().map(Change::Gone));
    }
    let mut page = all;
    let has_more = changed_between(&state, user, last, head, since.is_some()).await?;
    page.sort_by_key(Change::stamp);
    Ok(HttpResponse::Ok().json(answer(since, last, has_more, &page, tz)))
}

/// Whether anything was stamped in `(after, head]`.
async fn changed_between(
    state: &AppState,
    user: uuid::Uuid,
    after: DateTime<Utc>,
    head: DateTime<Utc>,
    tombstones: bool,
) -> Result<bool, ApiError> {
    let rows = event::Entity::find()
        .filter(event::Column::UserId.eq(user))
        .filter(event::Column::ChangedAt.gt(after))
        .filter(event::Column::ChangedAt.lte(head))
        .count(&state.db)
        .await?;
    let gone = if tombstones {
        event_tombstone::Entity::find()
            .filter(event_tombstone::Column::UserId.eq(user))
            .filter(event_tombstone::Column::ChangedAt.gt(after))
            .filter(event_tombstone::Column::ChangedAt.lte(head))
            .count(&state.db)
            .await?
    } else {
        0
    };
    Ok(rows + gone > 0)
}

fn answer(
    since: Option<DateTime<Utc>>,
    until: DateTime<Utc>,
    has_more: bool,
    page: &[Change],
    tz: chrono_tz::Tz,
) -> serde_json::Value {
    let floor = since.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let (mut created, mut updated, mut deleted) = (Vec::new(), Vec::new(), Vec::new());
    for c in page {
        match c {
            Change::Row(e) if e.created_at > floor => created.push(ev::view(e, tz)),
            Change::Row(e) => updated.push(ev::view(e, tz)),
            Change::Gone(t) => deleted.push(t.id.to_string()),
        }
    }
    json!({
        "since": floor,
        "until": until,
        "has_more": has_more,
        "changes": {
            "events": {"created": created, "updated": updated, "deleted": deleted},
            "routines": {"created": [], "updated": [], "deleted": []},
        },
    })
}

/// `GET /sync/status` → `{user_id, total_events, latest_update, supported_entities}`.
pub async fn status(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let total = event::Entity::find()
        .filter(event::Column::UserId.eq(user))
        .count(&state.db)
        .await?;
    let latest = clock::committed(&state.db, user).await?;
    Ok(HttpResponse::Ok().json(json!({
        "user_id": user,
        "total_events": total,
        "latest_update": latest,
        "supported_entities": ["events", "routines"],
    })))
}
