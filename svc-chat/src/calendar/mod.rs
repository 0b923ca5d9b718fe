//! Calendar subscription: a secret address per user that a calendar app (Apple Calendar,
//! Google Calendar, Outlook) polls for the user's events as iCalendar.
//!
//! The address holds 256 random bits; only their SHA-256 is stored, so the address is shown
//! once, when it is made. Making a new one replaces the old (which stops working at once);
//! revoking deletes it. An unknown or revoked address is answered 404, like any other.

pub mod ics;
pub mod medications;
pub mod vtimezone;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use sha2::{Digest, Sha256};
use shared::entities::{calendar_feed, event};
use shared::{ApiError, ErrorCode};
use uuid::Uuid;

/// How far back single events are in the feed (routines are there whatever their start).
pub const HISTORY_DAYS: i64 = 180;
/// At most this many events in a feed: the latest.
pub const MAX_EVENTS: u64 = 5000;
/// The alarm a new feed has unless asked otherwise: the app's own event reminder lead.
pub const DEFAULT_ALARM_MINUTES: i32 = shared::contracts::EVENT_REMINDER_LEAD_MINUTES as i32;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new feed for `user` (replacing any): the token to put in its address, and the row.
pub async fn create<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    alarm_minutes: Option<i32>,
    include_medications: bool,
) -> Result<(String, calendar_feed::Model), ApiError> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let row = calendar_feed::Model {
        user_id: user,
        token_hash: hash(&token),
        alarm_minutes,
        include_medications,
        created_at: Utc::now(),
        last_fetched_at: None,
    };
    calendar_feed::Entity::insert(calendar_feed::ActiveModel::from(row.clone()))
        .on_conflict(
            OnConflict::column(calendar_feed::Column::UserId)
                .update_columns([
                    calendar_feed::Column::TokenHash,
                    calendar_feed::Column::AlarmMinutes,
                    calendar_feed::Column::IncludeMedications,
                    calendar_feed::Column::CreatedAt,
                    calendar_feed::Column::LastFetchedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok((token, row))
}

pub async fn get<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
) -> Result<Option<calendar_feed::Model>, ApiError> {
    Ok(calendar_feed::Entity::find_by_id(user).one(db).await?)
}

/// Revoke `user`'s feed; whether there was one.
pub async fn revoke<C: ConnectionTrait>(db: &C, user: Uuid) -> Result<bool, ApiError> {
    let done = calendar_feed::Entity::delete_by_id(user).exec(db).await?;
    Ok(done.rows_affected > 0)
}

fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::CalendarFeedNotFound,
        "no such calendar feed (revoked or replaced)",
    )
}

/// The feed a token opens, noting the fetch (at most once a minute, so polling apps do not
/// write on every request).
pub async fn open<C: ConnectionTrait>(
    db: &C,
    token: &str,
) -> Result<calendar_feed::Model, ApiError> {
    // A token is 43 URL-safe characters; anything else is not one of ours.
    if token.len() != 43
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(not_found());
    }
    let feed = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::TokenHash.eq(hash(token)))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let now = Utc::now();
    if feed
        .last_fetched_at
        .is_none_or(|t| now - t >= Duration::minutes(1))
    {
        // Only this address' row (a revoke or a new address may have come in between), and
        // a failed note does not fail the feed.
        let noted = calendar_feed::Entity::update_many()
            .col_expr(
                calendar_feed::Column::LastFetchedAt,
                sea_orm::sea_query::Expr::value(Some(now)),
            )
            .filter(calendar_feed::Column::UserId.eq(feed.user_id))
            .filter(calendar_feed::Column::TokenHash.eq(&feed.token_hash))
            .exec(db)
            .await;
        if let Err(e) = noted {
            tracing::warn!(error = %e, "could not note the calendar feed's fetch");
        }
    }
    Ok(feed)
}

/// The events a user's feed shows: every template, and the other events of the last
/// `HISTORY_DAYS` and the future (by day, start or due time), the latest `MAX_EVENTS`.
pub async fn events<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<event::Model>, ApiError> {
    let since = now - Duration::days(HISTORY_DAYS);
    let recent = Condition::any()
        .add(event::Column::IsTemplate.eq(true))
        .add(event::Column::EventDate.gte(since))
        .add(event::Column::StartTime.gte(since))
        .add(event::Column::EndTime.gte(since));
    let mut rows = event::Entity::find()
        .filter(event::Column::UserId.eq(user))
        .filter(recent)
        .order_by_desc(event::Column::UpdatedAt)
        .limit(MAX_EVENTS)
        .all(db)
        .await?;
    // Templates first, so their instances find them; then in time order (a stable file).
    rows.sort_by_key(|e| {
        (
            e.is_template != Some(true),
            e.start_time.or(e.event_date).or(e.end_time),
            e.id,
        )
    });
    Ok(rows)
}
