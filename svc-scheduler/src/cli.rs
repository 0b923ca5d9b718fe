//! The command line: serve (default), run one job now, list the jobs and their recent runs.

use std::io::Write;

use chrono::{Duration, NaiveDate, Utc};
use clap::{Parser, Subcommand};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use shared::config::Settings;
use shared::entities::job_run;
use uuid::Uuid;

use crate::jobs::runner::{self, RunOptions};
use crate::jobs::{ALL, Job};
use crate::state::Ctx;

#[derive(Debug, Parser)]
#[command(
    name = "svc-scheduler",
    about = "UniLife jobs, reminders and notifications"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (timer entry points, inbox, devices) and, unless serverless, run the clock.
    Serve,
    /// Run one job now and print a summary.
    Run {
        /// daily-diaries, daily-profiles, weekly-profiles, dose-reminders, expiry-alerts,
        /// event-reminders, habit-replenish, morning-briefing, afternoon-checkin,
        /// evening-switch, closing-ritual (`jobs` lists them)
        job: String,
        /// The period (a date) to run a daily job for, whatever the users' local time.
        #[arg(long)]
        date: Option<NaiveDate>,
        /// Only this user.
        #[arg(long)]
        user: Option<Uuid>,
    },
    /// List the jobs with their schedules and recent runs.
    Jobs,
    /// Print a new VAPID key pair for Web Push (set the private one as
    /// APP__SCHEDULER__VAPID_PRIVATE_KEY; browsers get the public one from the server).
    VapidKeys,
    /// Serve a Tencent SCF custom-runtime event function (the runtime API loop at
    /// `$SCF_RUNTIME_API:$SCF_RUNTIME_API_PORT`).
    ScfRuntime,
}

fn progress(finished: i32, claimed: i32) {
    let width = 30usize;
    let filled = if claimed > 0 {
        (finished.max(0) as usize * width) / claimed as usize
    } else {
        width
    };
    eprint!(
        "\r[{}{}] {finished}/{claimed}",
        "#".repeat(filled.min(width)),
        " ".repeat(width - filled.min(width))
    );
    let _ = std::io::stderr().flush();
}

pub async fn run(settings: &Settings, command: Command) -> anyhow::Result<()> {
    let db = shared::server::database(settings).await?;
    let ctx = Ctx::new(settings, db)?;
    match command {
        Command::Serve => anyhow::bail!("serve is handled by main"),
        Command::VapidKeys => anyhow::bail!("vapid-keys is handled by main"),
        Command::ScfRuntime => {
            let api = crate::scf_runtime::runtime_api_from_env().ok_or_else(|| {
                anyhow::anyhow!("SCF_RUNTIME_API and SCF_RUNTIME_API_PORT must be set")
            })?;
            crate::scf_runtime::run(&ctx, &api).await?;
        }
        Command::Run { job, date, user } => {
            let job = Job::parse(&job)
                .ok_or_else(|| anyhow::anyhow!("no job named {job:?}; see `svc-scheduler jobs`"))?;
            let budget =
                Duration::seconds(i64::try_from(settings.scheduler.run_budget_secs).unwrap_or(240));
            let options = RunOptions {
                period: date,
                user,
                progress: Some(progress),
            };
            let summary =
                runner::run_job(&ctx, job, "cli", Utc::now(), Utc::now() + budget, &options)
                    .await?;
            eprintln!();
            println!(
                "{}: {} — total {}, done {}, skipped {}, failed {}{}",
                summary.job,
                summary.status,
                summary.total,
                summary.done,
                summary.skipped,
                summary.failed,
                summary.error.map(|e| format!(" ({e})")).unwrap_or_default()
            );
            let deliveries = crate::notify::deliver_due(&ctx, Utc::now() + budget).await?;
            println!(
                "deliveries: sent {}, retrying {}, dead {}",
                deliveries.sent, deliveries.retried, deliveries.dead
            );
        }
        Command::Jobs => {
            for job in ALL {
                println!("{:<16} {}", job.name(), job.schedule());
                let runs = job_run::Entity::find()
                    .filter(job_run::Column::Job.eq(job.name()))
                    .order_by_desc(job_run::Column::StartedAt)
                    .limit(3)
                    .all(&ctx.db)
                    .await?;
                for r in runs {
                    println!(
                        "    {} {:<8} {:<7} total {} done {} skipped {} failed {}",
                        r.started_at.format("%Y-%m-%d %H:%M:%S"),
                        r.trigger,
                        r.status,
                        r.total,
                        r.done,
                        r.skipped,
                        r.failed
                    );
                }
            }
        }
    }
    Ok(())
}
