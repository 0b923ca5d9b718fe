//! Work items of per-user daily jobs: seeded idempotently, claimed with row locks, finished
//! with retries and backoff.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use shared::entities::job_item::JobItemStatus;
use shared::entities::{job_item, user};
use uuid::Uuid;

use super::Job;
use crate::state::Ctx;

const USER_PAGE: u64 = 500;

/// Create the items due at `now` (or, with `force_period`, for that period regardless of the
/// users' local time), for every user or one. Returns how many users were looked at.
pub async fn seed(
    ctx: &Ctx,
    job: Job,
    now: DateTime<Utc>,
    force_period: Option<NaiveDate>,
    only_user: Option<Uuid>,
) -> Result<u64, sea_orm::DbErr> {
    let mut after: Option<Uuid> = None;
    let mut seen = 0;
    loop {
        let mut page = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::Timezone)
            .order_by_asc(user::Column::Id)
            .limit(USER_PAGE);
        if let Some(last) = after {
            page = page.filter(user::Column::Id.gt(last));
        }
        if let Some(u) = only_user {
            page = page.filter(user::Column::Id.eq(u));
        }
        let users: Vec<(Uuid, String)> = page.into_tuple().all(&ctx.db).await?;
        let Some(last) = users.last().map(|u| u.0) else {
            break;
        };
        after = Some(last);
        seen += users.len() as u64;
        let rows: Vec<job_item::ActiveModel> = users
            .iter()
            .filter_map(|(id, tz)| {
                let tz: Tz = tz.parse().unwrap_or(shared::DEFAULT_TZ);
                let period = force_period.or_else(|| job.period_due(now, tz))?;
                Some(new_item(job, *id, period, now))
            })
            .collect();
        if !rows.is_empty() {
            job_item::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([
                        job_item::Column::Job,
                        job_item::Column::UserId,
                        job_item::Column::Period,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&ctx.db)
                .await?;
        }
        if (users.len() as u64) < USER_PAGE {
            break;
        }
    }
    Ok(seen)
}

fn new_item(job: Job, user: Uuid, period: NaiveDate, now: DateTime<Utc>) -> job_item::ActiveModel {
    job_item::ActiveModel {
        id: Set(Uuid::now_v7()),
        job: Set(job.name().to_owned()),
        user_id: Set(user),
        period: Set(period.to_string()),
        status: Set(JobItemStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_by: Set(None),
        claimed_until: Set(None),
        error: Set(None),
        run_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Claim up to `limit` items ready to work on: pending, failed and due for a retry, or
/// running under a claim that has lapsed (its claimant died). On PostgreSQL the rows are
/// locked with `FOR UPDATE SKIP LOCKED`, so instances never claim the same item; SQLite takes
/// the database write lock for the statement, which serves one instance.
pub async fn claim(
    ctx: &Ctx,
    job: Job,
    run_id: Uuid,
    limit: u64,
    only_user: Option<Uuid>,
) -> Result<Vec<job_item::Model>, sea_orm::DbErr> {
    let now = Utc::now();
    let mut ready = Condition::any()
        .add(job_item::Column::Status.eq(JobItemStatus::Pending))
        .add(
            Condition::all()
                .add(job_item::Column::Status.eq(JobItemStatus::Failed))
                .add(job_item::Column::NextAttemptAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(job_item::Column::Status.eq(JobItemStatus::Running))
                .add(job_item::Column::ClaimedUntil.lt(now)),
        );
    if let Some(u) = only_user {
        ready = Condition::all()
            .add(ready)
            .add(job_item::Column::UserId.eq(u));
    }
    let mut pick = Query::select();
    pick.column(job_item::Column::Id)
        .from(job_item::Entity)
        .and_where(job_item::Column::Job.eq(job.name()))
        .cond_where(ready)
        .order_by(job_item::Column::NextAttemptAt, sea_orm::Order::Asc)
        .limit(limit);
    if ctx.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let lease = now + Duration::seconds(i64::try_from(ctx.settings.lease_secs).unwrap_or(300));
    job_item::Entity::update_many()
        .col_expr(
            job_item::Column::Status,
            Expr::value(JobItemStatus::Running),
        )
        .col_expr(
            job_item::Column::ClaimedBy,
            Expr::value(ctx.instance.clone()),
        )
        .col_expr(job_item::Column::ClaimedUntil, Expr::value(lease))
        .col_expr(job_item::Column::RunId, Expr::value(run_id))
        .col_expr(
            job_item::Column::Attempts,
            Expr::col(job_item::Column::Attempts).add(1),
        )
        .col_expr(job_item::Column::UpdatedAt, Expr::value(now))
        .filter(job_item::Column::Id.in_subquery(pick))
        .exec_with_returning(&ctx.db)
        .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Skipped,
}

/// Record how an item went. A failure is retried after `retry_base × 2^(attempts-1)` until
/// `max_attempts`, then `dead`. Only the claimant may finish its item.
pub async fn finish(
    ctx: &Ctx,
    item: &job_item::Model,
    result: &Result<Outcome, String>,
) -> Result<JobItemStatus, sea_orm::DbErr> {
    let now = Utc::now();
    let (status, error, next) = match result {
        Ok(Outcome::Done) => (JobItemStatus::Done, None, now),
        Ok(Outcome::Skipped) => (JobItemStatus::Skipped, None, now),
        Err(e) if item.attempts >= ctx.settings.max_attempts => {
            (JobItemStatus::Dead, Some(e.clone()), now)
        }
        Err(e) => {
            let base = i64::try_from(ctx.settings.retry_base_secs).unwrap_or(30);
            let factor = 1i64 << (item.attempts - 1).clamp(0, 16);
            (
                JobItemStatus::Failed,
                Some(e.clone()),
                now + Duration::seconds(base * factor),
            )
        }
    };
    job_item::Entity::update_many()
        .col_expr(job_item::Column::Status, Expr::value(status))
        .col_expr(job_item::Column::Error, Expr::value(error))
        .col_expr(job_item::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            job_item::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(job_item::Column::UpdatedAt, Expr::value(now))
        .filter(job_item::Column::Id.eq(item.id))
        .filter(job_item::Column::ClaimedBy.eq(ctx.instance.clone()))
        .exec(&ctx.db)
        .await?;
    Ok(status)
}
