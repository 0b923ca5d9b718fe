//! Work items of per-user daily jobs: seeded idempotently, claimed with row locks, finished
//! with retries and backoff.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use shared::entities::job_item::JobItemStatus;
use shared::entities::{job_item, user};
use std::collections::HashMap;
use uuid::Uuid;

use super::Job;
use crate::state::Ctx;

const USER_PAGE: u64 = 500;

/// Create the items due at `now` (or, with `force_period`, for that period regardless of the
/// users' local time), for every user or one. Returns how many items were created.
///
/// A daily job stays due all day once its hour has passed, so this runs on every tick: it asks
/// the database only for the users of each time zone who lack the item (an anti-join on the
/// item's unique key), and not again for [`SeedMemo::RECHECK`] once a (job, time zone,
/// period) is complete, so users who sign up or move later in the day are seeded within it.
pub async fn seed(
    ctx: &Ctx,
    job: Job,
    now: DateTime<Utc>,
    force_period: Option<NaiveDate>,
    only_user: Option<Uuid>,
) -> Result<u64, sea_orm::DbErr> {
    let mut zones = user::Entity::find()
        .select_only()
        .column(user::Column::Timezone)
        .distinct();
    if let Some(u) = only_user {
        zones = zones.filter(user::Column::Id.eq(u));
    }
    let zones: Vec<String> = zones.into_tuple().all(&ctx.db).await?;
    let mut created = 0;
    for zone in zones {
        let tz: Tz = zone.parse().unwrap_or(shared::DEFAULT_TZ);
        let Some(period) = force_period.or_else(|| job.period_due(now, tz)) else {
            continue;
        };
        let key = (job.name(), zone.clone(), period);
        if only_user.is_none() && ctx.seeded.fresh(&key) {
            continue;
        }
        let mut after = None;
        loop {
            let users = lacking(ctx, job, &zone, period, only_user, after).await?;
            let Some(last) = users.last().copied() else {
                break;
            };
            after = Some(last);
            let page = users.len() as u64;
            // A check-in waits for the user's own time; a forced run goes now.
            let due = match crate::checkins::Kind::of(job) {
                Some(kind) if force_period.is_none() => {
                    crate::checkins::due_times(&ctx.db, kind, &users, tz, period).await?
                }
                _ => HashMap::new(),
            };
            // Anything else is ready at once, also in a run that pretends a later time.
            let ready = std::cmp::Ord::min(now, Utc::now());
            created += job_item::Entity::insert_many(
                users
                    .into_iter()
                    .map(|u| new_item(job, u, period, due.get(&u).copied().unwrap_or(ready), now)),
            )
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
            if page < USER_PAGE {
                break;
            }
        }
        if only_user.is_none() {
            ctx.seeded.remember(key);
        }
    }
    Ok(created)
}

type SeedKey = (&'static str, String, NaiveDate);

/// Per instance: the (job, time zone, period) found complete, and when. Lost on restart, which
/// costs one query each.
#[derive(Debug, Default)]
pub struct SeedMemo(std::sync::Mutex<std::collections::HashMap<SeedKey, std::time::Instant>>);

impl SeedMemo {
    pub const RECHECK: std::time::Duration = std::time::Duration::from_secs(300);

    fn fresh(&self, key: &SeedKey) -> bool {
        self.0
            .lock()
            .map(|m| m.get(key).is_some_and(|at| at.elapsed() < Self::RECHECK))
            .unwrap_or(false)
    }

    fn remember(&self, key: SeedKey) {
        if let Ok(mut m) = self.0.lock() {
            // Periods move on daily: what was not checked for a while is gone.
            m.retain(|_, at| at.elapsed() < Self::RECHECK * 2);
            m.insert(key, std::time::Instant::now());
        }
    }
}

/// Up to a page of the users in time zone `zone`, after `after` in id order, with no item of
/// `job` for `period`.
async fn lacking(
    ctx: &Ctx,
    job: Job,
    zone: &str,
    period: NaiveDate,
    only_user: Option<Uuid>,
    after: Option<Uuid>,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    let mut has_item = Query::select();
    has_item
        .expr(Expr::val(1))
        .from(job_item::Entity)
        .and_where(Expr::col((job_item::Entity, job_item::Column::Job)).eq(job.name()))
        .and_where(
            Expr::col((job_item::Entity, job_item::Column::UserId))
                .equals((user::Entity, user::Column::Id)),
        )
        .and_where(Expr::col((job_item::Entity, job_item::Column::Period)).eq(period.to_string()));
    let mut users = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Timezone.eq(zone))
        .filter(Expr::exists(has_item).not())
        .order_by_asc(user::Column::Id)
        .limit(USER_PAGE);
    if let Some(u) = only_user {
        users = users.filter(user::Column::Id.eq(u));
    }
    if let Some(last) = after {
        users = users.filter(user::Column::Id.gt(last));
    }
    users.into_tuple().all(&ctx.db).await
}

fn new_item(
    job: Job,
    user: Uuid,
    period: NaiveDate,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> job_item::ActiveModel {
    job_item::ActiveModel {
        id: Set(Uuid::now_v7()),
        job: Set(job.name().to_owned()),
        user_id: Set(user),
        period: Set(period.to_string()),
        status: Set(JobItemStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(due),
        claimed_by: Set(None),
        claimed_until: Set(None),
        error: Set(None),
        run_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Claim up to `limit` items ready to work on: pending and due (a check-in waits for its
/// time), failed and due for a retry, or
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
        .add(
            Condition::all()
                .add(job_item::Column::Status.eq(JobItemStatus::Pending))
                .add(job_item::Column::NextAttemptAt.lte(now)),
        )
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

/// Record how a batch went: the items done and skipped in one statement each, failures one
/// by one (each has its own next attempt). Returns how many of each.
pub async fn finish_all(
    ctx: &Ctx,
    results: &[(job_item::Model, Result<Outcome, String>)],
) -> Result<Finished, sea_orm::DbErr> {
    let mut finished = Finished::default();
    for (outcome, status) in [
        (Outcome::Done, JobItemStatus::Done),
        (Outcome::Skipped, JobItemStatus::Skipped),
    ] {
        let ids: Vec<Uuid> = results
            .iter()
            .filter(|(_, r)| r.as_ref().is_ok_and(|o| *o == outcome))
            .map(|(item, _)| item.id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let now = Utc::now();
        job_item::Entity::update_many()
            .col_expr(job_item::Column::Status, Expr::value(status))
            .col_expr(job_item::Column::Error, Expr::value(Option::<String>::None))
            .col_expr(job_item::Column::NextAttemptAt, Expr::value(now))
            .col_expr(
                job_item::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(job_item::Column::UpdatedAt, Expr::value(now))
            .filter(job_item::Column::Id.is_in(ids.iter().copied()))
            .filter(job_item::Column::ClaimedBy.eq(ctx.instance.clone()))
            .exec(&ctx.db)
            .await?;
        match outcome {
            Outcome::Done => finished.done += ids.len() as i32,
            Outcome::Skipped => finished.skipped += ids.len() as i32,
        }
    }
    for (item, result) in results {
        if let Err(e) = result {
            fail(ctx, item, e).await?;
            finished.failed += 1;
        }
    }
    Ok(finished)
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Finished {
    pub done: i32,
    pub skipped: i32,
    pub failed: i32,
}

/// A failed item is retried after `retry_base × 2^(attempts-1)` until `max_attempts`, then
/// `dead`. Only the claimant may finish its item.
async fn fail(ctx: &Ctx, item: &job_item::Model, error: &str) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    let (status, next) = if item.attempts >= ctx.settings.max_attempts {
        (JobItemStatus::Dead, now)
    } else {
        let base = i64::try_from(ctx.settings.retry_base_secs).unwrap_or(30);
        let factor = 1i64 << (item.attempts - 1).clamp(0, 16);
        (
            JobItemStatus::Failed,
            now + Duration::seconds(base * factor),
        )
    };
    job_item::Entity::update_many()
        .col_expr(job_item::Column::Status, Expr::value(status))
        .col_expr(job_item::Column::Error, Expr::value(Some(error.to_owned())))
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
    Ok(())
}
