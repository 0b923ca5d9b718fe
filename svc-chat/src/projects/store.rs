//! Reads and writes of projects. A write locks the project's row first (a no-op update: a
//! row lock on PostgreSQL, the write lock on SQLite), so what it read is what it changes.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, TransactionSession, TransactionTrait,
};
use serde_json::Value;
use shared::entities::project::{self, EnergyType, ProjectMode, ProjectType};
use shared::time::now_micros;
use shared::{ApiError, ErrorCode};
use uuid::Uuid;

use super::input::ProjectInput;

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::ProjectNotFound, "no such project")
}

/// The caller's project, or 404 (another user's project is not found either).
pub async fn owned<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
) -> Result<project::Model, ApiError> {
    project::Entity::find_by_id(id)
        .filter(project::Column::UserId.eq(user))
        .one(db)
        .await?
        .ok_or_else(not_found)
}

/// The user's projects by tier, then age (the original's order); archived ones too unless
/// `active_only`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    active_only: bool,
) -> Result<Vec<project::Model>, ApiError> {
    let mut select = project::Entity::find().filter(project::Column::UserId.eq(user));
    if active_only {
        select = select.filter(project::Column::IsActive.eq(true));
    }
    Ok(select
        .order_by_asc(project::Column::BaseTier)
        .order_by_asc(project::Column::CreatedAt)
        .order_by_asc(project::Column::Id)
        .all(db)
        .await?)
}

fn apply(p: &mut project::Model, input: ProjectInput) {
    if let Some(t) = input.title {
        p.title = t.trim().to_owned();
    }
    if let Some(d) = input.description {
        // `""` clears it.
        p.description = Some(d).filter(|d| !d.trim().is_empty());
    }
    if let Some(k) = input.kind {
        p.kind = k;
    }
    if let Some(t) = input.base_tier.and_then(|t| i32::try_from(t).ok()) {
        p.base_tier = t;
    }
    if let Some(m) = input.current_mode {
        p.current_mode = m;
    }
    if let Some(e) = input.energy_type {
        p.energy_type = e;
    }
    if let Some(k) = input.target_kpi {
        p.target_kpi = Some(Value::Object(k));
    }
    if let Some(a) = input.is_active {
        p.is_active = a;
    }
}

/// A new project: FINITE, tier 1, NORMAL, BALANCED and active unless said otherwise.
pub async fn create<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    input: ProjectInput,
) -> Result<project::Model, ApiError> {
    let now = now_micros();
    let mut p = project::Model {
        id: Uuid::now_v7(),
        user_id: user,
        title: String::new(),
        description: None,
        kind: ProjectType::Finite,
        base_tier: 1,
        current_mode: ProjectMode::Normal,
        energy_type: EnergyType::Balanced,
        target_kpi: None,
        is_active: true,
        created_at: now,
        updated_at: now,
    };
    apply(&mut p, input);
    if p.title.is_empty() {
        return Err(ApiError::validation("title is required"));
    }
    project::Entity::insert(p.clone().into_active_model().reset_all())
        .exec_without_returning(db)
        .await?;
    Ok(p)
}

/// Lock the caller's project's row for the rest of the transaction and read it.
async fn lock<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
) -> Result<project::Model, ApiError> {
    let touched = project::Entity::update_many()
        .col_expr(project::Column::Id, Expr::col(project::Column::Id))
        .filter(project::Column::Id.eq(id))
        .filter(project::Column::UserId.eq(user))
        .exec(db)
        .await?;
    if touched.rows_affected == 0 {
        return Err(not_found());
    }
    owned(db, user, id).await
}

async fn save<C: ConnectionTrait>(
    db: &C,
    mut p: project::Model,
) -> Result<project::Model, ApiError> {
    p.updated_at = now_micros();
    Ok(p.into_active_model().reset_all().update(db).await?)
}

/// The project before and after a change.
pub struct Changed {
    pub before: project::Model,
    pub after: project::Model,
}

pub async fn update<C: TransactionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
    input: ProjectInput,
) -> Result<Changed, ApiError> {
    let txn = db.begin().await?;
    let before = lock(&txn, user, id).await?;
    let mut p = before.clone();
    apply(&mut p, input);
    let after = save(&txn, p).await?;
    txn.commit().await?;
    Ok(Changed { before, after })
}

/// `DELETE /projects/{id}`: archived, its events untouched.
pub async fn archive<C: TransactionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
) -> Result<Changed, ApiError> {
    let input = ProjectInput {
        is_active: Some(false),
        ..ProjectInput::default()
    };
    update(db, user, id, input).await
}

/// What asking for a mode did.
pub enum ModeOutcome {
    Switched(Changed),
    /// Another active project of the user's is already sprinting: nothing changed.
    AlreadySprinting(project::Model),
}

/// Switch a project to NORMAL or SPRINT; SPRINT while another active project sprints is
/// refused with that project (the original's warning).
pub async fn set_mode<C: TransactionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
    mode: ProjectMode,
) -> Result<ModeOutcome, ApiError> {
    let txn = db.begin().await?;
    let before = lock(&txn, user, id).await?;
    if mode == ProjectMode::Sprint
        && let Some(other) = project::Entity::find()
            .filter(project::Column::UserId.eq(user))
            .filter(project::Column::CurrentMode.eq(ProjectMode::Sprint))
            .filter(project::Column::IsActive.eq(true))
            .filter(project::Column::Id.ne(id))
            .order_by_asc(project::Column::CreatedAt)
            .one(&txn)
            .await?
    {
        txn.rollback().await?;
        return Ok(ModeOutcome::AlreadySprinting(other));
    }
    let mut p = before.clone();
    p.current_mode = mode;
    let after = save(&txn, p).await?;
    txn.commit().await?;
    Ok(ModeOutcome::Switched(Changed { before, after }))
}
