//! The daily check-ins (morning briefing, afternoon check-in, evening switch, closing
//! ritual): written by the model from the user's day, or skipped when the day holds nothing
//! worth saying, or — with no model, or when it fails — put in plain words from a template.
//! Each is decided once per (user, kind, local date) (`checkins`); a sent one is also an
//! assistant message in the user's most recent conversation, so the chat timeline has it.
//! svc-scheduler decides when (`svc-scheduler/src/checkins.rs`) and delivers it.
//!
//! What each looks at (the user's zone): the morning, the events before noon and those of no
//! time, doses before noon, drugs about to expire and yesterday's diary; the afternoon and
//! the evening, their part of the day (12–18, 18–24) and doses missed so far; the closing
//! ritual, the whole day. The original skips the afternoon and evening ones when their part
//! of the day is empty; here every kind is skipped without a model call when it has nothing to
//! talk about, and the model may still decline (`should_send: false`).

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use reqwest::Method;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde_json::{Value, json};
use shared::ApiError;
use shared::contracts::{CabinetDrug, Dose, DoseStatus};
use shared::entities::event::{EventStatus, TimePeriod};
use shared::entities::{checkin, conversation, message, user};
use shared::llm::extract_json_object;
use uuid::Uuid;

use crate::events::query::{self, Filter};
use crate::state::AppState;
use crate::user_state;

/// Items of each list shown to the model or in a template.
const LIST_MAX: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Morning,
    Afternoon,
    Evening,
    Closing,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "morning" => Some(Kind::Morning),
            "afternoon" => Some(Kind::Afternoon),
            "evening" => Some(Kind::Evening),
            "closing" => Some(Kind::Closing),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Morning => "morning",
            Kind::Afternoon => "afternoon",
            Kind::Evening => "evening",
            Kind::Closing => "closing",
        }
    }

    /// The hours of the day it looks at, `[from, to)`.
    fn hours(self) -> (u32, u32) {
        match self {
            Kind::Morning => (0, 12),
            Kind::Afternoon => (12, 18),
            Kind::Evening => (18, 24),
            Kind::Closing => (0, 24),
        }
    }

    /// An event of no time belongs to it by its part of the day.
    fn takes_period(self, p: Option<TimePeriod>) -> bool {
        match self {
            Kind::Closing => true,
            Kind::Morning => matches!(
                p,
                None | Some(TimePeriod::Morning) | Some(TimePeriod::Anytime)
            ),
            Kind::Afternoon => p == Some(TimePeriod::Afternoon),
            Kind::Evening => p == Some(TimePeriod::Night),
        }
    }

    /// The title when the model gives none, and the template's.
    fn title(self, zh: bool) -> &'static str {
        match (self, zh) {
            (Kind::Morning, true) => "🌅 早安简报",
            (Kind::Afternoon, true) => "☀️ 午间检查",
            (Kind::Evening, true) => "🌙 晚间切换",
            (Kind::Closing, true) => "🛌 睡前仪式",
            (Kind::Morning, false) => "🌅 Morning briefing",
            (Kind::Afternoon, false) => "☀️ Afternoon check-in",
            (Kind::Evening, false) => "🌙 Evening switch",
            (Kind::Closing, false) => "🛌 Closing ritual",
        }
    }
}

/// One line of the day: `09:00 团队周会` and its state.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub time: Option<String>,
    pub text: String,
    pub done: bool,
}

impl Line {
    fn show(&self) -> String {
        match &self.time {
            Some(t) => format!("{t} {}", self.text),
            None => self.text.clone(),
        }
    }
}

/// What a check-in can talk about.
#[derive(Debug, Clone, Default)]
pub struct Day {
    pub events: Vec<Line>,
    /// Doses of its part of the day (taken ones are `done`).
    pub doses: Vec<Line>,
    /// Doses missed earlier today.
    pub missed: Vec<String>,
    /// Drugs expiring soon, `name (N 天)`.
    pub expiring: Vec<String>,
    /// Yesterday's diary, for the morning.
    pub diary: Option<String>,
    /// The last day's messages, one short line each.
    pub recent: Vec<String>,
}

impl Day {
    /// Whether there is anything to say: something planned, a dose due or missed, a drug
    /// expiring. A diary or a chat alone is not reason enough to write to someone.
    pub fn worth_saying(&self) -> bool {
        !self.events.is_empty()
            || self.doses.iter().any(|d| !d.done)
            || !self.missed.is_empty()
            || !self.expiring.is_empty()
    }
}

/// Decide the user's check-in of `date` (once: later calls answer what was decided).
#[tracing::instrument(name = "checkin.generate", skip_all, fields(user.id = %user, kind = kind.name(), %date))]
pub async fn generate(
    state: &AppState,
    user: Uuid,
    kind: Kind,
    date: NaiveDate,
) -> Result<Value, ApiError> {
    if let Some(done) = find(state, user, kind, date).await? {
        return Ok(view(&done));
    }
    let tz = state.timezone(user).await?;
    let zh = chinese(state, user).await?;
    let day = gather(state, user, kind, date, tz).await?;
    let now = Utc::now();
    let decision = if !day.worth_saying() {
        Decision::skip("rules", "nothing planned, due or expiring")
    } else if !state.llm.is_configured() {
        Decision::send("template", kind.title(zh), &template(kind, &day, zh))
    } else {
        match ask_model(state, user, kind, &day, now.with_timezone(&tz), zh).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "check-in written from the template: the model failed");
                Decision::send("template", kind.title(zh), &template(kind, &day, zh))
            }
        }
    };
    store(state, user, kind, date, decision).await?;
    let saved = find(state, user, kind, date)
        .await?
        .ok_or_else(|| ApiError::internal("check-in vanished"))?;
    Ok(view(&saved))
}

struct Decision {
    sent: bool,
    source: &'static str,
    title: String,
    body: String,
    reason: Option<String>,
}

impl Decision {
    fn skip(source: &'static str, reason: &str) -> Decision {
        Decision {
            sent: false,
            source,
            title: String::new(),
            body: String::new(),
            reason: Some(reason.chars().take(500).collect()),
        }
    }

    fn send(source: &'static str, title: &str, body: &str) -> Decision {
        Decision {
            sent: true,
            source,
            title: title.chars().take(60).collect(),
            body: body.chars().take(1000).collect(),
            reason: None,
        }
    }
}

async fn find(
    state: &AppState,
    user: Uuid,
    kind: Kind,
    date: NaiveDate,
) -> Result<Option<checkin::Model>, ApiError> {
    Ok(checkin::Entity::find()
        .filter(checkin::Column::UserId.eq(user))
        .filter(checkin::Column::Kind.eq(kind.name()))
        .filter(checkin::Column::CheckinDate.eq(date))
        .one(&state.db)
        .await?)
}

pub fn view(c: &checkin::Model) -> Value {
    json!({
        "id": c.id, "kind": c.kind, "date": c.checkin_date, "status": c.status,
        "source": c.source, "title": c.title, "body": c.body, "reason": c.reason,
        "conversation_id": c.conversation_id, "message_id": c.message_id,
        "created_at": c.created_at,
    })
}

/// Whether the user reads Chinese (`preferences.language`: anything but English).
async fn chinese(state: &AppState, user: Uuid) -> Result<bool, ApiError> {
    let prefs: Option<Value> = user::Entity::find_by_id(user)
        .select_only()
        .column(user::Column::Preferences)
        .into_tuple()
        .one(&state.db)
        .await?;
    Ok(!prefs
        .as_ref()
        .and_then(|p| p.get("language"))
        .and_then(Value::as_str)
        .is_some_and(|l| l.to_ascii_lowercase().starts_with("en")))
}

fn hhmm(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%H:%M").to_string()
}

/// The user's day as the check-in sees it. The cabinet's parts are left out when svc-drugs
/// cannot be reached (the check-in goes with what is known).
pub async fn gather(
    state: &AppState,
    user: Uuid,
    kind: Kind,
    date: NaiveDate,
    tz: Tz,
) -> Result<Day, ApiError> {
    let (from, to) = (
        shared::time::local_midnight(tz, date),
        shared::time::local_midnight(tz, date + Duration::days(1)),
    );
    let (h0, h1) = kind.hours();
    let in_part = |start: Option<DateTime<Utc>>, period: Option<TimePeriod>| match start {
        Some(s) => {
            let h = s.with_timezone(&tz).hour();
            h0 <= h && h < h1
        }
        None => kind.takes_period(period),
    };
    let filter = Filter {
        from: Some(from),
        to: Some(to),
        limit: 200,
        ..Filter::default()
    };
    let real = query::list(&state.db, user, &filter).await?;
    let virt = query::occurrences(&state.db, user, &filter, (from, to), tz, false).await?;
    let mut events: Vec<(Option<DateTime<Utc>>, Line)> = real
        .iter()
        .chain(virt.iter().map(|v| &v.model))
        .filter(|e| e.status != EventStatus::Cancelled && in_part(e.start_time, e.time_period))
        .map(|e| {
            (
                e.start_time,
                Line {
                    time: e.start_time.map(|t| hhmm(t, tz)),
                    text: e.title.chars().take(80).collect(),
                    done: e.status == EventStatus::Completed,
                },
            )
        })
        .collect();
    events.sort_by_key(|(start, _)| (start.is_none(), *start));
    let mut day = Day {
        events: events.into_iter().map(|(_, l)| l).collect(),
        ..Day::default()
    };
    // Doses: svc-drugs answers for the user's today; a closing ritual after midnight has none.
    let today = Utc::now().with_timezone(&tz).date_naive();
    if today == date {
        match cabinet::<Vec<Dose>>(state, user, "/internal/doses/today").await {
            Ok(doses) => {
                for d in doses {
                    let hour: u32 = d
                        .local_time
                        .get(..2)
                        .and_then(|h| h.parse().ok())
                        .unwrap_or(0);
                    let text = format!("{} {}{}", d.drug_name, number(d.amount), d.unit);
                    if d.status == DoseStatus::Missed && hour < h0 {
                        day.missed.push(format!("{} {text}", d.local_time));
                    } else if h0 <= hour && hour < h1 && d.status != DoseStatus::Skipped {
                        day.doses.push(Line {
                            time: Some(d.local_time.clone()),
                            text,
                            done: d.status == DoseStatus::Taken,
                        });
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "check-in without the cabinet's doses"),
        }
    }
    if kind == Kind::Morning {
        match cabinet::<Vec<CabinetDrug>>(state, user, &format!("/internal/users/{user}/expiring"))
            .await
        {
            Ok(drugs) => {
                day.expiring = drugs
                    .into_iter()
                    .map(|d| match d.days_to_expiry {
                        Some(n) => format!("{} ({n})", d.name),
                        None => d.name,
                    })
                    .collect();
            }
            Err(e) => tracing::warn!(error = %e, "check-in without the cabinet's expiring drugs"),
        }
        day.diary = crate::diary::find(state, user, date - Duration::days(1))
            .await?
            .map(|d| d.summary.chars().take(600).collect());
    }
    let since = Utc::now() - Duration::hours(24);
    let recent = message::Entity::find()
        .filter(message::Column::UserId.eq(user))
        .filter(message::Column::CreatedAt.gte(since))
        .order_by_desc(message::Column::CreatedAt)
        .limit(10)
        .all(&state.db)
        .await?;
    day.recent = recent
        .iter()
        .rev()
        .map(|m| {
            format!(
                "[{}] {}",
                m.role,
                m.content.chars().take(60).collect::<String>()
            )
        })
        .collect();
    Ok(day)
}

async fn cabinet<T: serde::de::DeserializeOwned>(
    state: &AppState,
    user: Uuid,
    path: &str,
) -> Result<T, String> {
    let res = state
        .internal
        .request(Method::GET, &state.drugs, path, Some(user))
        .send()
        .await
        .map_err(|e| format!("svc-drugs unreachable: {}", e.without_url()))?;
    if !res.status().is_success() {
        return Err(format!("svc-drugs answered {}", res.status().as_u16()));
    }
    res.json().await.map_err(|e| e.without_url().to_string())
}

/// `1` for 1.0, `0.5` for 0.5.
fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Up to [`LIST_MAX`] items joined, and how many more.
fn listed(items: &[String], zh: bool) -> String {
    let shown = items.iter().take(LIST_MAX).cloned().collect::<Vec<_>>();
    let more = items.len().saturating_sub(LIST_MAX);
    let sep = if zh { "、" } else { ", " };
    let mut s = shown.join(sep);
    if more > 0 {
        s.push_str(&if zh {
            format!(" 等 {} 项", items.len())
        } else {
            format!(" and {more} more")
        });
    }
    s
}

/// The plain check-in: what the day holds, in the user's language.
pub fn template(kind: Kind, day: &Day, zh: bool) -> String {
    let lines = |v: &[Line], only_open: bool| -> Vec<String> {
        v.iter()
            .filter(|l| !only_open || !l.done)
            .map(Line::show)
            .collect()
    };
    let mut parts: Vec<String> = Vec::new();
    let open_events = lines(&day.events, kind != Kind::Closing);
    let open_doses = lines(&day.doses, true);
    if kind == Kind::Closing {
        let done = day.events.iter().filter(|e| e.done).count();
        let total = day.events.len();
        if total > 0 {
            parts.push(if zh {
                format!("今天的 {total} 项安排完成了 {done} 项。")
            } else {
                format!("You finished {done} of today's {total} plans.")
            });
        }
        let taken = day.doses.iter().filter(|d| d.done).count();
        if !day.doses.is_empty() || !day.missed.is_empty() {
            parts.push(if zh {
                format!(
                    "药：已服 {taken} 次，未服 {} 次。",
                    day.doses.len() - taken + day.missed.len()
                )
            } else {
                format!(
                    "Medicines: {taken} taken, {} not taken.",
                    day.doses.len() - taken + day.missed.len()
                )
            });
        }
        parts.push(if zh {
            "早点休息，晚安。".to_owned()
        } else {
            "Rest well. Good night.".to_owned()
        });
        return parts.join(if zh { "" } else { " " });
    }
    let greeting = match (kind, zh) {
        (Kind::Morning, true) => "早上好！",
        (Kind::Morning, false) => "Good morning!",
        (Kind::Afternoon, true) => "下午好！",
        (Kind::Afternoon, false) => "Good afternoon!",
        _ if zh => "晚上好！",
        _ => "Good evening!",
    };
    parts.push(greeting.to_owned());
    if !open_events.is_empty() {
        let when = match (kind, zh) {
            (Kind::Morning, true) => "今天上午",
            (Kind::Afternoon, true) => "下午",
            (_, true) => "今晚",
            (Kind::Morning, false) => "This morning",
            (Kind::Afternoon, false) => "This afternoon",
            (_, false) => "Tonight",
        };
        parts.push(if zh {
            format!("{when}的安排：{}。", listed(&open_events, zh))
        } else {
            format!("{when}: {}.", listed(&open_events, zh))
        });
    }
    if !open_doses.is_empty() {
        parts.push(if zh {
            format!("要服的药：{}。", listed(&open_doses, zh))
        } else {
            format!("Medicines due: {}.", listed(&open_doses, zh))
        });
    }
    if !day.missed.is_empty() {
        parts.push(if zh {
            format!("还没记录服用：{}。", listed(&day.missed, zh))
        } else {
            format!("Not marked as taken yet: {}.", listed(&day.missed, zh))
        });
    }
    if !day.expiring.is_empty() {
        parts.push(if zh {
            format!("快过期的药（剩余天数）：{}。", listed(&day.expiring, zh))
        } else {
            format!("Expiring soon (days left): {}.", listed(&day.expiring, zh))
        });
    }
    parts.join(if zh { "" } else { " " })
}

const PROMPT: &str = "你是{name}{emoji}，用户的生活伙伴（{vibe}）。现在是 {now}，你要决定是否给用户发一条「{label}」推送，并写出它。\n\
只根据下面列出的内容写，不要编造安排。推送要短：标题不超过 20 个字，正文不超过 80 个字，语气自然、具体，点出最要紧的一两件事。\n\
关于药品：只能复述用户自己的用药计划和药盒上的信息；绝不诊断、不开药、不建议增减剂量或停药，涉及这些时建议咨询药师或医生。\n\
如果没有值得说的（比如安排都已完成、只剩琐事），就不发。\n\
用{language}回答，只输出一个 JSON 对象：{\"should_send\": true/false, \"title\": \"…\", \"body\": \"…\", \"reasoning\": \"…\"}。";

async fn ask_model(
    state: &AppState,
    user: Uuid,
    kind: Kind,
    day: &Day,
    now: DateTime<Tz>,
    zh: bool,
) -> Result<Decision, String> {
    let identity = user_state::get(&state.db, user)
        .await
        .map_err(|e| e.to_string())?;
    let pick = |f: fn(&shared::entities::chat_user_state::Model) -> &Option<String>,
                d: &'static str| {
        identity
            .as_ref()
            .and_then(|s| f(s).clone())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| d.to_owned())
    };
    let system = PROMPT
        .replace("{name}", &pick(|s| &s.ai_name, user_state::DEFAULT_AI_NAME))
        .replace(
            "{emoji}",
            &pick(|s| &s.ai_emoji, user_state::DEFAULT_AI_EMOJI),
        )
        .replace("{vibe}", &pick(|s| &s.ai_vibe, user_state::DEFAULT_AI_VIBE))
        .replace("{now}", &now.format("%Y-%m-%d %H:%M (%A)").to_string())
        .replace("{label}", kind.title(true))
        .replace("{language}", if zh { "简体中文" } else { "English" });
    let section = |name: &str, items: Vec<String>| {
        if items.is_empty() {
            format!("{name}：（无）")
        } else {
            format!(
                "{name}：\n- {}",
                items.into_iter().take(20).collect::<Vec<_>>().join("\n- ")
            )
        }
    };
    let mark = |l: &Line| format!("{}{}", l.show(), if l.done { " [已完成]" } else { "" });
    let facts = [
        section("日程", day.events.iter().map(mark).collect()),
        section("服药", day.doses.iter().map(mark).collect()),
        section("今天还没记录服用的药", day.missed.clone()),
        section("快过期的药（剩余天数）", day.expiring.clone()),
        format!("昨天的日记：{}", day.diary.as_deref().unwrap_or("（无）")),
        section("最近的对话", day.recent.clone()),
    ]
    .join("\n\n");
    let completion = state
        .llm
        .complete(
            json!([
                {"role": "system", "content": system},
                {"role": "user", "content": facts},
            ]),
            serde_json::Map::from_iter([("temperature".to_owned(), json!(0.6))]),
        )
        .await
        .map_err(|e| e.to_string())?;
    let answer = extract_json_object(&completion.content)
        .ok_or_else(|| "the model's answer has no JSON object".to_owned())?;
    let text = |f: &str| {
        answer
            .get(f)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default()
    };
    if answer.get("should_send").and_then(Value::as_bool) != Some(true) {
        let why = text("reasoning");
        return Ok(Decision::skip(
            "model",
            if why.is_empty() {
                "the model declined"
            } else {
                why
            },
        ));
    }
    if text("body").is_empty() {
        return Err("the model's answer has no body".to_owned());
    }
    let title = if text("title").is_empty() {
        kind.title(zh)
    } else {
        text("title")
    };
    Ok(Decision::send("model", title, text("body")))
}

/// Record the decision and, when it is sent, add it to the user's most recent conversation
/// (a new one when they have none) — in one transaction, and only by whoever records it first.
/// The transaction writes first: on SQLite a transaction that reads and then writes fails
/// when another connection wrote in between.
async fn store(
    state: &AppState,
    user: Uuid,
    kind: Kind,
    date: NaiveDate,
    d: Decision,
) -> Result<(), ApiError> {
    let txn = state.db.begin().await?;
    let now = shared::time::now_micros();
    let id = Uuid::now_v7();
    let inserted = checkin::Entity::insert(checkin::ActiveModel {
        id: Set(id),
        user_id: Set(user),
        kind: Set(kind.name().to_owned()),
        checkin_date: Set(date),
        status: Set(if d.sent { "sent" } else { "skipped" }.to_owned()),
        source: Set(d.source.to_owned()),
        title: Set(d.title.clone()),
        body: Set(d.body.clone()),
        reason: Set(d.reason.clone()),
        conversation_id: Set(None),
        message_id: Set(None),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            checkin::Column::UserId,
            checkin::Column::Kind,
            checkin::Column::CheckinDate,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted == 1 && d.sent {
        let latest: Option<Uuid> = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Id)
            .filter(conversation::Column::UserId.eq(user))
            .order_by_desc(conversation::Column::UpdatedAt)
            .into_tuple()
            .one(&txn)
            .await?;
        let conv = match latest {
            Some(c) => c,
            None => {
                let c = Uuid::now_v7();
                conversation::Entity::insert(conversation::ActiveModel {
                    id: Set(c),
                    user_id: Set(user),
                    title: Set(d.title.clone()),
                    created_at: Set(now),
                    updated_at: Set(now),
                })
                .exec_without_returning(&txn)
                .await?;
                c
            }
        };
        let msg = Uuid::now_v7();
        message::Entity::insert(message::ActiveModel {
            id: Set(msg),
            conversation_id: Set(conv),
            user_id: Set(user),
            role: Set("assistant".to_owned()),
            content: Set(d.body.clone()),
            created_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
        conversation::Entity::update_many()
            .col_expr(conversation::Column::UpdatedAt, Expr::value(now))
            .filter(conversation::Column::Id.eq(conv))
            .exec(&txn)
            .await?;
        checkin::Entity::update_many()
            .col_expr(checkin::Column::ConversationId, Expr::value(conv))
            .col_expr(checkin::Column::MessageId, Expr::value(msg))
            .filter(checkin::Column::Id.eq(id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(time: Option<&str>, text: &str, done: bool) -> Line {
        Line {
            time: time.map(str::to_owned),
            text: text.to_owned(),
            done,
        }
    }

    #[test]
    fn nothing_planned_due_or_expiring_is_not_worth_a_message() {
        let mut day = Day {
            diary: Some("A quiet day.".into()),
            recent: vec!["[user] hi".into()],
            ..Day::default()
        };
        assert!(!day.worth_saying());
        day.doses.push(line(Some("08:00"), "阿司匹林 1片", true));
        assert!(!day.worth_saying(), "a dose already taken");
        day.doses.push(line(Some("20:00"), "阿司匹林 1片", false));
        assert!(day.worth_saying());
    }

    #[test]
    fn the_template_says_what_the_day_holds_in_the_users_language() {
        let day = Day {
            events: vec![
                line(Some("09:00"), "团队周会", false),
                line(None, "买牛奶", false),
                line(Some("10:00"), "晨跑", true),
            ],
            doses: vec![line(Some("08:00"), "阿司匹林肠溶片 1片", false)],
            expiring: vec!["布洛芬 (5)".into()],
            ..Day::default()
        };
        assert_eq!(
            template(Kind::Morning, &day, true),
            "早上好！今天上午的安排：09:00 团队周会、买牛奶。要服的药：08:00 阿司匹林肠溶片 1片。快过期的药（剩余天数）：布洛芬 (5)。"
        );
        assert_eq!(
            template(Kind::Morning, &day, false),
            "Good morning! This morning: 09:00 团队周会, 买牛奶. Medicines due: 08:00 阿司匹林肠溶片 1片. Expiring soon (days left): 布洛芬 (5)."
        );
        assert_eq!(
            template(Kind::Closing, &day, true),
            "今天的 3 项安排完成了 1 项。药：已服 0 次，未服 1 次。早点休息，晚安。"
        );
        let many: Vec<String> = (1..=10).map(|i| format!("事{i}")).collect();
        assert!(listed(&many, true).ends_with("事8 等 10 项"));
        assert!(listed(&many, false).ends_with("事8 and 2 more"));
    }
}
