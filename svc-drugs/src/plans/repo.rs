//! The queries of plans and dose logs.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use shared::entities::{dose_log, drug, medication_plan};
use uuid::Uuid;

use crate::domain::dose::LogStatus;

pub async fn owned<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
) -> Result<Option<medication_plan::Model>, DbErr> {
    medication_plan::Entity::find_by_id(id)
        .filter(medication_plan::Column::UserId.eq(user))
        .one(db)
        .await
}

pub async fn plan<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<medication_plan::Model>, DbErr> {
    medication_plan::Entity::find_by_id(id).one(db).await
}

/// A user's plans; `oldest_first` orders them by creation.
pub async fn of_user<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    oldest_first: bool,
) -> Result<Vec<medication_plan::Model>, DbErr> {
    let select = medication_plan::Entity::find().filter(medication_plan::Column::UserId.eq(user));
    let select = if oldest_first {
        select.order_by_asc(medication_plan::Column::CreatedAt)
    } else {
        select
    };
    select.all(db).await
}

/// How many plans a user has.
pub async fn count_of_user<C: ConnectionTrait>(db: &C, user: Uuid) -> Result<u64, DbErr> {
    medication_plan::Entity::find()
        .filter(medication_plan::Column::UserId.eq(user))
        .count(db)
        .await
}

/// Delete a plan and what was recorded about its doses.
pub async fn delete_with_logs<C: ConnectionTrait>(db: &C, plan: Uuid) -> Result<(), DbErr> {
    medication_plan::Entity::delete_by_id(plan).exec(db).await?;
    dose_log::Entity::delete_many()
        .filter(dose_log::Column::PlanId.eq(plan))
        .exec(db)
        .await?;
    shared::entities::refill::Entity::delete_many()
        .filter(shared::entities::refill::Column::PlanId.eq(plan))
        .exec(db)
        .await?;
    Ok(())
}

/// Plans whose dates may give a dose in `[from, to)` (a day's margin each side for zones).
fn dated_within(from: DateTime<Utc>, to: DateTime<Utc>) -> Condition {
    let (first, last) = (
        (from - Duration::days(1)).date_naive(),
        (to + Duration::days(1)).date_naive(),
    );
    Condition::all()
        .add(medication_plan::Column::StartDate.lte(last))
        .add(
            Condition::any()
                .add(medication_plan::Column::EndDate.is_null())
                .add(medication_plan::Column::EndDate.gte(first)),
        )
}

/// Every user's plans that have a dose somewhere in `[from, to)` (by their dates; the caller
/// expands).
pub async fn active_between<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<medication_plan::Model>, DbErr> {
    medication_plan::Entity::find()
        .filter(dated_within(from, to))
        .all(db)
        .await
}

/// The persons' scheduled (not as-needed) plans that may have doses in `[from, to)`.
pub async fn active_between_for<C: ConnectionTrait>(
    db: &C,
    persons: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<medication_plan::Model>, DbErr> {
    medication_plan::Entity::find()
        .filter(medication_plan::Column::UserId.is_in(persons.iter().copied()))
        .filter(medication_plan::Column::AsNeeded.eq(false))
        .filter(dated_within(from, to))
        .all(db)
        .await
}

/// Plans whose stock is at or below their threshold, or whose refill is due by `by` (the
/// caller checks the date in each plan's zone).
pub async fn low_stock<C: ConnectionTrait>(
    db: &C,
    by: chrono::NaiveDate,
) -> Result<Vec<medication_plan::Model>, DbErr> {
    medication_plan::Entity::find()
        .filter(medication_plan::Column::Stock.is_not_null())
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(medication_plan::Column::LowStockThreshold.is_not_null())
                        .add(
                            Expr::col(medication_plan::Column::Stock)
                                .lte(Expr::col(medication_plan::Column::LowStockThreshold)),
                        ),
                )
                .add(medication_plan::Column::RefillDueOn.lte(by)),
        )
        .limit(10_000)
        .all(db)
        .await
}

/// Add `change` to a plan's stock (a plan without stock counts from zero).
pub async fn change_stock<C: ConnectionTrait>(
    db: &C,
    plan: Uuid,
    change: f64,
) -> Result<(), DbErr> {
    medication_plan::Entity::update_many()
        .col_expr(
            medication_plan::Column::Stock,
            Expr::expr(Func::coalesce([
                Expr::col(medication_plan::Column::Stock),
                Expr::val(0.0),
            ]))
            .add(change),
        )
        .filter(medication_plan::Column::Id.eq(plan))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn drug_names<C: ConnectionTrait>(
    db: &C,
    drug_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, String>, DbErr> {
    Ok(drug::Entity::find()
        .filter(drug::Column::Id.is_in(drug_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect())
}

/// What was recorded about these plans' doses in `[from, to)`.
pub async fn logs_between<C: ConnectionTrait>(
    db: &C,
    plan_ids: Vec<Uuid>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<dose_log::Model>, DbErr> {
    dose_log::Entity::find()
        .filter(dose_log::Column::PlanId.is_in(plan_ids))
        .filter(dose_log::Column::ScheduledAt.gte(from))
        .filter(dose_log::Column::ScheduledAt.lt(to))
        .all(db)
        .await
}

pub async fn log_at<C: ConnectionTrait>(
    db: &C,
    plan: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<dose_log::Model>, DbErr> {
    dose_log::Entity::find()
        .filter(dose_log::Column::PlanId.eq(plan))
        .filter(dose_log::Column::ScheduledAt.eq(at))
        .one(db)
        .await
}

/// The first log row of a dose, recorded at `now`.
pub fn new_log(
    user: Uuid,
    plan: Uuid,
    at: DateTime<Utc>,
    status: LogStatus,
    amount: f64,
    snoozed_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> dose_log::ActiveModel {
    dose_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        plan_id: Set(plan),
        scheduled_at: Set(at),
        status: Set(status.as_str().into()),
        amount: Set(amount),
        snoozed_until: Set(snoozed_until),
        stock_deducted: Set(false),
        acted_at: Set(now),
        updated_at: Set(now),
    }
}

/// Insert a dose's log unless the dose has one; the number of rows inserted (0 or 1).
pub async fn insert_log_if_new<C: ConnectionTrait>(
    db: &C,
    row: dose_log::ActiveModel,
) -> Result<u64, DbErr> {
    dose_log::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([dose_log::Column::PlanId, dose_log::Column::ScheduledAt])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
}

/// Flip a log's stock flag from `!to` to `to`; whether this call flipped it.
pub async fn flip_stock_deducted<C: ConnectionTrait>(
    db: &C,
    log: Uuid,
    to: bool,
) -> Result<bool, DbErr> {
    let flipped = dose_log::Entity::update_many()
        .col_expr(dose_log::Column::StockDeducted, Expr::value(to))
        .filter(dose_log::Column::Id.eq(log))
        .filter(dose_log::Column::StockDeducted.eq(!to))
        .exec(db)
        .await?;
    Ok(flipped.rows_affected == 1)
}

/// Snoozed doses' logs whose snooze ends in `[from, to)`.
pub async fn snoozes_ending<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<dose_log::Model>, DbErr> {
    dose_log::Entity::find()
        .filter(dose_log::Column::Status.eq(LogStatus::Snoozed.as_str()))
        .filter(dose_log::Column::SnoozedUntil.gte(from))
        .filter(dose_log::Column::SnoozedUntil.lt(to))
        .all(db)
        .await
}
