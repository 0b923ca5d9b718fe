//! Adding, reading, changing and deleting a user's medication plans. A plan is for one of the
//! user's own drugs; its time zone is the user's unless the schedule names one.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};
use shared::entities::medication_plan;
use uuid::Uuid;

use super::input::PlanInput;
use super::views::PlanView;
use super::{PlanError, repo, supply};
use crate::state::AppState;

pub(super) async fn owned(
    state: &AppState,
    user: Uuid,
    id: Uuid,
) -> Result<medication_plan::Model, PlanError> {
    repo::owned(&state.db, user, id)
        .await?
        .ok_or(PlanError::PlanNotFound)
}

/// A plan is for one of the user's own drugs.
async fn check_drug(state: &AppState, user: Uuid, drug: Uuid) -> Result<(), PlanError> {
    crate::cabinet::owned(state, user, drug).await?;
    Ok(())
}

pub async fn create(state: &AppState, user: Uuid, input: PlanInput) -> Result<PlanView, PlanError> {
    input.validate()?;
    check_drug(state, user, input.drug_id).await?;
    let limit = state.drugs.max_plans_per_user;
    if repo::count_of_user(&state.db, user).await? >= limit {
        return Err(PlanError::TooMany(limit));
    }
    let prefs = state.user_prefs(user).await?;
    let now = Utc::now();
    let mut m = medication_plan::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    input.fill(&mut m, prefs.timezone.name().to_owned());
    let saved = m.insert(&state.db).await?;
    supply::refresh_refill_due(&state.db, saved.id).await?;
    get(state, user, saved.id).await
}

/// A user's plans, oldest first.
pub async fn list(state: &AppState, user: Uuid) -> Result<Vec<PlanView>, PlanError> {
    let rows = repo::of_user(&state.db, user, true).await?;
    Ok(supply::views(&state.db, rows).await?)
}

pub async fn get(state: &AppState, user: Uuid, id: Uuid) -> Result<PlanView, PlanError> {
    Ok(supply::view(&state.db, owned(state, user, id).await?).await?)
}

pub async fn update(
    state: &AppState,
    user: Uuid,
    id: Uuid,
    input: PlanInput,
) -> Result<PlanView, PlanError> {
    input.validate()?;
    let existing = owned(state, user, id).await?;
    check_drug(state, user, input.drug_id).await?;
    let tz = existing.timezone.clone();
    let mut m: medication_plan::ActiveModel = existing.into();
    input.fill(&mut m, tz);
    m.updated_at = Set(Utc::now());
    let saved = m.update(&state.db).await?;
    supply::refresh_refill_due(&state.db, saved.id).await?;
    get(state, user, saved.id).await
}

/// Delete a plan and what was recorded about its doses.
pub async fn delete(state: &AppState, user: Uuid, id: Uuid) -> Result<(), PlanError> {
    let plan = owned(state, user, id).await?;
    Ok(repo::delete_with_logs(&state.db, plan.id).await?)
}
