//! Running a job: record the run, do the work until it is done or the time budget is spent,
//! record the counts. One tick runs every job and then the deliveries.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures_util::StreamExt;
use sea_orm::{ActiveModelTrait, Set};
use serde::Serialize;
use shared::entities::job_run::{self, JobRunStatus};
use uuid::Uuid;

use super::items;
use super::reminders::{self, Counts};
use super::{ALL, Job};
use crate::notify;
use crate::state::Ctx;

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: Uuid,
    pub job: &'static str,
    pub status: JobRunStatus,
    pub total: i32,
    pub done: i32,
    pub skipped: i32,
    pub failed: i32,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run a daily job for this period, whatever the users' local time.
    pub period: Option<NaiveDate>,
    pub user: Option<Uuid>,
    /// Called after every batch with (finished, claimed so far).
    pub progress: Option<fn(i32, i32)>,
}

/// Run one job now, stopping before `deadline`.
#[tracing::instrument(name = "job.run", skip_all, fields(job = job.name(), trigger = trigger))]
pub async fn run_job(
    ctx: &Ctx,
    job: Job,
    trigger: &str,
    now: DateTime<Utc>,
    deadline: DateTime<Utc>,
    options: &RunOptions,
) -> Result<RunSummary, sea_orm::DbErr> {
    let run = job_run::ActiveModel {
        id: Set(Uuid::now_v7()),
        job: Set(job.name().to_owned()),
        trigger: Set(trigger.to_owned()),
        status: Set(JobRunStatus::Running),
        total: Set(0),
        done: Set(0),
        skipped: Set(0),
        failed: Set(0),
        error: Set(None),
        started_at: Set(Utc::now()),
        finished_at: Set(None),
    }
    .insert(&ctx.db)
    .await?;
    let mut counts = Counts::default();
    let mut error = None;
    let mut status = JobRunStatus::Done;
    match job {
        Job::DoseReminders => match reminders::dose_reminders(ctx, now).await {
            Ok(c) => counts = c,
            Err(e) => error = Some(e),
        },
        Job::EventReminders => match reminders::event_reminders(ctx, now).await {
            Ok(c) => counts = c,
            Err(e) => error = Some(e),
        },
        _ => {
            if job == Job::ExpiryAlerts {
                match reminders::low_stock(ctx, now).await {
                    Ok(c) => {
                        counts.total += c.total;
                        counts.done += c.done;
                        counts.skipped += c.skipped;
                    }
                    Err(e) => error = Some(e),
                }
            }
            items::seed(ctx, job, now, options.period, options.user).await?;
            loop {
                if Utc::now() >= deadline {
                    status = JobRunStatus::Partial;
                    break;
                }
                let batch =
                    items::claim(ctx, job, run.id, ctx.settings.batch_size, options.user).await?;
                if batch.is_empty() {
                    break;
                }
                counts.total += batch.len() as i32;
                let results: Vec<_> = futures_util::stream::iter(batch)
                    .map(|item| async move {
                        let result = reminders::work_item(ctx, job, &item).await;
                        (item, result)
                    })
                    .buffer_unordered(ctx.settings.concurrency.max(1))
                    .collect()
                    .await;
                for (item, result) in &results {
                    if let Err(e) = result {
                        tracing::warn!(job = job.name(), item = %item.id, error = %e, "work item failed");
                    }
                }
                let finished = items::finish_all(ctx, &results).await?;
                counts.done += finished.done;
                counts.skipped += finished.skipped;
                counts.failed += finished.failed;
                if let Some(progress) = options.progress {
                    progress(counts.done + counts.skipped + counts.failed, counts.total);
                }
            }
        }
    }
    if error.is_some() {
        status = JobRunStatus::Failed;
    } else if counts.failed > 0 && status == JobRunStatus::Done {
        status = JobRunStatus::Partial;
    }
    let mut active: job_run::ActiveModel = run.into();
    active.status = Set(status);
    active.total = Set(counts.total);
    active.done = Set(counts.done);
    active.skipped = Set(counts.skipped);
    active.failed = Set(counts.failed);
    active.error = Set(error.clone());
    active.finished_at = Set(Some(Utc::now()));
    let run = active.update(&ctx.db).await?;
    Ok(RunSummary {
        run_id: run.id,
        job: job.name(),
        status: run.status,
        total: counts.total,
        done: counts.done,
        skipped: counts.skipped,
        failed: counts.failed,
        error,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct TickSummary {
    pub trigger: String,
    pub at: DateTime<Utc>,
    pub runs: Vec<RunSummary>,
    pub deliveries: notify::DeliveryCounts,
}

/// Every job once (the check-ins unless `scheduler.checkins` is off), then the deliveries
/// due; all within the configured budget.
pub async fn tick(
    ctx: &Ctx,
    trigger: &str,
    now: DateTime<Utc>,
) -> Result<TickSummary, sea_orm::DbErr> {
    let budget = Duration::seconds(i64::try_from(ctx.settings.run_budget_secs).unwrap_or(240));
    let deadline = Utc::now() + budget;
    let mut runs = Vec::new();
    for job in ALL {
        if !ctx.settings.checkins && crate::checkins::Kind::of(job).is_some() {
            continue;
        }
        runs.push(run_job(ctx, job, trigger, now, deadline, &RunOptions::default()).await?);
    }
    let deliveries = notify::deliver_due(ctx, deadline).await?;
    Ok(TickSummary {
        trigger: trigger.to_owned(),
        at: now,
        runs,
        deliveries,
    })
}
