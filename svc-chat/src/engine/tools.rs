//! The tools the model may call, and their execution. Every change to an event is recorded
//! with the event as it was before, so the turn's snapshot can restore it exactly.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use reqwest::Method;
use serde_json::{Value, json};
use shared::entities::event;
use uuid::Uuid;

use crate::events::{self, EventInput};
use crate::state::AppState;

/// One event changed in a turn: its id and what it was before (`None`: the turn created it).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub event_id: Uuid,
    pub before: Option<event::Model>,
}

fn function(name: &str, description: &str, parameters: Value) -> Value {
    json!({"type": "function", "function": {"name": name, "description": description, "parameters": parameters}})
}

pub fn definitions() -> Value {
    let event_fields = json!({
        "title": {"type": "string"},
        "description": {"type": "string"},
        "start_time": {"type": "string", "description": "RFC 3339 with offset"},
        "end_time": {"type": "string", "description": "RFC 3339 with offset"},
        "duration": {"type": "integer", "description": "minutes"},
        "event_type": {"type": "string", "enum": events::EVENT_TYPES},
        "category": {"type": "string", "enum": events::CATEGORIES},
        "tags": {"type": "array", "items": {"type": "string"}},
        "location": {"type": "string"}
    });
    let mut update_fields = event_fields.clone();
    update_fields["event_id"] = json!({"type": "string"});
    update_fields["status"] = json!({"type": "string", "enum": events::STATUSES});
    json!([
        function(
            "create_event",
            "Add an event to the user's schedule",
            json!({"type": "object", "properties": event_fields, "required": ["title", "start_time"]})
        ),
        function(
            "query_events",
            "List the user's events between two dates (inclusive, user's time zone)",
            json!({"type": "object", "properties": {"start_date": {"type": "string"}, "end_date": {"type": "string"}, "status": {"type": "string"}}, "required": ["start_date", "end_date"]})
        ),
        function(
            "update_event",
            "Change an event",
            json!({"type": "object", "properties": update_fields, "required": ["event_id"]})
        ),
        function(
            "delete_event",
            "Delete an event",
            json!({"type": "object", "properties": {"event_id": {"type": "string"}}, "required": ["event_id"]})
        ),
        function(
            "complete_event",
            "Mark an event done",
            json!({"type": "object", "properties": {"event_id": {"type": "string"}}, "required": ["event_id"]})
        ),
        function(
            "check_conflicts",
            "Events overlapping a time range",
            json!({"type": "object", "properties": {"start_time": {"type": "string"}, "end_time": {"type": "string"}}, "required": ["start_time", "end_time"]})
        ),
        function(
            "get_medicine_cabinet",
            "The user's medicines with expiry status",
            json!({"type": "object", "properties": {}})
        ),
        function(
            "get_expiring_drugs",
            "Medicines expiring soon or expired",
            json!({"type": "object", "properties": {"days": {"type": "integer"}}})
        ),
        function(
            "get_today_doses",
            "Today's medication doses and their status",
            json!({"type": "object", "properties": {}})
        ),
    ])
}

pub struct ToolContext<'a> {
    pub state: &'a AppState,
    pub user: Uuid,
    pub tz: Tz,
    pub changes: Vec<Change>,
    pub actions: Vec<Value>,
}

fn parse_id(args: &Value) -> Result<Uuid, String> {
    args["event_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "event_id must be an event's id".to_owned())
}

fn input(args: &Value) -> Result<EventInput, String> {
    let mut obj = args.as_object().cloned().unwrap_or_default();
    obj.remove("event_id");
    serde_json::from_value(Value::Object(obj)).map_err(|e| format!("invalid arguments: {e}"))
}

impl ToolContext<'_> {
    fn record(&mut self, event_id: Uuid, before: Option<event::Model>) {
        // Only the first state of an event in a turn matters for restoring it.
        if !self.changes.iter().any(|c| c.event_id == event_id) {
            self.changes.push(Change { event_id, before });
        }
    }

    /// Run one tool; the answer (JSON text) goes back to the model.
    pub async fn execute(&mut self, name: &str, raw_args: &str) -> String {
        let args: Value = serde_json::from_str(if raw_args.trim().is_empty() {
            "{}"
        } else {
            raw_args
        })
        .unwrap_or(Value::Null);
        if !args.is_object() {
            return json!({"error": "arguments must be a JSON object"}).to_string();
        }
        match self.run(name, &args).await {
            Ok(v) => v.to_string(),
            Err(e) => json!({"error": e}).to_string(),
        }
    }

    async fn run(&mut self, name: &str, args: &Value) -> Result<Value, String> {
        let db = &self.state.db;
        let user = self.user;
        match name {
            "create_event" => {
                let e = events::create(db, user, input(args)?)
                    .await
                    .map_err(|e| e.message)?;
                self.record(e.id, None);
                self.actions.push(
                    json!({"type": "create_event", "event_id": e.id, "event": events::view(&e)}),
                );
                Ok(events::view(&e))
            }
            "update_event" => {
                let id = parse_id(args)?;
                let before = events::owned(db, user, id).await.map_err(|e| e.message)?;
                let e = events::update(db, user, id, input(args)?)
                    .await
                    .map_err(|e| e.message)?;
                self.record(id, Some(before));
                self.actions.push(
                    json!({"type": "update_event", "event_id": e.id, "event": events::view(&e)}),
                );
                Ok(events::view(&e))
            }
            "complete_event" => {
                let id = parse_id(args)?;
                let before = events::owned(db, user, id).await.map_err(|e| e.message)?;
                let done = EventInput {
                    status: Some("completed".into()),
                    ..EventInput::default()
                };
                let e = events::update(db, user, id, done)
                    .await
                    .map_err(|e| e.message)?;
                self.record(id, Some(before));
                self.actions.push(
                    json!({"type": "complete_event", "event_id": e.id, "event": events::view(&e)}),
                );
                Ok(events::view(&e))
            }
            "delete_event" => {
                let id = parse_id(args)?;
                let before = events::delete(db, user, id).await.map_err(|e| e.message)?;
                self.record(id, Some(before));
                self.actions
                    .push(json!({"type": "delete_event", "event_id": id}));
                Ok(json!({"deleted": id}))
            }
            "query_events" => {
                let date = |k: &str| -> Result<NaiveDate, String> {
                    args[k]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| format!("{k} must be YYYY-MM-DD"))
                };
                let (from, to) = (date("start_date")?, date("end_date")?);
                let list = events::between(
                    db,
                    user,
                    events::local_midnight(self.tz, from),
                    events::local_midnight(self.tz, to + Duration::days(1)),
                    args["status"].as_str(),
                )
                .await
                .map_err(|e| e.message)?;
                Ok(json!(list.iter().map(events::view).collect::<Vec<_>>()))
            }
            "check_conflicts" => {
                let time = |k: &str| -> Result<DateTime<Utc>, String> {
                    args[k]
                        .as_str()
                        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                        .map(|t| t.with_timezone(&Utc))
                        .ok_or_else(|| format!("{k} must be an RFC 3339 time"))
                };
                let list =
                    events::conflicts(db, user, time("start_time")?, time("end_time")?, None)
                        .await
                        .map_err(|e| e.message)?;
                Ok(json!({"conflicts": list.iter().map(events::view).collect::<Vec<_>>()}))
            }
            "get_medicine_cabinet" => self.drugs("/internal/cabinet").await,
            "get_today_doses" => self.drugs("/internal/doses/today").await,
            "get_expiring_drugs" => {
                let days = args["days"].as_i64().unwrap_or(30).clamp(0, 3650);
                self.drugs(&format!("/internal/users/{user}/expiring?days={days}"))
                    .await
            }
            other => Err(format!("no tool named {other}")),
        }
    }

    async fn drugs(&self, path: &str) -> Result<Value, String> {
        let res = self
            .state
            .internal
            .request(Method::GET, &self.state.drugs, path, Some(self.user))
            .send()
            .await
            .map_err(|_| "the medicine cabinet is unavailable right now".to_owned())?;
        if !res.status().is_success() {
            return Err(format!(
                "the medicine cabinet answered {}",
                res.status().as_u16()
            ));
        }
        res.json().await.map_err(|e| e.to_string())
    }
}
