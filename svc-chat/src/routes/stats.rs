//! `GET /users/me/stats` (**compat**): the original's `UserStatsResponse`, counted from the
//! caller's events and profile.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;
use shared::entities::{event, profile, user};
use shared::internal_auth::UserId;
use shared::{ApiError, ErrorCode};
use uuid::Uuid;

use crate::state::AppState;

/// How many of the user's events have each value of `column`.
async fn count_by(
    state: &AppState,
    user: Uuid,
    column: event::Column,
) -> Result<BTreeMap<String, i64>, ApiError> {
    let rows: Vec<(String, i64)> = event::Entity::find()
        .select_only()
        .column(column)
        .column_as(Expr::col(event::Column::Id).count(), "n")
        .filter(event::Column::UserId.eq(user))
        .group_by(column)
        .into_tuple()
        .all(&state.db)
        .await?;
    Ok(rows.into_iter().collect())
}

pub async fn get(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let account = user::Entity::find_by_id(user)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "User not found"))?;
    let by_status = count_by(&state, user, event::Column::Status).await?;
    let by_category = count_by(&state, user, event::Column::Category).await?;
    let by_type = count_by(&state, user, event::Column::EventType).await?;
    // Statuses are compared without case: the events' vocabulary is the original's upper
    // case, and rows written before it was are lower case.
    let status = |name: &str| -> i64 {
        by_status
            .iter()
            .filter(|(s, _)| s.eq_ignore_ascii_case(name))
            .map(|(_, n)| n)
            .sum()
    };
    // The profile's traits are its data points; each carries the confidence it was learnt with.
    let traits = profile::Entity::find_by_id(user)
        .one(&state.db)
        .await?
        .and_then(|p| p.data.as_object().cloned())
        .unwrap_or_default();
    let confidence: BTreeMap<&String, f64> = traits
        .iter()
        .filter_map(|(k, v)| Some((k, v.get("confidence")?.as_f64()?)))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "user_id": account.login,
        "total_events": by_status.values().sum::<i64>(),
        "pending_events": status("PENDING"),
        "completed_events": status("COMPLETED"),
        "cancelled_events": status("CANCELLED"),
        "events_by_category": by_category,
        "events_by_type": by_type,
        "profile_points": traits.len(),
        "decision_confidence": confidence,
        "last_active_at": account.last_active_at,
        "created_at": account.created_at,
    })))
}
