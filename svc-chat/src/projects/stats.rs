//! A project's task statistics, computed from the owner's events that name it, and the
//! original's `Project` JSON with them.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use shared::ApiError;
use shared::entities::event::{self, EventStatus};
use shared::entities::project;
use uuid::Uuid;

/// The original's figures: one-off tasks (neither templates nor instances of a routine or a
/// habit batch), routine executions, and minutes of completed work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub one_off_total: i64,
    pub one_off_completed: i64,
    pub total_executions: i64,
    pub completed_executions: i64,
    pub focus_minutes: i64,
}

/// Minutes a completed event took: its duration, else its start to its end.
fn minutes(e: &event::Model) -> i64 {
    match (e.duration, e.start_time, e.end_time) {
        (Some(d), _, _) if d > 0 => i64::from(d),
        (_, Some(s), Some(t)) if t > s => (t - s).num_minutes(),
        _ => 0,
    }
}

/// Statistics of the events of one project.
///
/// - one-off tasks: not templates, not routine instances (`parent_event_id`), not habit-batch
///   instances (`routine_batch_id`), as the original counted them;
/// - routine executions: each template's target (`habit_total_count`, as the original summed
///   it) and, per template, its completed instances or its recorded `habit_completed_count`
///   (imported from the original), whichever is more; habit-batch instances (which have no
///   template) count one execution each;
/// - focus minutes: the time of every completed task and instance (the original had the
///   field but never filled it).
pub fn compute<'a>(events: impl IntoIterator<Item = &'a event::Model>) -> Stats {
    let mut s = Stats::default();
    let mut recorded: HashMap<Uuid, i64> = HashMap::new();
    let mut done_instances: HashMap<Uuid, i64> = HashMap::new();
    for e in events {
        let done = e.status == EventStatus::Completed;
        if e.is_template == Some(true) {
            s.total_executions += i64::from(e.habit_total_count.max(0));
            recorded.insert(e.id, i64::from(e.habit_completed_count.unwrap_or(0).max(0)));
            continue;
        }
        if done {
            s.focus_minutes += minutes(e);
        }
        if let Some(parent) = e.parent_event_id {
            if done {
                *done_instances.entry(parent).or_default() += 1;
            }
        } else if e.routine_batch_id.is_some() {
            s.total_executions += 1;
            s.completed_executions += i64::from(done);
        } else {
            s.one_off_total += 1;
            s.one_off_completed += i64::from(done);
        }
    }
    for (template, n) in &recorded {
        s.completed_executions += (*n).max(done_instances.remove(template).unwrap_or(0));
    }
    s.completed_executions += done_instances.values().sum::<i64>();
    s
}

/// Statistics of each of `projects` (all the user's own), from the user's events only: an
/// event of another user naming the project counts for nothing.
pub async fn for_projects<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    projects: &[Uuid],
) -> Result<HashMap<Uuid, Stats>, ApiError> {
    if projects.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = event::Entity::find()
        .filter(event::Column::UserId.eq(user))
        .filter(event::Column::ProjectId.is_in(projects.iter().copied()))
        .all(db)
        .await?;
    let mut by_project: HashMap<Uuid, Vec<event::Model>> = HashMap::new();
    for e in rows {
        if let Some(p) = e.project_id {
            by_project.entry(p).or_default().push(e);
        }
    }
    Ok(projects
        .iter()
        .map(|id| {
            let stats = by_project
                .get(id)
                .map(|v| compute(v.iter()))
                .unwrap_or_default();
            (*id, stats)
        })
        .collect())
}

pub async fn for_project<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    project: Uuid,
) -> Result<Stats, ApiError> {
    Ok(for_projects(db, user, &[project])
        .await?
        .remove(&project)
        .unwrap_or_default())
}

/// The project's own columns, as the original's `to_dict` wrote them.
pub fn record(p: &project::Model) -> Value {
    json!({
        "id": p.id, "user_id": p.user_id, "title": p.title, "description": p.description,
        "type": p.kind, "base_tier": p.base_tier, "current_mode": p.current_mode,
        "energy_type": p.energy_type, "target_kpi": p.target_kpi, "is_active": p.is_active,
        "created_at": p.created_at, "updated_at": p.updated_at,
    })
}

/// The original's `Project`: its columns and its statistics (the legacy `total_tasks` and
/// `completed_tasks` are the one-off counts, as the original filled them).
pub fn view(p: &project::Model, s: Stats) -> Value {
    let mut v = record(p);
    let extra = json!({
        "total_tasks": s.one_off_total, "completed_tasks": s.one_off_completed,
        "total_focus_minutes": s.focus_minutes,
        "one_off_tasks_total": s.one_off_total, "one_off_tasks_completed": s.one_off_completed,
        "routine_stats": {
            "total_executions": s.total_executions,
            "completed_executions": s.completed_executions,
        },
    });
    if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
        obj.extend(more);
    }
    v
}

/// MAIN for a core project (tier 0) or one in SPRINT, else SIDE (the original's rule).
pub fn quest_type(p: &project::Model) -> &'static str {
    if p.base_tier == 0 || p.current_mode == project::ProjectMode::Sprint {
        "MAIN"
    } else {
        "SIDE"
    }
}
