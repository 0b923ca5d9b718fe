//! Quests: a day's tasks grouped as the original's model classifies them — MAIN (a task of a
//! core project or of one in SPRINT), SIDE (of any other active project), DAILY (no project,
//! or one that is archived or not the user's).

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use shared::ApiError;
use shared::entities::{event, project};
use uuid::Uuid;

use super::{stats, store};
use crate::events::{self, Filter, Owner};

/// At most this many tasks a day.
const DAY_LIMIT: u64 = 1000;

/// The user's tasks of `date` (their local day): what `GET /events` lists for that day,
/// templates left out. Every day view of projects goes through here.
pub async fn day_tasks<C: ConnectionTrait>(
    db: &C,
    owner: Owner,
    date: NaiveDate,
) -> Result<Vec<(event::Model, Value)>, ApiError> {
    let day = (
        events::local_midnight(owner.tz, date),
        events::local_midnight(owner.tz, date + Duration::days(1)),
    );
    let filter = Filter {
        from: Some(day.0),
        to: Some(day.1),
        limit: DAY_LIMIT,
        ..Filter::default()
    };
    let real = events::query::list(db, owner.user, &filter).await?;
    // The day's routine and habit days too, as the app lists them.
    let occ = events::query::occurrences(db, owner.user, &filter, day, owner.tz, false).await?;
    Ok(real
        .into_iter()
        .map(|e| {
            let v = events::view(&e, owner.tz);
            (e, v)
        })
        .chain(occ.into_iter().map(|o| {
            let v = events::query::virtual_view(&o, owner.tz);
            (o.model, v)
        }))
        .collect())
}

/// MAIN, SIDE or DAILY for an event, given the user's active projects by id.
pub fn classify(e: &event::Model, projects: &HashMap<Uuid, project::Model>) -> &'static str {
    e.project_id
        .and_then(|id| projects.get(&id))
        .map_or("DAILY", stats::quest_type)
}

/// An event as the app shows it, with its `quest_type`.
pub fn quest_view(e: &event::Model, owner: Owner, quest_type: &str) -> Value {
    with_quest(events::view(e, owner.tz), quest_type)
}

fn with_quest(mut v: Value, quest_type: &str) -> Value {
    v["quest_type"] = json!(quest_type);
    v
}

/// The original's quest overview of a day: `{success, date, overview: {MAIN, SIDE, DAILY},
/// counts: {main, side, daily, total}, message}`.
pub async fn overview<C: ConnectionTrait>(
    db: &C,
    owner: Owner,
    date: NaiveDate,
) -> Result<Value, ApiError> {
    let tasks = day_tasks(db, owner, date).await?;
    let projects: HashMap<Uuid, project::Model> = store::list(db, owner.user, true)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut groups: [(&str, Vec<Value>); 3] = [
        ("MAIN", Vec::new()),
        ("SIDE", Vec::new()),
        ("DAILY", Vec::new()),
    ];
    for (e, view) in &tasks {
        let kind = classify(e, &projects);
        if let Some((_, list)) = groups.iter_mut().find(|(k, _)| *k == kind) {
            list.push(with_quest(view.clone(), kind));
        }
    }
    let [(_, main), (_, side), (_, daily)] = groups;
    Ok(json!({
        "success": true,
        "date": date.format("%Y-%m-%d").to_string(),
        "counts": {
            "main": main.len(), "side": side.len(), "daily": daily.len(), "total": tasks.len(),
        },
        "message": format!(
            "[QUEST] {} 主线{}个，支线{}个，日常{}个",
            date.format("%m/%d"),
            main.len(),
            side.len(),
            daily.len()
        ),
        "overview": {"MAIN": main, "SIDE": side, "DAILY": daily},
    }))
}
