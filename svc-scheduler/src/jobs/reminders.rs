//! The work of each job: what it asks the owning service and which notifications it makes.

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use shared::contracts::{
    CabinetDrug, DoseEscalation, DoseStatus, EVENT_REMINDER_LEAD_MINUTES, LowStock, MarkMissed,
    UpcomingEvent, UserDose, wire_time,
};
use shared::entities::{job_item, notification_setting};
use uuid::Uuid;

use super::items::Outcome;
use crate::notify::{self, NewNotification, Routing};
use crate::state::Ctx;
use crate::texts::Text;

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

impl Counts {
    /// A notification made (done), or made before (skipped).
    fn tally(&mut self, created: bool) {
        if created {
            self.done += 1;
        } else {
            self.skipped += 1;
        }
    }
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

/// The items of an answer that is a list of `T`. An item that does not read as one is kept as
/// its error, so one bad item does not cost the others; an answer that is no list has none.
fn items<T: DeserializeOwned>(answer: Value) -> Vec<Result<T, serde_json::Error>> {
    match answer {
        Value::Array(items) => items.into_iter().map(serde_json::from_value).collect(),
        _ => Vec::new(),
    }
}

/// Each notification of a batch made (done) or made before (skipped).
fn tally_all(
    counts: &mut Counts,
    made: Result<Vec<Option<Uuid>>, sea_orm::DbErr>,
) -> Result<(), String> {
    for id in made.map_err(|e| e.to_string())? {
        counts.tally(id.is_some());
    }
    Ok(())
}

/// svc-drugs' doses of a kind (`due`, `escalations`) whose moment falls in this tick's
/// window: from `DOSE_LOOKBACK` ago to a minute ahead.
async fn doses_in_tick(ctx: &Ctx, kind: &str, now: DateTime<Utc>) -> Result<Value, String> {
    let from = (now - DOSE_LOOKBACK).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = (now + Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let path = format!("/internal/doses/{kind}?from={from}&to={to}");
    call(ctx, Method::GET, &ctx.drugs, &path, None).await
}

/// Doses due now (and snoozes ending now) become reminders; doses long past become missed.
pub async fn dose_reminders(ctx: &Ctx, now: DateTime<Utc>) -> Result<Counts, String> {
    let mut counts = Counts::default();
    let due = doses_in_tick(ctx, "due", now).await?;
    let mut reminders = Vec::new();
    for item in items::<UserDose>(due) {
        counts.total += 1;
        let Ok(UserDose {
            user_id: user,
            dose,
        }) = item
        else {
            counts.failed += 1;
            continue;
        };
        let id = &dose.id;
        let key = match (dose.status, dose.snoozed_until) {
            (DoseStatus::Snoozed, Some(until)) => {
                format!("dose:{id}:snoozed:{}", wire_time(until))
            }
            _ => format!("dose:{id}"),
        };
        reminders.push(NewNotification {
            user,
            kind: "dose_reminder",
            text: Text::DoseReminder {
                drug: dose.drug_name.clone(),
                amount: dose.amount,
                unit: dose.unit.clone(),
                time: dose.local_time.clone(),
            },
            data: json!({"dose_id": id, "plan_id": dose.plan_id, "scheduled_at": dose.scheduled_at}),
            dedupe_key: key,
            routing: Routing::default(),
        });
    }
    tally_all(&mut counts, notify::create_many(ctx, reminders).await)?;
    let body = serde_json::to_value(MarkMissed {
        before: now,
        since: now - Duration::hours(26),
    })
    .map_err(|e| e.to_string())?;
    let missed = call(
        ctx,
        Method::POST,
        &ctx.drugs,
        "/internal/doses/mark-missed",
        Some(body),
    )
    .await?;
    let mut notices = Vec::new();
    for item in items::<UserDose>(missed) {
        counts.total += 1;
        let Ok(UserDose {
            user_id: user,
            dose,
        }) = item
        else {
            continue;
        };
        let id = &dose.id;
        notices.push(NewNotification {
            user,
            kind: "dose_missed",
            text: Text::DoseMissed {
                drug: dose.drug_name.clone(),
                scheduled_at: chrono::DateTime::parse_from_rfc3339(&dose.scheduled_at)
                    .ok()
                    .map(|t| t.with_timezone(&Utc)),
            },
            data: json!({"dose_id": id, "plan_id": dose.plan_id}),
            dedupe_key: format!("missed:{id}"),
            routing: Routing::default(),
        });
    }
    tally_all(&mut counts, notify::create_many(ctx, notices).await)?;
    escalations(ctx, now, &mut counts).await?;
    Ok(counts)
}

/// Dependents' doses nobody marked in time, told to each of their caregivers once.
async fn escalations(ctx: &Ctx, now: DateTime<Utc>, counts: &mut Counts) -> Result<(), String> {
    let due = doses_in_tick(ctx, "escalations", now).await?;
    let mut notices = Vec::new();
    for item in items::<DoseEscalation>(due) {
        let Ok(e) = item else {
            counts.total += 1;
            counts.failed += 1;
            continue;
        };
        for caregiver in &e.caregivers {
            counts.total += 1;
            notices.push(NewNotification {
                user: *caregiver,
                kind: "dose_escalation",
                text: Text::DoseEscalation {
                    person: e.person_name.clone(),
                    drug: e.dose.drug_name.clone(),
                    time: e.dose.local_time.clone(),
                    minutes: e.after_minutes,
                },
                data: json!({
                    "dose_id": e.dose.id,
                    "plan_id": e.dose.plan_id,
                    "person_id": e.person_id,
                    "scheduled_at": e.dose.scheduled_at,
                }),
                dedupe_key: format!("escalate:{}:{caregiver}", e.dose.id),
                routing: Routing::default(),
            });
        }
    }
    tally_all(counts, notify::create_many(ctx, notices).await)
}

/// The furthest ahead a user may ask to be reminded of an event
/// (`event_reminder_minutes`, 0 to 120).
pub const MAX_EVENT_LEAD: Duration = Duration::minutes(120);

/// Events starting soon, each reminded once (per start time: a moved event is reminded
/// again), as each user's notification settings say: not at all when `event_reminders_enabled`
/// is off, else `event_reminder_minutes` before the start (0: as it starts).
pub async fn event_reminders(ctx: &Ctx, now: DateTime<Utc>) -> Result<Counts, String> {
    let mut counts = Counts::default();
    // Platform timers may fire only every 15 minutes: an event whose reminder fell between two
    // ticks, or that started since the last one, is reminded late rather than never (its key
    // keeps it to once).
    let from = (now - DOSE_LOOKBACK).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = (now + MAX_EVENT_LEAD).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let events: Vec<UpcomingEvent> = items::<UpcomingEvent>(
        call(
            ctx,
            Method::GET,
            &ctx.chat,
            &format!("/internal/events/upcoming?from={from}&to={to}"),
            None,
        )
        .await?,
    )
    .into_iter()
    .flatten()
    .collect();
    let users: Vec<Uuid> = events.iter().map(|e| e.user_id).collect();
    let settings: HashMap<Uuid, notification_setting::Model> = notification_setting::Entity::find()
        .filter(notification_setting::Column::UserId.is_in(users))
        .all(&ctx.db)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|s| (s.user_id, s))
        .collect();
    for e in events {
        let (enabled, lead) =
            settings
                .get(&e.user_id)
                .map_or((true, EVENT_REMINDER_LEAD_MINUTES), |s| {
                    (
                        s.event_reminders_enabled,
                        i64::from(s.event_reminder_minutes),
                    )
                });
        // A tick is a minute wide: an event starting within it is "now".
        if !enabled || e.start_time - Duration::minutes(lead) > now + Duration::minutes(1) {
            continue;
        }
        counts.total += 1;
        let start = wire_time(e.start_time);
        let created = notify::create(
            ctx,
            NewNotification {
                user: e.user_id,
                kind: "event_reminder",
                text: Text::EventReminder {
                    title: e.title.clone(),
                    start: e.start_time,
                },
                data: json!({
                    "event_id": e.virtual_id.clone().unwrap_or_else(|| e.id.to_string()),
                    "start_time": e.start_time,
                }),
                // A routine's day is reminded once, made into an instance or not.
                dedupe_key: format!("event:{}:{start}", e.series_id.unwrap_or(e.id)),
                routing: Routing::default(),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        counts.tally(created);
    }
    Ok(counts)
}

/// Low stock, once a day per plan.
pub async fn low_stock(ctx: &Ctx, now: DateTime<Utc>) -> Result<Counts, String> {
    let mut counts = Counts::default();
    let low = call(ctx, Method::GET, &ctx.drugs, "/internal/low-stock", None).await?;
    for item in items::<LowStock>(low) {
        counts.total += 1;
        let Ok(plan) = item else {
            continue;
        };
        let created = notify::create(
            ctx,
            NewNotification {
                user: plan.user_id,
                kind: "low_stock",
                text: Text::LowStock {
                    stock: plan.stock,
                    unit: plan.unit.clone(),
                    runs_out_on: plan.runs_out_on,
                },
                data: serde_json::to_value(&plan).map_err(|e| e.to_string())?,
                dedupe_key: format!("low_stock:{}:{}", plan.plan_id, now.date_naive()),
                routing: Routing::default(),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        counts.tally(created);
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
            let list = items::<CabinetDrug>(drugs);
            if list.is_empty() {
                return Ok(Outcome::Skipped);
            }
            let names: Vec<&str> = list.iter().flatten().map(|d| d.name.as_str()).collect();
            let ids: Vec<Option<Uuid>> =
                list.iter().map(|d| d.as_ref().ok().map(|d| d.id)).collect();
            notify::create(
                ctx,
                NewNotification {
                    user,
                    kind: "expiry_alert",
                    text: Text::Expiry {
                        names: names.iter().map(|n| (*n).to_owned()).collect(),
                    },
                    data: json!({"drug_ids": ids}),
                    dedupe_key: format!("expiry:{user}:{}", item.period),
                    routing: Routing::default(),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok(Outcome::Done)
        }
        Job::DailyDiaries | Job::DailyProfiles | Job::WeeklyProfiles | Job::HabitReplenish => {
            let path = match job {
                Job::DailyDiaries => "/internal/diaries/generate",
                Job::DailyProfiles => "/internal/profiles/daily",
                Job::HabitReplenish => "/internal/habits/replenish",
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
        Job::MorningBriefing | Job::AfternoonCheckin | Job::EveningSwitch | Job::ClosingRitual => {
            checkin(ctx, job, item).await
        }
        Job::DoseReminders | Job::EventReminders => Ok(Outcome::Skipped),
    }
}

/// One user's check-in of one day (`crate::checkins`): still wanted, on time, then written by
/// svc-chat (which stores it in the chat timeline, once) and delivered (once: its key).
async fn checkin(ctx: &Ctx, job: super::Job, item: &job_item::Model) -> Result<Outcome, String> {
    let Some(kind) = crate::checkins::Kind::of(job) else {
        return Ok(Outcome::Skipped);
    };
    let user = item.user_id;
    let db_error = |e: sea_orm::DbErr| e.to_string();
    let settings = crate::routes::notification_settings::for_user(&ctx.db, user)
        .await
        .map_err(db_error)?;
    if !kind.enabled(&settings) {
        return Ok(Outcome::Skipped);
    }
    if Utc::now() - item.next_attempt_at > crate::checkins::LATE {
        tracing::info!(job = job.name(), item = %item.id, "check-in skipped: too late");
        return Ok(Outcome::Skipped);
    }
    let Ok(day) = item.period.parse::<chrono::NaiveDate>() else {
        return Err(format!("bad period {:?}", item.period));
    };
    let reader = notify::reader(&ctx.db, user).await.map_err(db_error)?;
    if !kind.goes_at(&settings, reader.tz, kind.due(&settings, reader.tz, day)) {
        return Ok(Outcome::Skipped);
    }
    let answer = call(
        ctx,
        Method::POST,
        &ctx.chat,
        "/internal/checkins/generate",
        Some(json!({"user_id": user, "kind": kind.name(), "date": item.period})),
    )
    .await?;
    if answer["status"] != "sent" {
        return Ok(Outcome::Skipped);
    }
    let text = |field: &str| answer[field].as_str().unwrap_or_default().to_owned();
    notify::create(
        ctx,
        NewNotification {
            user,
            // The original app's type, category and data for these (`GREETING`,
            // `MORNING_NOTIFICATION`, `{"type": "morning_notification", ...}`).
            kind: "greeting",
            text: Text::Raw {
                title: text("title"),
                body: text("body"),
            },
            data: json!({
                "type": format!("{}_notification", kind.period()),
                "action": "open_today",
                "source": "notification_agent",
                "checkin": kind.name(),
                "written_by": answer["source"],
                "conversation_id": answer["conversation_id"],
                "message_id": answer["message_id"],
                "push": {"category": format!("{}_NOTIFICATION", kind.period().to_uppercase())},
            }),
            dedupe_key: format!("checkin:{}:{user}:{}", kind.name(), item.period),
            routing: Routing::default(),
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(Outcome::Done)
}
