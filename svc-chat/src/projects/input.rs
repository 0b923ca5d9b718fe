//! What a client or the model may set on a project: the original's `ProjectCreate` and
//! `ProjectUpdate`, parsed and checked before anything is written.

use serde::Deserialize;
use serde_json::{Map, Value};
use shared::ApiError;
use shared::entities::project::{EnergyType, ProjectMode, ProjectType};

/// Fields of the app's own project JSON that the server sets: a client sending its copy
/// back has them dropped, not refused.
const SERVER_FIELDS: &[&str] = &[
    "id",
    "user_id",
    "created_at",
    "updated_at",
    "total_tasks",
    "completed_tasks",
    "total_focus_minutes",
    "one_off_tasks_total",
    "one_off_tasks_completed",
    "routine_stats",
];

/// Fields the original's `ProjectCreate` did not take and ignored: a new project is NORMAL
/// and active (the sprint warning is `POST /projects/{id}/mode`'s).
const NOT_ON_CREATE: &[&str] = &["current_mode", "is_active"];

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 5000;
/// Bytes of `target_kpi` as JSON.
pub const KPI_MAX: usize = 4096;

/// A field left out or sent as `null` is left as it is (the original dropped `None`s).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectInput {
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<ProjectType>,
    pub base_tier: Option<i64>,
    pub current_mode: Option<ProjectMode>,
    pub energy_type: Option<EnergyType>,
    pub target_kpi: Option<Map<String, Value>>,
    pub is_active: Option<bool>,
}

impl ProjectInput {
    /// `POST /projects`: the server's own fields and the two the original ignored are
    /// dropped; any other unknown field is refused by name.
    pub fn create_from_json(body: Value) -> Result<Self, ApiError> {
        let mut map = object(body)?;
        for f in SERVER_FIELDS.iter().chain(NOT_ON_CREATE) {
            map.remove(*f);
        }
        let input = Self::parse(map)?;
        if input.title.is_none() {
            return Err(ApiError::validation("title is required"));
        }
        Ok(input)
    }

    /// `PUT /projects/{id}`: what was sent changes; nothing known sent is refused.
    pub fn update_from_json(body: Value) -> Result<Self, ApiError> {
        let mut map = object(body)?;
        for f in SERVER_FIELDS {
            map.remove(*f);
        }
        let input = Self::parse(map)?;
        if input.is_empty() {
            return Err(ApiError::validation("no fields to update"));
        }
        Ok(input)
    }

    fn parse(map: Map<String, Value>) -> Result<Self, ApiError> {
        let input: Self = serde_path_to_error::deserialize(Value::Object(map)).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                ApiError::validation(format!("invalid project: {inner}"))
            } else {
                ApiError::validation(format!("invalid project: {path}: {inner}"))
            }
        })?;
        input.check()?;
        Ok(input)
    }

    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.kind.is_none()
            && self.base_tier.is_none()
            && self.current_mode.is_none()
            && self.energy_type.is_none()
            && self.target_kpi.is_none()
            && self.is_active.is_none()
    }

    fn check(&self) -> Result<(), ApiError> {
        if let Some(t) = &self.title
            && (t.trim().is_empty() || t.trim().chars().count() > TITLE_MAX)
        {
            return Err(ApiError::validation(format!(
                "title must be 1 to {TITLE_MAX} characters"
            )));
        }
        if self
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > DESCRIPTION_MAX)
        {
            return Err(ApiError::validation(format!(
                "description is longer than {DESCRIPTION_MAX} characters"
            )));
        }
        if let Some(tier) = self.base_tier
            && !(0..=2).contains(&tier)
        {
            return Err(ApiError::validation(format!(
                "base_tier must be 0 (core), 1 (growth) or 2 (interest), not {tier}"
            )));
        }
        if let Some(kpi) = &self.target_kpi
            && Value::Object(kpi.clone()).to_string().len() > KPI_MAX
        {
            return Err(ApiError::validation(format!(
                "target_kpi is larger than {KPI_MAX} bytes"
            )));
        }
        Ok(())
    }
}

fn object(body: Value) -> Result<Map<String, Value>, ApiError> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::validation("the body must be a JSON object")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;
    use serde_json::json;

    #[test]
    fn the_apps_copy_is_accepted_and_unknown_fields_are_refused_by_name() {
        let i = ProjectInput::update_from_json(json!({
            "id": "x", "user_id": "y", "total_tasks": 3, "routine_stats": {},
            "title": "考研", "current_mode": "SPRINT",
        }))
        .unwrap();
        assert_eq!(i.title.as_deref(), Some("考研"));
        assert_eq!(i.current_mode, Some(ProjectMode::Sprint));
        let err =
            ProjectInput::create_from_json(json!({"title": "x", "colour": "red"})).unwrap_err();
        assert!(err.message.contains("colour"), "{}", err.message);
        // The original's create ignored the mode and the archive flag.
        let c = ProjectInput::create_from_json(
            json!({"title": "x", "current_mode": "SPRINT", "is_active": false}),
        )
        .unwrap();
        assert_eq!((c.current_mode, c.is_active), (None, None));
    }

    #[test]
    fn vocabulary_tiers_and_sizes_are_checked() {
        for (bad, word) in [
            (json!({"title": "x", "type": "finite"}), "type"),
            (
                json!({"title": "x", "energy_type": "SPIRITUAL"}),
                "energy_type",
            ),
            (json!({"title": "x", "base_tier": 3}), "base_tier"),
            (json!({"title": "x", "base_tier": -1}), "base_tier"),
            (json!({"title": "x", "base_tier": "1"}), "base_tier"),
            (json!({"title": "  "}), "title"),
            (json!({"title": "x".repeat(201)}), "title"),
            (json!({"title": "x", "target_kpi": [1]}), "target_kpi"),
            (
                json!({"title": "x", "target_kpi": {"k": "v".repeat(5000)}}),
                "target_kpi",
            ),
            (json!({"description": "d"}), "title"),
            (json!(["x"]), "object"),
        ] {
            let err = ProjectInput::create_from_json(bad.clone()).unwrap_err();
            assert!(err.message.contains(word), "{bad}: {}", err.message);
        }
        let err = ProjectInput::update_from_json(json!({"current_mode": "RUSH"})).unwrap_err();
        assert!(err.message.contains("current_mode"), "{}", err.message);
        let err = ProjectInput::update_from_json(json!({"id": "x"})).unwrap_err();
        assert!(err.message.contains("no fields"), "{}", err.message);
    }
}
