//! The model's project tools (the original's `create_project`, `get_projects`,
//! `update_project`, `set_project_mode`, `assign_task_to_project`, `get_quest_overview`,
//! plus archiving and a project's tasks). Every change to a project is recorded with the
//! project as it was before, so the turn's snapshot restores it exactly, as events are.

use chrono::{NaiveDate, Utc};
use serde_json::{Value, json};
use shared::entities::event::EventStatus;
use shared::entities::project::{self, EnergyType, ProjectMode, ProjectType};
use uuid::Uuid;

use super::tools::ToolContext;
use crate::events::store as event_store;
use crate::events::{self, EventInput, Filter};
use crate::projects::{ProjectInput, quests, stats, store};

/// One project changed in a turn: as it was before (`None`: the turn created it) and after.
/// Kept in the snapshot's `changes` beside the events' (told apart by `project_id`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ProjectChange {
    pub project_id: Uuid,
    #[serde(default)]
    pub before: Option<project::Model>,
    #[serde(default)]
    pub after: Option<project::Model>,
    #[serde(default)]
    pub action: Option<String>,
}

impl ProjectChange {
    /// `create` or `update` (archiving is an update).
    pub fn action(&self) -> &str {
        self.action.as_deref().unwrap_or(if self.before.is_none() {
            "create"
        } else {
            "update"
        })
    }
}

/// The tools of this module, for the dispatch in `tools.rs`.
pub const NAMES: &[&str] = &[
    "create_project",
    "get_projects",
    "update_project",
    "set_project_mode",
    "archive_project",
    "get_project_quests",
    "assign_task_to_project",
    "get_quest_overview",
];

/// A task's share of the model's context: a project's tasks listed at most.
const TASKS_SHOWN: u64 = 100;

fn function(name: &str, description: &str, parameters: Value) -> Value {
    json!({"type": "function", "function": {"name": name, "description": description, "parameters": parameters}})
}

pub fn definitions() -> Vec<Value> {
    let id = json!({"type": "string", "description": "the project's id (from get_projects)"});
    let fields = json!({
        "title": {"type": "string", "description": "e.g. 考研, 融资, 健身计划"},
        "description": {"type": "string"},
        "type": {"type": "string", "enum": ProjectType::VALUES, "description": "FINITE: a climb with an end (an exam, a funding round); INFINITE: a long run (a habit such as fitness)"},
        "base_tier": {"type": "integer", "enum": [0, 1, 2], "description": "0 core (its tasks are main quests), 1 growth, 2 interest (side quests)"},
        "energy_type": {"type": "string", "enum": EnergyType::VALUES, "description": "what its tasks mostly take"},
        "target_kpi": {"type": "object", "description": "targets, e.g. {\"weekly_hours\": 20, \"target_date\": \"2026-12-25\"}"}
    });
    let mut update = fields.clone();
    update["project_id"] = id.clone();
    update["is_active"] = json!({"type": "boolean", "description": "false archives it"});
    vec![
        function(
            "create_project",
            "Create a life project: a long-term goal or area the user's tasks belong to. Tier 0 projects' tasks are main quests, tiers 1 and 2 side quests.",
            json!({"type": "object", "properties": fields, "required": ["title"]}),
        ),
        function(
            "get_projects",
            "The user's life projects by tier, with their task statistics",
            json!({"type": "object", "properties": {
                "active_only": {"type": "boolean", "description": "default true; false includes archived projects"}
            }}),
        ),
        function(
            "update_project",
            "Change a project's title, description, type, tier, energy type, targets, or archive it (the mode: set_project_mode)",
            json!({"type": "object", "properties": update, "required": ["project_id"]}),
        ),
        function(
            "set_project_mode",
            "Switch a project to NORMAL or SPRINT. In SPRINT all its tasks become main quests, to be scheduled first; only one project should sprint at a time (a second one is refused with a warning).",
            json!({"type": "object", "properties": {
                "project_id": id, "mode": {"type": "string", "enum": ProjectMode::VALUES}
            }, "required": ["project_id", "mode"]}),
        ),
        function(
            "archive_project",
            "Archive a project the user is done with or gave up; its tasks stay",
            json!({"type": "object", "properties": {"project_id": id}, "required": ["project_id"]}),
        ),
        function(
            "get_project_quests",
            "A project's tasks (its quests) and routines, with their status",
            json!({"type": "object", "properties": {
                "project_id": id, "status": {"type": "string", "enum": EventStatus::VALUES}
            }, "required": ["project_id"]}),
        ),
        function(
            "assign_task_to_project",
            "Put an event (task) into a project, or take it out with project_id null; its quest type follows the project's tier and mode",
            json!({"type": "object", "properties": {
                "event_id": {"type": "string"},
                "project_id": {"type": ["string", "null"], "description": "the project's id; null: no project"}
            }, "required": ["event_id", "project_id"]}),
        ),
        function(
            "get_quest_overview",
            "A day's tasks grouped as quests: MAIN (core or sprinting projects), SIDE (other projects), DAILY (no project)",
            json!({"type": "object", "properties": {
                "date": {"type": "string", "description": "YYYY-MM-DD, default today (the user's time zone)"}
            }}),
        ),
    ]
}

fn project_id(args: &Value) -> Result<Uuid, String> {
    args["project_id"]
        .as_str()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| "project_id must be a project's id (from get_projects)".to_owned())
}

/// The arguments as a project body, without the ones that are not its fields.
fn input(args: &Value, create: bool) -> Result<ProjectInput, String> {
    let mut obj = args.as_object().cloned().unwrap_or_default();
    obj.remove("project_id");
    if obj.contains_key("current_mode") {
        return Err("the mode is changed with set_project_mode".into());
    }
    let body = Value::Object(obj);
    if create {
        ProjectInput::create_from_json(body)
    } else {
        ProjectInput::update_from_json(body)
    }
    .map_err(|e| e.message)
}

impl ToolContext<'_> {
    /// Only the first state of a project in a turn matters for restoring it; the last one is
    /// what the turn left.
    fn record_project(&mut self, before: Option<project::Model>, after: project::Model) {
        let id = after.id;
        match self.project_changes.iter_mut().find(|c| c.project_id == id) {
            Some(c) => c.after = Some(after),
            None => self.project_changes.push(ProjectChange {
                project_id: id,
                action: Some(if before.is_none() { "create" } else { "update" }.to_owned()),
                before,
                after: Some(after),
            }),
        }
    }

    async fn rendered(&self, p: &project::Model) -> Result<Value, String> {
        let s = stats::for_project(&self.state.db, self.user, p.id)
            .await
            .map_err(|e| e.message)?;
        Ok(stats::view(p, s))
    }

    /// Run one of [`NAMES`].
    pub(super) async fn run_project(&mut self, name: &str, args: &Value) -> Result<Value, String> {
        let db = &self.state.db;
        let user = self.user;
        match name {
            "create_project" => {
                let p = store::create(db, user, input(args, true)?)
                    .await
                    .map_err(|e| e.message)?;
                self.record_project(None, p.clone());
                let quest = stats::quest_type(&p);
                Ok(json!({
                    "success": true, "project": stats::view(&p, stats::Stats::default()),
                    "quest_type": quest,
                    "message": format!("[PROJECT] 已创建{quest}项目「{}」", p.title),
                }))
            }
            "get_projects" => {
                let active_only = args["active_only"].as_bool().unwrap_or(true);
                let list = store::list(db, user, active_only)
                    .await
                    .map_err(|e| e.message)?;
                let ids: Vec<Uuid> = list.iter().map(|p| p.id).collect();
                let figures = stats::for_projects(db, user, &ids)
                    .await
                    .map_err(|e| e.message)?;
                let mut grouped = json!({"tier_0": [], "tier_1": [], "tier_2": [], "sprint": []});
                let mut views = Vec::new();
                for p in &list {
                    let v = stats::view(p, figures.get(&p.id).copied().unwrap_or_default());
                    let group = match (p.current_mode, p.base_tier) {
                        (ProjectMode::Sprint, _) => "sprint",
                        (_, 0) => "tier_0",
                        (_, 1) => "tier_1",
                        _ => "tier_2",
                    };
                    if let Some(g) = grouped[group].as_array_mut() {
                        g.push(v.clone());
                    }
                    views.push(v);
                }
                Ok(json!({
                    "success": true, "total": views.len(), "grouped": grouped,
                    "message": format!("[PROJECT] 找到 {} 个项目", views.len()),
                    "projects": views,
                }))
            }
            "update_project" => {
                let id = project_id(args)?;
                let changed = store::update(db, user, id, input(args, false)?)
                    .await
                    .map_err(|e| e.message)?;
                let view = self.rendered(&changed.after).await?;
                let title = changed.after.title.clone();
                self.record_project(Some(changed.before), changed.after);
                Ok(json!({
                    "success": true, "project": view,
                    "message": format!("[PROJECT] 已更新项目「{title}」"),
                }))
            }
            "archive_project" => {
                let id = project_id(args)?;
                let changed = store::archive(db, user, id).await.map_err(|e| e.message)?;
                let view = self.rendered(&changed.after).await?;
                let title = changed.after.title.clone();
                self.record_project(Some(changed.before), changed.after);
                Ok(json!({
                    "success": true, "project": view,
                    "message": format!("[PROJECT] 已归档项目「{title}」"),
                }))
            }
            "set_project_mode" => {
                let id = project_id(args)?;
                let mode: ProjectMode =
                    serde_json::from_value(args["mode"].clone()).map_err(|_| {
                        format!("mode must be one of {}", ProjectMode::VALUES.join(", "))
                    })?;
                match store::set_mode(db, user, id, mode)
                    .await
                    .map_err(|e| e.message)?
                {
                    store::ModeOutcome::AlreadySprinting(other) => Ok(json!({
                        "success": false, "warning": true, "existing_sprint": other.title,
                        "message": format!(
                            "[PROJECT] 注意：「{}」已经处于冲刺模式。建议先完成再开启新冲刺。",
                            other.title
                        ),
                    })),
                    store::ModeOutcome::Switched(changed) => {
                        let view = self.rendered(&changed.after).await?;
                        let title = changed.after.title.clone();
                        self.record_project(Some(changed.before), changed.after);
                        let name = if mode == ProjectMode::Sprint {
                            "冲刺"
                        } else {
                            "平稳"
                        };
                        Ok(json!({
                            "success": true, "project": view,
                            "message": format!("[PROJECT] 已将「{title}」切换到{name}模式"),
                        }))
                    }
                }
            }
            "get_project_quests" => self.project_quests(args).await,
            "assign_task_to_project" => self.assign(args).await,
            "get_quest_overview" => {
                let date = match args["date"].as_str().filter(|s| !s.trim().is_empty()) {
                    Some(d) => NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                        .map_err(|_| "date must be YYYY-MM-DD".to_owned())?,
                    None => Utc::now().with_timezone(&self.tz).date_naive(),
                };
                quests::overview(db, self.owner(), date)
                    .await
                    .map_err(|e| e.message)
            }
            other => Err(format!("no tool named {other}")),
        }
    }

    async fn project_quests(&mut self, args: &Value) -> Result<Value, String> {
        let db = &self.state.db;
        let p = store::owned(db, self.user, project_id(args)?)
            .await
            .map_err(|e| e.message)?;
        let status = match args["status"].as_str().filter(|s| !s.is_empty()) {
            Some(s) => Some(
                serde_json::from_value::<EventStatus>(json!(s)).map_err(|_| {
                    format!("status must be one of {}", EventStatus::VALUES.join(", "))
                })?,
            ),
            None => None,
        };
        let mut filter = Filter {
            project_id: Some(p.id),
            status,
            limit: TASKS_SHOWN,
            ..Filter::default()
        };
        let tasks = events::query::list(db, self.user, &filter)
            .await
            .map_err(|e| e.message)?;
        filter.templates = true;
        let routines = events::query::list(db, self.user, &filter)
            .await
            .map_err(|e| e.message)?;
        let quest = stats::quest_type(&p);
        let quest = if p.is_active { quest } else { "DAILY" };
        let owner = self.owner();
        let views: Vec<Value> = tasks
            .iter()
            .map(|e| quests::quest_view(e, owner, quest))
            .collect();
        if !views.is_empty() {
            let shown: Vec<Value> = views.iter().take(10).cloned().collect();
            self.query_results
                .push(json!({"type": "events", "count": shown.len(), "events": shown}));
        }
        let project = self.rendered(&p).await?;
        Ok(json!({
            "success": true, "project": project, "quest_type": quest,
            "count": views.len(), "tasks": views,
            "routines": routines.iter().map(|e| events::view(e, self.tz)).collect::<Vec<_>>(),
            "message": format!("[PROJECT] 「{}」有 {} 个任务", p.title, tasks.len()),
        }))
    }

    /// The original's `assign_task_to_project`, with the project checked to be the user's
    /// (the original stored any id).
    async fn assign(&mut self, args: &Value) -> Result<Value, String> {
        let db = &self.state.db;
        let event_id: Uuid = args["event_id"]
            .as_str()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| "event_id must be an event's id".to_owned())?;
        let project = match &args["project_id"] {
            Value::Null => None,
            _ => Some(
                store::owned(db, self.user, project_id(args)?)
                    .await
                    .map_err(|e| e.message)?,
            ),
        };
        let input = EventInput {
            project_id: Some(project.as_ref().map(|p| p.id)),
            ..EventInput::default()
        };
        let u = event_store::update(db, self.owner(), event_id, input)
            .await
            .map_err(|e| e.message)?;
        self.record(event_id, Some(u.before), Some(u.after.clone()));
        let event = self.act("update_event", &u.after);
        Ok(match project {
            Some(p) => {
                let quest = if p.is_active {
                    stats::quest_type(&p)
                } else {
                    "DAILY"
                };
                json!({
                    "success": true, "event": event, "quest_type": quest,
                    "project_title": p.title,
                    "message": format!("[PROJECT] 已将「{}」归入「{}」({quest})", u.after.title, p.title),
                })
            }
            None => json!({
                "success": true, "event": event, "quest_type": "DAILY",
                "message": format!("[PROJECT] 已解除「{}」的项目关联", u.after.title),
            }),
        })
    }
}
