//! What a client or the model may set on an event: the original's `EventCreate` and
//! `EventUpdate`, parsed and validated before anything is written.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use shared::ApiError;
use shared::entities::event::{Category, EnergyLevel, EventStatus, EventType, TimePeriod};
use shared::time::AppTime;
use uuid::Uuid;

/// Fields of the app's own event JSON that a client sends back and the original ignored
/// (`EventUpdate` had `extra = "ignore"`): the server sets them, so they are dropped.
const SERVER_FIELDS: &[&str] = &[
    "user_id",
    "created_at",
    "updated_at",
    "created_by",
    "ai_confidence",
    "ai_reasoning",
    "is_virtual",
    "template_id",
    "subtasks",
    "habit_completed_count",
    "habit_total_count",
    "changed_at",
];

/// Every field of an event a client may send.
const FIELDS: &[&str] = &[
    "id",
    "title",
    "description",
    "notes",
    "event_date",
    "time_period",
    "start_time",
    "end_time",
    "duration",
    "energy_required",
    "urgency",
    "importance",
    "is_deep_work",
    "event_type",
    "category",
    "tags",
    "location",
    "participants",
    "status",
    "completed_at",
    "started_at",
    "repeat_pattern",
    "routine_batch_id",
    "is_template",
    "habit_interval",
    "parent_event_id",
    "energy_consumption",
    "is_physically_demanding",
    "is_mentally_demanding",
    "project_id",
];

/// `Some(None)` when the client sent `null` (clear it), `None` when it left the field out.
fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// Create only: a client-chosen id (the app makes ids offline).
    pub id: Option<Uuid>,
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub event_date: Option<Option<AppTime>>,
    #[serde(default, deserialize_with = "nullable")]
    pub time_period: Option<Option<TimePeriod>>,
    #[serde(default, deserialize_with = "nullable")]
    pub start_time: Option<Option<AppTime>>,
    #[serde(default, deserialize_with = "nullable")]
    pub end_time: Option<Option<AppTime>>,
    #[serde(default, deserialize_with = "nullable")]
    pub duration: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    pub energy_required: Option<Option<EnergyLevel>>,
    pub urgency: Option<i32>,
    pub importance: Option<i32>,
    pub is_deep_work: Option<bool>,
    pub event_type: Option<EventType>,
    pub category: Option<Category>,
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub location: Option<Option<String>>,
    pub participants: Option<Vec<String>>,
    /// Update only (a new event is always PENDING).
    pub status: Option<EventStatus>,
    #[serde(default, deserialize_with = "nullable")]
    pub completed_at: Option<Option<AppTime>>,
    #[serde(default, deserialize_with = "nullable")]
    pub started_at: Option<Option<AppTime>>,
    #[serde(default, deserialize_with = "nullable")]
    pub repeat_pattern: Option<Option<RepeatPattern>>,
    #[serde(default, deserialize_with = "nullable")]
    pub routine_batch_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub is_template: Option<Option<bool>>,
    #[serde(default, deserialize_with = "nullable")]
    pub habit_interval: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    pub parent_event_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    pub energy_consumption: Option<Option<EnergyConsumption>>,
    pub is_physically_demanding: Option<bool>,
    pub is_mentally_demanding: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub project_id: Option<Option<Uuid>>,
}

/// `{type, weekdays?, time?, end_date?}`; `interval_days` is what the original wrote for a
/// habit repeating every n days.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RepeatPattern {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekdays: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_days: Option<u16>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnergyDimension {
    pub level: String,
    pub score: i32,
    pub description: String,
    #[serde(default)]
    pub factors: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnergyConsumption {
    pub physical: EnergyDimension,
    pub mental: EnergyDimension,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluated_by: Option<String>,
}

impl EventInput {
    /// Parse a body: the server-set fields the app echoes back are dropped, anything else
    /// unknown is refused by name.
    pub fn from_json(body: Value) -> Result<Self, ApiError> {
        let Value::Object(mut map) = body else {
            return Err(ApiError::validation("the body must be a JSON object"));
        };
        strip_server_fields(&mut map);
        Self::parse(map)
    }

    /// An update: the original's `EventUpdate` ignored every field it did not know (the app
    /// sends its whole copy of the event back), so unknown fields are dropped, not refused.
    pub fn update_from_json(body: Value) -> Result<Self, ApiError> {
        let Value::Object(mut map) = body else {
            return Err(ApiError::validation("the body must be a JSON object"));
        };
        let unknown: Vec<String> = map
            .keys()
            .filter(|k| !FIELDS.contains(&k.as_str()) || k.as_str() == "id")
            .cloned()
            .collect();
        for k in &unknown {
            map.remove(k);
        }
        if !unknown.is_empty() {
            tracing::debug!(fields = ?unknown, "event update: fields ignored");
        }
        Self::parse(map)
    }

    fn parse(map: Map<String, Value>) -> Result<Self, ApiError> {
        let input: Self = serde_path_to_error::deserialize(Value::Object(map)).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                ApiError::validation(format!("invalid event: {inner}"))
            } else {
                ApiError::validation(format!("invalid event: {path}: {inner}"))
            }
        })?;
        input.check()?;
        Ok(input)
    }

    pub fn is_empty(&self) -> bool {
        self.sent_fields().is_empty()
    }

    /// The names of the fields that were sent.
    pub fn sent_fields(&self) -> Vec<&'static str> {
        let mut sent = Vec::new();
        let mut mark = |name: &'static str, present: bool| {
            if present {
                sent.push(name);
            }
        };
        mark("title", self.title.is_some());
        mark("description", self.description.is_some());
        mark("notes", self.notes.is_some());
        mark("event_date", self.event_date.is_some());
        mark("time_period", self.time_period.is_some());
        mark("start_time", self.start_time.is_some());
        mark("end_time", self.end_time.is_some());
        mark("duration", self.duration.is_some());
        mark("energy_required", self.energy_required.is_some());
        mark("urgency", self.urgency.is_some());
        mark("importance", self.importance.is_some());
        mark("is_deep_work", self.is_deep_work.is_some());
        mark("event_type", self.event_type.is_some());
        mark("category", self.category.is_some());
        mark("tags", self.tags.is_some());
        mark("location", self.location.is_some());
        mark("participants", self.participants.is_some());
        mark("status", self.status.is_some());
        mark("completed_at", self.completed_at.is_some());
        mark("started_at", self.started_at.is_some());
        mark("repeat_pattern", self.repeat_pattern.is_some());
        mark("routine_batch_id", self.routine_batch_id.is_some());
        mark("is_template", self.is_template.is_some());
        mark("habit_interval", self.habit_interval.is_some());
        mark("parent_event_id", self.parent_event_id.is_some());
        mark("energy_consumption", self.energy_consumption.is_some());
        mark(
            "is_physically_demanding",
            self.is_physically_demanding.is_some(),
        );
        mark(
            "is_mentally_demanding",
            self.is_mentally_demanding.is_some(),
        );
        mark("project_id", self.project_id.is_some());
        sent
    }

    fn check(&self) -> Result<(), ApiError> {
        if let Some(t) = &self.title
            && (t.trim().is_empty() || t.chars().count() > 200)
        {
            return Err(ApiError::validation("title must be 1 to 200 characters"));
        }
        for (name, text, max) in [
            ("description", flat(&self.description), 5000),
            ("notes", flat(&self.notes), 5000),
            ("location", flat(&self.location), 200),
            ("routine_batch_id", flat(&self.routine_batch_id), 100),
        ] {
            if text.is_some_and(|t| t.chars().count() > max) {
                return Err(ApiError::validation(format!(
                    "{name} is longer than {max} characters"
                )));
            }
        }
        for (name, value) in [("urgency", self.urgency), ("importance", self.importance)] {
            if value.is_some_and(|v| !(1..=5).contains(&v)) {
                return Err(ApiError::validation(format!("{name} must be 1 to 5")));
            }
        }
        if let Some(Some(d)) = self.duration
            && !(0..=60 * 24 * 31).contains(&d)
        {
            return Err(ApiError::validation("duration must be 0 to 44640 minutes"));
        }
        if let Some(Some(n)) = self.habit_interval
            && !(1..=365).contains(&n)
        {
            return Err(ApiError::validation("habit_interval must be 1 to 365 days"));
        }
        for (name, list, max_items, max_len) in [
            ("tags", &self.tags, 20, 50),
            ("participants", &self.participants, 50, 100),
        ] {
            if list.as_ref().is_some_and(|l| {
                l.len() > max_items || l.iter().any(|x| x.chars().count() > max_len)
            }) {
                return Err(ApiError::validation(format!(
                    "at most {max_items} {name} of at most {max_len} characters"
                )));
            }
        }
        if let Some(Some(p)) = &self.repeat_pattern {
            p.check()?;
        }
        if let Some(Some(e)) = &self.energy_consumption {
            for (name, d) in [("physical", &e.physical), ("mental", &e.mental)] {
                if !(0..=100).contains(&d.score) {
                    return Err(ApiError::validation(format!(
                        "energy_consumption.{name}.score must be 0 to 100"
                    )));
                }
                if !["low", "medium", "high"].contains(&d.level.as_str()) {
                    return Err(ApiError::validation(format!(
                        "energy_consumption.{name}.level must be low, medium or high"
                    )));
                }
            }
        }
        Ok(())
    }
}

fn flat(v: &Option<Option<String>>) -> Option<&str> {
    v.as_ref().and_then(|x| x.as_deref())
}

fn strip_server_fields(map: &mut Map<String, Value>) {
    for f in SERVER_FIELDS {
        map.remove(*f);
    }
}

impl RepeatPattern {
    pub const KINDS: &[&str] = &["daily", "weekly", "monthly", "custom"];

    fn check(&self) -> Result<(), ApiError> {
        if !Self::KINDS.contains(&self.kind.as_str()) {
            return Err(ApiError::validation(format!(
                "repeat_pattern.type must be one of {}",
                Self::KINDS.join(", ")
            )));
        }
        if self
            .weekdays
            .as_ref()
            .is_some_and(|w| w.is_empty() || w.len() > 7 || w.iter().any(|d| *d > 6))
        {
            return Err(ApiError::validation(
                "repeat_pattern.weekdays must be 1 to 7 days, 0 (Sunday) to 6 (Saturday)",
            ));
        }
        if let Some(t) = &self.time
            && chrono::NaiveTime::parse_from_str(t, "%H:%M").is_err()
        {
            return Err(ApiError::validation("repeat_pattern.time must be HH:MM"));
        }
        if let Some(d) = &self.end_date
            && NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err()
        {
            return Err(ApiError::validation(
                "repeat_pattern.end_date must be YYYY-MM-DD",
            ));
        }
        if self.interval_days.is_some_and(|n| !(1..=365).contains(&n)) {
            return Err(ApiError::validation(
                "repeat_pattern.interval_days must be 1 to 365",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;
    use serde_json::json;

    #[test]
    fn the_apps_echoed_fields_are_dropped_and_others_refused_by_name() {
        let ok = EventInput::from_json(json!({
            "title": "跑步", "user_id": "someone-else", "created_at": "2026-01-01T00:00:00",
            "ai_confidence": 0.3, "subtasks": [], "is_virtual": false,
        }))
        .unwrap();
        assert_eq!(ok.title.as_deref(), Some("跑步"));
        let err = EventInput::from_json(json!({"title": "x", "colour": "red"})).unwrap_err();
        assert!(err.message.contains("colour"), "{}", err.message);
    }

    #[test]
    fn an_update_drops_what_it_does_not_know_as_the_original_did() {
        let i = EventInput::update_from_json(json!({
            "id": "7d0c6a5e-2f41-4b8e-9a57-0c1f1f0b9a11", "title": "x", "colour": "red",
            "anchor_time": "10:00",
        }))
        .unwrap();
        assert_eq!(i.sent_fields(), ["title"]);
        assert!(EventInput::update_from_json(json!({"urgency": 9})).is_err());
        // Every field the struct takes is in FIELDS (a new one must be added there too).
        for f in FIELDS {
            let mut body = serde_json::Map::new();
            body.insert((*f).to_owned(), Value::Null);
            let err = EventInput::parse(body)
                .err()
                .map(|e| e.message)
                .unwrap_or_default();
            assert!(!err.contains("unknown field"), "{f}: {err}");
        }
    }

    #[test]
    fn null_clears_and_absent_keeps() {
        let i = EventInput::from_json(json!({"location": null})).unwrap();
        assert_eq!(i.location, Some(None));
        assert_eq!(i.notes, None);
        assert!(!i.is_empty());
        assert!(EventInput::from_json(json!({"id": "x"})).is_err());
        assert!(EventInput::from_json(json!({})).unwrap().is_empty());
    }

    #[test]
    fn ranges_and_vocabulary_are_checked() {
        for bad in [
            json!({"urgency": 6}),
            json!({"importance": 0}),
            json!({"category": "work"}),
            json!({"event_type": "meeting"}),
            json!({"status": "done"}),
            json!({"time_period": "EVENING"}),
            json!({"repeat_pattern": {"type": "yearly"}}),
            json!({"repeat_pattern": {"type": "weekly", "weekdays": [7]}}),
            json!({"repeat_pattern": {"type": "daily", "time": "25:00"}}),
            json!({"energy_consumption": {"physical": {"level": "low", "score": 101, "description": ""}, "mental": {"level": "low", "score": 1, "description": ""}}}),
            json!({"start_time": "tomorrow"}),
            json!({"tags": vec!["a"; 21]}),
        ] {
            assert!(EventInput::from_json(bad.clone()).is_err(), "{bad}");
        }
    }
}
