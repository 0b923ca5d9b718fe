//! The tools the model may call, and their execution. Every change to an event is recorded
//! with the event as it was before, so the turn's snapshot can restore it exactly.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use reqwest::Method;
use serde_json::{Value, json};
use shared::entities::event::{self, Category, EventStatus, EventType, TimePeriod};
use shared::time::AppTime;
use uuid::Uuid;

use super::interactive;
use super::project_tools::{self, ProjectChange};
use super::snapshots;
use crate::events::store::{self, Scope, Target};
use crate::events::{self, Author, EventInput, Filter, Owner};
use crate::state::AppState;

/// One event changed in a turn: what it was before (`None`: the turn created it) and after
/// (`None`: the turn deleted it). `after` and `action` are absent from snapshots recorded
/// before they were kept.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub event_id: Uuid,
    pub before: Option<event::Model>,
    #[serde(default)]
    pub after: Option<event::Model>,
    #[serde(default)]
    pub action: Option<String>,
}

impl Change {
    /// `create`, `update` or `delete`, as the original's snapshots named them.
    pub fn action(&self) -> &str {
        self.action.as_deref().unwrap_or(if self.before.is_none() {
            "create"
        } else {
            "update"
        })
    }
}

fn function(name: &str, description: &str, parameters: Value) -> Value {
    json!({"type": "function", "function": {"name": name, "description": description, "parameters": parameters}})
}

pub fn definitions() -> Value {
    let time = "ISO 8601; without an offset it is the user's local time";
    let event_fields = json!({
        "title": {"type": "string"},
        "description": {"type": "string"},
        "notes": {"type": "string"},
        "event_date": {"type": "string", "description": "YYYY-MM-DD: the day a floating task belongs to"},
        "time_period": {"type": "string", "enum": TimePeriod::VALUES},
        "start_time": {"type": "string", "description": time},
        "end_time": {"type": "string", "description": format!("{time}; the due time of a deadline")},
        "duration": {"type": "integer", "description": "minutes"},
        "urgency": {"type": "integer", "minimum": 1, "maximum": 5},
        "importance": {"type": "integer", "minimum": 1, "maximum": 5},
        "is_deep_work": {"type": "boolean"},
        "event_type": {"type": "string", "enum": EventType::VALUES, "description": "schedule: fixed time; deadline: due by end_time; floating: a day, no time; habit; reminder"},
        "category": {"type": "string", "enum": Category::VALUES},
        "tags": {"type": "array", "items": {"type": "string"}},
        "location": {"type": "string"},
        "participants": {"type": "array", "items": {"type": "string"}},
        "repeat_pattern": {"type": "object", "description": "makes a routine repeating from event_date (or start_time's day): daily; weekly (weekdays, else the start's weekday); monthly (the start's day of month); custom (weekdays, or interval_days for every n days). time HH:MM local; end_date YYYY-MM-DD, the last day", "properties": {
            "type": {"type": "string", "enum": crate::events::input::RepeatPattern::KINDS},
            "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 6}, "description": "0 Sunday … 6 Saturday"},
            "time": {"type": "string", "description": "HH:MM"},
            "end_date": {"type": "string", "description": "YYYY-MM-DD"},
            "interval_days": {"type": "integer", "minimum": 1, "maximum": 365}
        }, "required": ["type"]},
        "habit_interval": {"type": "integer", "minimum": 1, "description": "with event_type habit: every n days"}
    });
    let mut update_fields = event_fields.clone();
    update_fields["event_id"] = json!({"type": "string"});
    update_fields["status"] = json!({"type": "string", "enum": EventStatus::VALUES});
    let mut all = json!([
        function(
            "create_event",
            "Add an event to the user's schedule",
            json!({"type": "object", "properties": event_fields, "required": ["title"]})
        ),
        function(
            "resolve_time",
            "Work out the date and time the user said in words (明天下午三点, 下周一, 后天晚上, 月底, 15号, 3小时后, next Friday 9am) in the user's time zone. Call it for every relative time before creating, moving or querying events; never work dates out yourself.",
            json!({"type": "object", "properties": {"phrase": {"type": "string", "description": "the user's words for the time, as they said them"}}, "required": ["phrase"]})
        ),
        function(
            "query_events",
            "List the user's events between two dates (inclusive, user's time zone), with the days of routines and habits (ids virtual_…: use them to change, move, complete or delete one day)",
            json!({"type": "object", "properties": {
                "start_date": {"type": "string"}, "end_date": {"type": "string"},
                "status": {"type": "string", "enum": EventStatus::VALUES},
                "event_type": {"type": "string", "enum": EventType::VALUES},
                "category": {"type": "string", "enum": Category::VALUES}
            }, "required": ["start_date", "end_date"]})
        ),
        function(
            "update_event",
            "Change an event",
            json!({"type": "object", "properties": update_fields, "required": ["event_id"]})
        ),
        function(
            "delete_event",
            "Delete an event, or one day of a routine or habit (its occurrence's id), or the whole series (scope all), or a day and the ones after (scope following)",
            json!({"type": "object", "properties": {"event_id": {"type": "string"}, "scope": {"type": "string", "enum": ["this", "all", "following"]}}, "required": ["event_id"]})
        ),
        function(
            "stop_repeating",
            "Stop a routine or habit from a day on (default today); the days before stay",
            json!({"type": "object", "properties": {"event_id": {"type": "string", "description": "the template's id or one of its occurrences"}, "from_date": {"type": "string", "description": "YYYY-MM-DD"}}, "required": ["event_id"]})
        ),
        function(
            "complete_event",
            "Mark an event done",
            json!({"type": "object", "properties": {"event_id": {"type": "string"}}, "required": ["event_id"]})
        ),
        function(
            "check_conflicts",
            "Timed events overlapping a time range",
            json!({"type": "object", "properties": {"start_time": {"type": "string", "description": time}, "end_time": {"type": "string", "description": time}}, "required": ["start_time", "end_time"]})
        ),
        function(
            "provide_suggestions",
            "Offer the user 2 to 4 tappable options (missing information, a confirmation, alternatives). value null: the user types it in.",
            json!({"type": "object", "properties": {"suggestions": {"type": "array", "minItems": 2, "maxItems": 4, "items": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "value": {"type": ["string", "null"]},
                    "description": {"type": "string"},
                    "probability": {"type": "integer", "minimum": 0, "maximum": 100, "description": "how likely the user picks it"}
                },
                "required": ["label"]
            }}}, "required": ["suggestions"]})
        ),
        function(
            "ask_user_questions",
            "Ask 1 to 5 questions at once instead of asking one per turn.",
            json!({"type": "object", "properties": {"questions": {"type": "array", "minItems": 1, "maxItems": 5, "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "text": {"type": "string"},
                    "type": {"type": "string", "enum": interactive::QUESTION_TYPES},
                    "options": {"type": "array", "items": {"type": "object", "properties": {"label": {"type": "string"}, "value": {"type": "string"}}, "required": ["label", "value"]}},
                    "placeholder": {"type": "string"}
                },
                "required": ["id", "text", "type"]
            }}}, "required": ["questions"]})
        ),
        function(
            "list_changes",
            "The user's recent changes made in chat that can be undone (newest first)",
            json!({"type": "object", "properties": {}})
        ),
        function(
            "undo_change",
            "Undo the latest change made in chat (\"撤销刚才的操作\"), or with snapshot_id revert that change and every later one",
            json!({"type": "object", "properties": {"snapshot_id": {"type": "string", "description": "from list_changes; omit for the latest"}}})
        ),
        function(
            "remember",
            "Keep a lasting fact the user told you (an allergy, a condition, a person, a preference, a routine, where they live) so later conversations know it",
            json!({"type": "object", "properties": {
                "content": {"type": "string", "description": "the fact, short, in the user's language"},
                "kind": {"type": "string", "enum": crate::memory::KINDS}
            }, "required": ["content", "kind"]})
        ),
        function(
            "forget",
            "The user asks you to forget something: delete every fact mentioning these words and remove the words from past messages and diaries",
            json!({"type": "object", "properties": {"words": {"type": "string", "description": "the words to forget, as the user said them (at least 2 characters)"}}, "required": ["words"]})
        ),
        function(
            "set_identity",
            "The user gives you a name (and maybe an emoji and a personality)",
            json!({"type": "object", "properties": {"name": {"type": "string"}, "emoji": {"type": "string"}, "vibe": {"type": "string"}}, "required": ["name"]})
        ),
        function(
            "get_medicine_cabinet",
            "The user's medicines with expiry status",
            json!({"type": "object", "properties": {}})
        ),
        function(
            "check_medicine_interactions",
            "Interactions and duplicate active ingredients across the user's medicine cabinet, from the cabinet's offline table (never your own knowledge)",
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
    ]);
    if let Some(list) = all.as_array_mut() {
        list.extend(project_tools::definitions());
    }
    all
}

pub struct ToolContext<'a> {
    pub state: &'a AppState,
    pub user: Uuid,
    pub tz: Tz,
    /// The turn's "now" (the app's `current_time` when it sent one).
    pub now: DateTime<Utc>,
    /// The turn's conversation (where a destructive action waits for the yes).
    pub conversation: Option<Uuid>,
    /// The user said yes to this one call: a destructive tool runs instead of asking.
    pub confirmed: bool,
    /// The action this turn proposed and that waits for the user's yes.
    pub pending_action: Option<Value>,
    /// The user's message of this turn (the source of what `remember` keeps).
    pub message_id: Option<Uuid>,
    /// Words the user asked to forget in this turn: they leave the turn's prompt and reply too.
    pub forgotten: Vec<String>,
    pub changes: Vec<Change>,
    /// Projects changed in the turn, for its snapshot beside the events.
    pub project_changes: Vec<ProjectChange>,
    pub actions: Vec<Value>,
    /// What `provide_suggestions`, `ask_user_questions` and the query tools leave for the
    /// answer (the last call of each wins, as in the original).
    pub suggestions: Option<Vec<interactive::Suggestion>>,
    pub questions: Option<Vec<interactive::Question>>,
    pub query_results: Vec<Value>,
}

/// How sure the model is of what it writes, as the original recorded for the agent.
const AGENT_CONFIDENCE: f64 = 0.8;

fn parse_target(args: &Value) -> Result<Target, String> {
    args["event_id"]
        .as_str()
        .and_then(|s| Target::parse(s).ok())
        .ok_or_else(|| "event_id must be an event's id".to_owned())
}

fn input(args: &Value) -> Result<EventInput, String> {
    let mut obj = args.as_object().cloned().unwrap_or_default();
    obj.remove("event_id");
    obj.remove("id");
    obj.remove("scope");
    EventInput::from_json(Value::Object(obj)).map_err(|e| e.message)
}

impl ToolContext<'_> {
    pub fn new(state: &AppState, user: Uuid, tz: Tz, now: DateTime<Utc>) -> ToolContext<'_> {
        ToolContext {
            state,
            user,
            tz,
            now,
            conversation: None,
            confirmed: false,
            pending_action: None,
            message_id: None,
            forgotten: Vec::new(),
            changes: Vec::new(),
            project_changes: Vec::new(),
            actions: Vec::new(),
            suggestions: None,
            questions: None,
            query_results: Vec::new(),
        }
    }

    pub(super) fn owner(&self) -> Owner {
        Owner {
            user: self.user,
            tz: self.tz,
        }
    }

    /// Only the first state of an event in a turn matters for restoring it; the last one is
    /// what the turn left.
    pub(super) fn record(
        &mut self,
        event_id: Uuid,
        before: Option<event::Model>,
        after: Option<event::Model>,
    ) {
        if let Some(c) = self.changes.iter_mut().find(|c| c.event_id == event_id) {
            c.after = after;
        } else {
            self.changes.push(Change {
                event_id,
                before,
                after,
                action: None,
            });
        }
        if let Some(c) = self.changes.iter_mut().find(|c| c.event_id == event_id) {
            c.action = Some(
                match (&c.before, &c.after) {
                    (None, _) => "create",
                    (Some(_), None) => "delete",
                    (Some(_), Some(_)) => "update",
                }
                .to_owned(),
            );
        }
    }

    pub(super) fn act(&mut self, kind: &str, e: &event::Model) -> Value {
        let view = events::view(e, self.tz);
        self.actions
            .push(json!({"type": kind, "event_id": e.id, "event": view}));
        view
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

    pub(super) async fn run(&mut self, name: &str, args: &Value) -> Result<Value, String> {
        if super::confirm::DESTRUCTIVE.contains(&name) && !self.confirmed {
            return Box::pin(self.propose(name, args)).await;
        }
        let db = &self.state.db;
        let owner = self.owner();
        match name {
            "create_event" => {
                let agent = Author::Agent {
                    confidence: AGENT_CONFIDENCE,
                };
                let (_, e) = store::create(db, owner, agent, input(args)?)
                    .await
                    .map_err(|e| e.message)?;
                self.record(e.id, None, Some(e.clone()));
                Ok(self.act("create_event", &e))
            }
            "update_event" => {
                let id = self.stored(parse_target(args)?).await?;
                let u = store::update(db, owner, id, input(args)?)
                    .await
                    .map_err(|e| e.message)?;
                self.record(id, Some(u.before), Some(u.after.clone()));
                for d in u.dropped {
                    self.record(d.id, Some(d), None);
                }
                Ok(self.act("update_event", &u.after))
            }
            "complete_event" => {
                let id = self.stored(parse_target(args)?).await?;
                let u = store::set_status(db, owner, id, EventStatus::Completed)
                    .await
                    .map_err(|e| e.message)?;
                self.record(id, Some(u.before), Some(u.after.clone()));
                Ok(self.act("complete_event", &u.after))
            }
            "delete_event" | "stop_repeating" => {
                let mut target = parse_target(args)?;
                let scope = if name == "stop_repeating" {
                    let day = match args["from_date"].as_str() {
                        Some(d) => d
                            .parse::<NaiveDate>()
                            .map_err(|_| "from_date must be YYYY-MM-DD".to_owned())?,
                        None => Utc::now().with_timezone(&self.tz).date_naive(),
                    };
                    let template = match target {
                        Target::Real(id) => {
                            let e = events::owned(db, self.user, id)
                                .await
                                .map_err(|e| e.message)?;
                            e.parent_event_id.unwrap_or(e.id)
                        }
                        Target::Occurrence(t, _) => t,
                    };
                    target = Target::Occurrence(template, day);
                    Scope::Following
                } else {
                    Scope::parse(args["scope"].as_str()).map_err(|e| e.message)?
                };
                let r = store::delete(db, owner, target, scope)
                    .await
                    .map_err(|e| e.message)?;
                for d in &r.deleted {
                    self.record(d.id, Some(d.clone()), None);
                }
                for (before, after) in r.template.iter().chain(&r.cancelled) {
                    self.record(before.id, Some(before.clone()), Some(after.clone()));
                }
                let ids: Vec<Uuid> = r.deleted.iter().map(|d| d.id).collect();
                self.actions
                    .push(json!({"type": name, "event_id": args["event_id"], "deleted": ids}));
                Ok(json!({"deleted": r.kind, "count": r.count()}))
            }
            "resolve_time" => {
                let phrase = args["phrase"]
                    .as_str()
                    .filter(|p| p.chars().count() <= 100)
                    .ok_or_else(|| "phrase must be the user's words for a time".to_owned())?;
                let r = super::when::resolve(phrase, self.now, self.tz)?;
                Ok(r.to_json(phrase))
            }
            "query_events" => {
                let date = |k: &str| -> Result<NaiveDate, String> {
                    args[k]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| format!("{k} must be YYYY-MM-DD"))
                };
                let pick = |k: &str| args[k].as_str().filter(|s| !s.is_empty());
                let (from, to) = (date("start_date")?, date("end_date")?);
                let filter = Filter {
                    from: Some(events::local_midnight(self.tz, from)),
                    to: Some(events::local_midnight(self.tz, to + Duration::days(1))),
                    status: pick("status").map(str::parse).transpose()?,
                    event_type: pick("event_type").map(str::parse).transpose()?,
                    category: pick("category").map(str::parse).transpose()?,
                    limit: 200,
                    ..Filter::default()
                };
                let list = events::query::list(db, self.user, &filter)
                    .await
                    .map_err(|e| e.message)?;
                let range = filter.from.zip(filter.to).unwrap_or_default();
                let occ = events::query::occurrences(db, self.user, &filter, range, self.tz, false)
                    .await
                    .map_err(|e| e.message)?;
                let views = serde_json::to_value(events::query::merged(&list, &occ, self.tz))
                    .map_err(|e| e.to_string())?;
                let views = views.as_array().map(Vec::as_slice).unwrap_or_default();
                if !views.is_empty() {
                    let shown: Vec<Value> = views.iter().take(10).cloned().collect();
                    self.query_results
                        .push(json!({"type": "events", "count": shown.len(), "events": shown}));
                }
                Ok(json!({"events": views}))
            }
            "check_conflicts" => {
                let time = |k: &str| -> Result<DateTime<Utc>, String> {
                    args[k]
                        .as_str()
                        .and_then(AppTime::parse)
                        .map(|t| t.in_zone(self.tz))
                        .ok_or_else(|| format!("{k} must be an ISO 8601 time"))
                };
                let list = events::query::conflicts(
                    db,
                    self.user,
                    time("start_time")?,
                    time("end_time")?,
                    None,
                )
                .await
                .map_err(|e| e.message)?;
                Ok(
                    json!({"conflicts": list.iter().map(|e| events::view(e, self.tz)).collect::<Vec<_>>()}),
                )
            }
            "provide_suggestions" => {
                let list = interactive::suggestions(args)?;
                self.suggestions = Some(list);
                Ok(
                    json!({"success": true, "message": "[OPTIONS] the options are shown to the user"}),
                )
            }
            "ask_user_questions" => {
                let list = interactive::questions(args)?;
                self.questions = Some(list);
                Ok(
                    json!({"success": true, "message": "[QUESTIONS] the questions are shown to the user"}),
                )
            }
            "list_changes" => {
                let rows = snapshots::recent(self.state, self.user, 10, false)
                    .await
                    .map_err(|e| e.message)?;
                Ok(json!({"changes": rows.iter().map(|s| json!({
                    "snapshot_id": s.id, "message": s.summary,
                    "at": s.created_at.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string(),
                })).collect::<Vec<_>>()}))
            }
            "undo_change" => Box::pin(self.undo(args)).await,
            "remember" => {
                let fact = crate::memory::NewFact {
                    kind: args["kind"].as_str().unwrap_or("other"),
                    content: args["content"].as_str().unwrap_or_default(),
                    confidence: 0.9,
                    sources: self.message_id.into_iter().collect(),
                    origin: "chat",
                    learnt_on: self.now.with_timezone(&self.tz).date_naive(),
                    supersedes: None,
                };
                let kept = crate::memory::remember(db, self.user, fact)
                    .await
                    .map_err(|e| e.message)?;
                self.actions
                    .push(json!({"type": "remember", "memory_id": kept.id}));
                Ok(json!({"remembered": kept.content, "id": kept.id}))
            }
            "forget" => {
                let words = args["words"].as_str().unwrap_or_default();
                let done = crate::memory::forget(self.state, self.user, words)
                    .await
                    .map_err(|e| e.message)?;
                self.forgotten.push(words.trim().to_owned());
                self.actions
                    .push(json!({"type": "forget", "memory_ids": done.facts}));
                Ok(json!({
                    "forgotten_facts": done.facts.len(), "messages_redacted": done.messages,
                    "diaries_redacted": done.diaries,
                    "message": "Done: the words are gone from memory, messages and diaries. Do not repeat them.",
                }))
            }
            "set_identity" => {
                let name = args["name"].as_str().unwrap_or_default();
                if name.trim().is_empty() || name.chars().count() > 20 {
                    return Err("name must be 1 to 20 characters".into());
                }
                let emoji = args["emoji"].as_str().unwrap_or_default();
                let vibe = args["vibe"].as_str().unwrap_or_default();
                if emoji.chars().count() > 8 || vibe.chars().count() > 100 {
                    return Err("emoji at most 8 characters, vibe at most 100".into());
                }
                crate::user_state::set_ai_identity(db, self.user, name, emoji, vibe)
                    .await
                    .map_err(|e| e.to_string())?;
                self.actions
                    .push(json!({"type": "set_identity", "name": name.trim()}));
                Ok(json!({"success": true, "name": name.trim()}))
            }
            "get_medicine_cabinet" => self.drugs("/internal/cabinet").await,
            "get_today_doses" => self.drugs("/internal/doses/today").await,
            "check_medicine_interactions" => self.drugs("/internal/checks").await,
            "get_expiring_drugs" => {
                let days = args["days"].as_i64().unwrap_or(30).clamp(0, 3650);
                let user = self.user;
                self.drugs(&format!("/internal/users/{user}/expiring?days={days}"))
                    .await
            }
            name if project_tools::NAMES.contains(&name) => {
                Box::pin(self.run_project(name, args)).await
            }
            other => Err(format!("no tool named {other}")),
        }
    }

    /// Undo the latest change (or revert one and the ones after it, newest first). Reverting
    /// more than one turn's changes is a bulk change: it waits for the user's yes, bound to
    /// how many it reverts.
    async fn undo(&mut self, args: &Value) -> Result<Value, String> {
        let id = match args["snapshot_id"].as_str().filter(|s| !s.is_empty()) {
            Some(s) => Some(
                s.trim()
                    .parse::<Uuid>()
                    .map_err(|_| "snapshot_id must be an id from list_changes".to_owned())?,
            ),
            None => None,
        };
        let live = snapshots::recent(self.state, self.user, 1000, false)
            .await
            .map_err(|e| e.message)?;
        let taken: Vec<_> = match id {
            None => live.iter().take(1).collect(),
            Some(id) => {
                let target = live.iter().find(|s| s.id == id).ok_or_else(|| {
                    "no such change to undo (already undone or expired)".to_owned()
                })?;
                live.iter()
                    .filter(|s| (s.created_at, s.id) >= (target.created_at, target.id))
                    .collect()
            }
        };
        if taken.is_empty() {
            return Err("没有可以撤销的操作 / nothing to undo".into());
        }
        let count = taken.len() as u64;
        if count > 1 && !self.confirmed {
            let summaries: Vec<&str> = taken.iter().map(|s| s.summary.as_str()).collect();
            let mut bound = args.clone();
            bound["count"] = json!(count);
            bound["summaries"] = json!(summaries.join("；"));
            return Box::pin(self.propose("undo_change", &bound)).await;
        }
        if self.confirmed && args["count"].as_u64().is_some_and(|n| n != count) {
            return Err("确认之后又有了新的修改，没有撤销；请重新确认 / there were new changes since the yes: nothing was undone".into());
        }
        let done = snapshots::revert(self.state, self.user, id)
            .await
            .map_err(|e| e.message)?;
        let views: Vec<Value> = done.iter().map(|s| snapshots::view(s, self.tz)).collect();
        self.actions.push(json!({
            "type": "undo", "snapshot_ids": done.iter().map(|s| s.id).collect::<Vec<_>>(),
        }));
        self.query_results
            .push(json!({"type": "snapshots", "count": views.len(), "snapshots": views}));
        let mut body = snapshots::reverted(&done).map_err(|e| e.message)?;
        body["snapshots"] = Value::Array(views);
        Ok(body)
    }

    /// The stored event a tool acts on: an occurrence is made into an instance first (a
    /// change the snapshot records, so undo removes it again).
    async fn stored(&mut self, target: Target) -> Result<Uuid, String> {
        match target {
            Target::Real(id) => Ok(id),
            Target::Occurrence(template, date) => {
                let (m, made) = store::instance(&self.state.db, self.owner(), template, date)
                    .await
                    .map_err(|e| e.message)?;
                if made {
                    self.record(m.id, None, Some(m.clone()));
                }
                Ok(m.id)
            }
        }
    }

    /// Whether the turn changed anything a snapshot would restore.
    pub fn changed_anything(&self) -> bool {
        !self.changes.is_empty() || !self.project_changes.is_empty()
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
