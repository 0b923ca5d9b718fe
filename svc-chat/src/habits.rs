//! Habits: a habit is a template repeating every `habit_interval` days, expanded lazily like
//! every routine (no row per day until the user acts on one). Lazily rather than in the
//! original's batches of instances: an edit to the habit applies to every later day without
//! rewriting rows, undo restores one row, and `/sync` hands out one row instead of twenty.
//!
//! The original's batch lifecycle is kept with the number of days (`habit_total_count`, the
//! rule's COUNT): a new habit runs for its first batch (21 days by default); the user keeps
//! it (`confirm: true`, the template becomes IN_PROGRESS) or cancels what remains
//! (`confirm: false`, CANCELLED: no more days); the daily replenishment job raises a kept
//! habit's count so at least `AHEAD` days stay ahead of today, as the original kept 20
//! pending instances.

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait};
use serde::Serialize;
use shared::entities::event::{self, EventStatus};
use shared::time::local_midnight;
use shared::{ApiError, ErrorCode};
use uuid::Uuid;

use crate::events::query::{self, Virtual};
use crate::events::recur::{self, Series};
use crate::events::store::{self, Owner};

/// Days a kept habit has ahead of today after replenishment (the original's 20 pending).
pub const AHEAD: usize = 20;

/// How far back streaks and completion are counted.
const STATS_DAYS: i64 = 366;

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::HabitNotFound, "no such habit")
}

/// The habit template of a batch id (`routine_batch_id`).
pub async fn template<C: sea_orm::ConnectionTrait>(
    db: &C,
    user: Uuid,
    batch: &str,
) -> Result<Option<event::Model>, ApiError> {
    Ok(event::Entity::find()
        .filter(event::Column::UserId.eq(user))
        .filter(event::Column::RoutineBatchId.eq(batch))
        .filter(event::Column::IsTemplate.eq(true))
        .one(db)
        .await?)
}

/// What `GET /habits/{batch}` lists: the days made into instances and the coming ones
/// (virtual, up to `AHEAD` from today), by day. A batch of the original's instances (no
/// template, imported) lists its instances.
pub enum Batch {
    Series {
        made: Vec<event::Model>,
        coming: Vec<Virtual>,
    },
    Instances(Vec<event::Model>),
}

pub async fn batch<C: sea_orm::ConnectionTrait>(
    db: &C,
    owner: Owner,
    batch: &str,
    today: NaiveDate,
) -> Result<Batch, ApiError> {
    let Some(t) = template(db, owner.user, batch).await? else {
        let rows = event::Entity::find()
            .filter(event::Column::UserId.eq(owner.user))
            .filter(event::Column::RoutineBatchId.eq(batch))
            .all(db)
            .await?;
        if rows.is_empty() {
            return Err(not_found());
        }
        return Ok(Batch::Instances(rows));
    };
    let made = event::Entity::find()
        .filter(event::Column::UserId.eq(owner.user))
        .filter(event::Column::ParentEventId.eq(t.id))
        .all(db)
        .await?;
    let interval = i64::from(t.habit_interval.unwrap_or(1).max(1));
    let from = local_midnight(owner.tz, today);
    let to = local_midnight(
        owner.tz,
        today + Duration::days(interval * (AHEAD as i64 + 1)),
    );
    let coming = query::occurrences(
        db,
        owner.user,
        &query::Filter::default(),
        (from, to),
        owner.tz,
        false,
    )
    .await?
    .into_iter()
    .filter(|v| v.template.id == t.id)
    .take(AHEAD)
    .collect();
    Ok(Batch::Series { made, coming })
}

/// A habit's record: days due so far, done, the rate, and the streaks (in the habit's own
/// days: every n days for an n-day habit). Today counts as due once done, and an open today
/// does not break the current streak.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub batch_id: String,
    pub template_id: Uuid,
    pub title: String,
    pub habit_interval: i32,
    pub due: usize,
    pub completed: usize,
    pub completion_rate: f64,
    pub current_streak: usize,
    pub best_streak: usize,
    pub status: &'static str,
}

pub async fn stats<C: sea_orm::ConnectionTrait>(
    db: &C,
    owner: Owner,
    batch: &str,
    today: NaiveDate,
) -> Result<Stats, ApiError> {
    let t = template(db, owner.user, batch)
        .await?
        .ok_or_else(not_found)?;
    let series = Series::of(&t, owner.tz)
        .ok_or_else(|| ApiError::validation("this habit has no readable repeat_pattern"))?;
    let made: HashMap<NaiveDate, EventStatus> = event::Entity::find()
        .filter(event::Column::UserId.eq(owner.user))
        .filter(event::Column::ParentEventId.eq(t.id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|m| Some((store::series_day(&m, owner.tz)?, m.status)))
        .collect();
    let since = (today - Duration::days(STATS_DAYS)).max(series.first_day());
    let days: Vec<NaiveDate> = series
        .between(
            local_midnight(owner.tz, since),
            local_midnight(owner.tz, today + Duration::days(1)),
            owner.tz,
            &recur::exdates(&t),
            recur::MAX_OCCURRENCES,
        )
        .map_err(|e| ApiError::validation(e.0))?
        .into_iter()
        .map(|o| o.date)
        .collect();
    let done = |d: &NaiveDate| made.get(d) == Some(&EventStatus::Completed);
    // Today is due only once done.
    let due: Vec<NaiveDate> = days.into_iter().filter(|d| *d < today || done(d)).collect();
    let completed = due.iter().filter(|d| done(d)).count();
    let (mut best, mut run) = (0, 0);
    for d in &due {
        run = if done(d) { run + 1 } else { 0 };
        best = best.max(run);
    }
    let current = due.iter().rev().take_while(|d| done(d)).count();
    Ok(Stats {
        batch_id: batch.to_owned(),
        template_id: t.id,
        title: t.title.clone(),
        habit_interval: t.habit_interval.unwrap_or(1),
        due: due.len(),
        completed,
        completion_rate: if due.is_empty() {
            0.0
        } else {
            (completed as f64 / due.len() as f64 * 1000.0).round() / 1000.0
        },
        current_streak: current,
        best_streak: best,
        status: match t.status {
            EventStatus::InProgress => "active",
            EventStatus::Cancelled => "cancelled",
            _ => "trial",
        },
    })
}

/// How many of the series' days (cancelled ones included: COUNT counts them) fall before
/// `day`.
fn days_before(series: &Series, day: NaiveDate, tz: Tz) -> usize {
    let open = series.without_end();
    let first = series.first_day();
    if day <= first {
        return 0;
    }
    open.first(
        local_midnight(tz, first),
        local_midnight(tz, day),
        tz,
        &BTreeSet::new(),
        usize::MAX,
    )
    .map_or(0, |v| v.len())
}

fn count_of(n: usize) -> i32 {
    i32::try_from(n.clamp(1, 100_000)).unwrap_or(1)
}

pub enum Confirmed {
    Active,
    /// How many pending days made into instances were cancelled.
    Cancelled(usize),
}

/// Keep a habit (it becomes active and is replenished) or cancel what remains from `today`
/// on (a day already done today stays; pending instances become CANCELLED, as the original).
pub async fn confirm<C: TransactionTrait>(
    db: &C,
    owner: Owner,
    batch: &str,
    keep: bool,
    today: NaiveDate,
) -> Result<Confirmed, ApiError> {
    let txn = db.begin().await?;
    let stamp = crate::events::clock::tick(&txn, owner.user).await?;
    let Some(t) = template(&txn, owner.user, batch).await? else {
        // The original's batches without a template: cancel the pending instances.
        let rows = event::Entity::find()
            .filter(event::Column::UserId.eq(owner.user))
            .filter(event::Column::RoutineBatchId.eq(batch))
            .all(&txn)
            .await?;
        if rows.is_empty() {
            return Err(not_found());
        }
        let mut out = Vec::new();
        if !keep {
            for r in rows
                .into_iter()
                .filter(|r| r.status == EventStatus::Pending)
            {
                let mut c = r;
                c.status = EventStatus::Cancelled;
                out.push(store::save(&txn, c, stamp).await?);
            }
        }
        txn.commit().await?;
        return Ok(if keep {
            Confirmed::Active
        } else {
            Confirmed::Cancelled(out.len())
        });
    };
    let result = if keep {
        let mut m = t.clone();
        m.status = EventStatus::InProgress;
        store::save(&txn, m, stamp).await?;
        Confirmed::Active
    } else {
        let made = event::Entity::find()
            .filter(event::Column::UserId.eq(owner.user))
            .filter(event::Column::ParentEventId.eq(t.id))
            .all(&txn)
            .await?;
        let done_today = made.iter().any(|m| {
            m.status == EventStatus::Completed && store::series_day(m, owner.tz) == Some(today)
        });
        let cut = if done_today {
            today + Duration::days(1)
        } else {
            today
        };
        let mut out = Vec::new();
        for r in made.into_iter().filter(|r| {
            r.status == EventStatus::Pending
                && store::series_day(r, owner.tz).is_some_and(|d| d >= cut)
        }) {
            let mut c = r;
            c.status = EventStatus::Cancelled;
            out.push(store::save(&txn, c, stamp).await?);
        }
        let mut m = t.clone();
        if let Some(series) = Series::of(&m, owner.tz) {
            m.habit_total_count = count_of(days_before(&series, cut, owner.tz));
        }
        m.status = EventStatus::Cancelled;
        store::set_rule(&mut m, owner.tz)?;
        store::save(&txn, m, stamp).await?;
        Confirmed::Cancelled(out.len())
    };
    txn.commit().await?;
    Ok(result)
}

/// The daily job for one user: every kept habit gets `AHEAD` days ahead of `today`. Run twice
/// for the same day, the second run finds nothing to do. Returns the habits extended.
pub async fn replenish<C: TransactionTrait + sea_orm::ConnectionTrait>(
    db: &C,
    owner: Owner,
    today: NaiveDate,
) -> Result<usize, ApiError> {
    let active = event::Entity::find()
        .filter(event::Column::UserId.eq(owner.user))
        .filter(event::Column::IsTemplate.eq(true))
        .filter(event::Column::Status.eq(EventStatus::InProgress))
        .filter(event::Column::HabitInterval.is_not_null())
        .all(db)
        .await?;
    let wanted = |t: &event::Model| {
        let series = Series::of(t, owner.tz)?;
        let want = count_of(days_before(&series, today, owner.tz) + AHEAD);
        (want > t.habit_total_count).then_some(want)
    };
    let due: Vec<Uuid> = active
        .iter()
        .filter(|t| wanted(t).is_some())
        .map(|t| t.id)
        .collect();
    if due.is_empty() {
        return Ok(0);
    }
    let txn = db.begin().await?;
    // The clock first: a write, so SQLite takes the write lock before any read.
    let stamp = crate::events::clock::tick(&txn, owner.user).await?;
    let mut extended = 0;
    for id in due {
        // Read again under the lock: another run may have done it.
        let t = store::owned(&txn, owner.user, id).await?;
        let Some(want) = wanted(&t).filter(|_| t.status == EventStatus::InProgress) else {
            continue;
        };
        let mut m = t;
        m.habit_total_count = want;
        store::set_rule(&mut m, owner.tz)?;
        store::save(&txn, m, stamp).await?;
        extended += 1;
    }
    txn.commit().await?;
    Ok(extended)
}
