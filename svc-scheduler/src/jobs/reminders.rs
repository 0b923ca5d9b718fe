//! The work of each job: what it asks the owning service and which notifications it makes.

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use shared::entities::job_item;

use super::items::Outcome;
use crate::notify::{self, NewNotification};
use crate::state::Ctx;

/// How far back a tick looks for doses to remind: platform timers may fire only every 15
/// minutes. The notification's key makes a dose reminded once however often this runs.
pub const DOSE_LOOKBACK: Duration = Duration::minutes(15);

#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub total: i32,
    pub done: i32,
    pub skipped: i32,
    pub failed: i32,
}

async fn call(
    ctx: &Ctx,
    method: Method,
    peer: &shared::internal_client::Peer,
    path: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let mut req = ctx.internal.request(method, peer, path, None);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req
        .send()
        .await
        // Without the URL: run errors are listed to users (`GET /api/v1/jobs/runs`), and a
        // service's internal address is not theirs to see.
        .map_err(|e| format!("{} unreachable: {}", peer.name, e.without_url()))?;
    let status = res.status();
    if !status.is_success() {
        return Err(format!(
            "{} answered {} on {path}",
            peer.name,
            status.as_u16()
        ));
    }
    res.json()
        .await
        .map_err(|e| format!("{} sent bad JSON: {}", peer.name, e.without_url()))
}

/// Doses due now (and snoozes ending now) become reminders; doses long past become missed.
pub async fn dose_reminders(ctx: &Ctx, now: DateTime<Utc>) -> Result<Counts, String> {
    let mut counts = Counts::default();
    let from = (now - DOSE_LOOKBACK).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = (now + Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let due = call(
        ctx,
        Method::GET,
        &ctx.drugs,
        &format!("/internal/doses/due?from={from}&to={to}"),
        None,
    )
    .await?;
    for dose in due.as_array().into_iter().flatten() {
        counts.total += 1;
        let Some(user) = dose["user_id"].as_str().and_then(|u| u.parse().ok()) else {
            counts.failed += 1;
            continue;
        };
        let id = dose["id"].as_str().unwrap_or_default();
        let key = match dose["snoozed_until"].as_str() {
            Some(until) if dose["status"] == "snoozed" => format!("dose:{id}:snoozed:{until}"),
            _ => format!("dose:{id}"),
        };
        let name = dose["drug_name"].as_str().unwrap_or("your medicine");
        let created = notify::create(ctx, NewNotification {
            user,
            kind: "dose_reminder",
            title: format!("Time to take {name}"),
            body: format!("{} {} at {}", dose["amount"], dose["unit"].as_str().unwrap_or(""), dose["local_time"].as_str().unwrap_or("")),
            data: json!({"dose_id": id, "plan_id": dose["plan_id"], "scheduled_at": dose["scheduled_at"]}),
            dedupe_key: key,
        })
        .await
        .map_err(|e| e.to_string())?;
        if created {
            counts.done += 1
        } else {
            counts.skipped += 1
        }
    }
    let body = json!({"since": now - Duration::hours(26), "before": now});
    let missed = call(
        ctx,
        Method::POST,
        &ctx.drugs,
        "/internal/doses/mark-missed",
        Some(body),
    )
    .await?;
    for dose in missed.as_array().into_iter().flatten() {
        counts.total += 1;
        let Some(user) = dose["user_id"].as_str().and_then(|u| u.parse().ok()) else {
            continue;
        };
        let id = dose["id"].as_str().unwrap_or_default();
        let created = notify::create(
            ctx,
            NewNotification {
                user,
                kind: "dose_missed",
                title: format!("Missed: {}", dose["drug_name"].as_str().unwrap_or("a dose")),
                body: format!(
                    "the dose at {} was not taken",
                    dose["scheduled_at"].as_str().unwrap_or("")
                ),
                data: json!({"dose_id": id, "plan_id": dose["plan_id"]}),
                dedupe_key: format!("missed:{id}"),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        if created {
            counts.done += 1
        } else {
            counts.skipped += 1
        }
    }
    Ok(counts)
}

/// How far ahead an event reminder goes out.
pub const EVENT_LEAD: Duration = Duration::minutes(15);

/// Events starting within the next 15 minutes, each reminded once (per start time: a moved
/// event is reminded again).
pub async fn event_reminders(ctx: &Ctx, now: DateTime<Utc>) -> Result<Counts, String> {
    let mut counts = Counts::default();
    let from = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = (now + EVENT_LEAD).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let events = call(
        ctx,
        Method::GET,
        &ctx.chat,
        &format!("/internal/events/upcoming?from={from}&to={to}"),
        None,
    )
    .await?;
    for e in events.as_array().into_iter().flatten() {
        counts.total += 1;
        let Some(user) = e["user_id"].as_str().and_then(|u| u.parse().ok()) else {
            continue;
        };
        let created = notify::create(
            ctx,
            NewNotification {
                user,
                kind: "event_reminder",
                title: format!("Soon: {}", e["title"].as_str().unwrap_or("an event")),
                body: format!("starts at {}", e["start_time"].as_str().unwrap_or("")),
                data: json!({"event_id": e["id"], "start_time": e["start_time"]}),
                dedupe_key: format!(
                    "event:{}:{}",
                    e["id"].as_str().unwrap_or(""),
                    e["start_time"].as_str().unwrap_or("")
                ),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        if created {
            counts.done += 1
        } else {
            counts.skipped += 1
        }
    }
    Ok(counts)
}

/// Low stock, once a day per plan.
pub async fn low_stock(ctx: &Ctx, now: DateTime<Utc>) -> Result<Counts, String> {
    let mut counts = Counts::default();
    let low = call(ctx, Method::GET, &ctx.drugs, "/internal/low-stock", None).await?;
    for plan in low.as_array().into_iter().flatten() {
        counts.total += 1;
        let Some(user) = plan["user_id"].as_str().and_then(|u| u.parse().ok()) else {
            continue;
        };
        let created = notify::create(
            ctx,
            NewNotification {
                user,
                kind: "low_stock",
                title: "Running low".into(),
                body: format!(
                    "{} {} left",
                    plan["stock"],
                    plan["unit"].as_str().unwrap_or("")
                ),
                data: plan.clone(),
                dedupe_key: format!(
                    "low_stock:{}:{}",
                    plan["plan_id"].as_str().unwrap_or(""),
                    now.date_naive()
                ),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        if created {
            counts.done += 1
        } else {
            counts.skipped += 1
        }
    }
    Ok(counts)
}

/// One user's item of a daily job.
#[tracing::instrument(name = "job.item", skip_all, fields(job = job.name(), user.id = %item.user_id))]
pub async fn work_item(
    ctx: &Ctx,
    job: super::Job,
    item: &job_item::Model,
) -> Result<Outcome, String> {
    use super::Job;
    let user = item.user_id;
    match job {
        Job::ExpiryAlerts => {
            let drugs = call(
                ctx,
                Method::GET,
                &ctx.drugs,
                &format!("/internal/users/{user}/expiring"),
                None,
            )
            .await?;
            let list = drugs.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                return Ok(Outcome::Skipped);
            }
            let names: Vec<&str> = list.iter().filter_map(|d| d["name"].as_str()).collect();
            notify::create(ctx, NewNotification {
                user,
                kind: "expiry_alert",
                title: format!("{} medicine(s) expiring or expired", list.len()),
                body: names.join(", "),
                data: json!({"drug_ids": list.iter().map(|d| d["id"].clone()).collect::<Vec<_>>()}),
                dedupe_key: format!("expiry:{user}:{}", item.period),
            })
            .await
            .map_err(|e| e.to_string())?;
            Ok(Outcome::Done)
        }
        Job::DailyDiaries | Job::DailyProfiles | Job::WeeklyProfiles => {
            let path = match job {
                Job::DailyDiaries => "/internal/diaries/generate",
                Job::DailyProfiles => "/internal/profiles/daily",
                _ => "/internal/profiles/weekly",
            };
            let answer = call(
                ctx,
                Method::POST,
                &ctx.chat,
                path,
                Some(json!({"user_id": user, "date": item.period})),
            )
            .await?;
            Ok(if answer["status"] == "skipped" {
                Outcome::Skipped
            } else {
                Outcome::Done
            })
        }
        Job::DoseReminders | Job::EventReminders => Ok(Outcome::Skipped),
    }
}
