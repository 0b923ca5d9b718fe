//! Destructive actions wait for the user's yes. When the model calls a destructive tool
//! (deleting an event or a series, ending a series, archiving a project, undoing several turns
//! at once) nothing is done: the exact action (tool and arguments) is stored in
//! `pending_actions` with its description, the model is told to ask, and the answer carries
//! the action (`pending_action`) and two options. The next message in that conversation
//! decides, in code and not by the model: a yes (`is_yes`) runs exactly the stored action,
//! anything else cancels it, and after `WAIT` it is never run.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use shared::ApiError;
use shared::entities::pending_action;
use uuid::Uuid;

use super::interactive::Suggestion;
use super::tools::ToolContext;
use crate::events::store::{Scope, Target};
use crate::state::AppState;

/// The tools that never run without the user's yes.
pub const DESTRUCTIVE: &[&str] = &["delete_event", "stop_repeating", "archive_project"];

/// How long a proposed action waits for the yes.
pub const WAIT: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// Whether a message says yes to the question just asked: the whole message (punctuation
/// and emphasis aside) is one of the usual ways to agree, in Chinese or English. "好的，不过先
/// 改到周五" is not a yes.
pub fn is_yes(message: &str) -> bool {
    let words: String = message
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| {
            !c.is_whitespace() && !c.is_ascii_punctuation() && !"。，！？、~～…".contains(*c)
        })
        .collect();
    const YES: &[&str] = &[
        "是",
        "是的",
        "对",
        "对的",
        "嗯",
        "嗯嗯",
        "好",
        "好的",
        "好啊",
        "好吧",
        "行",
        "可以",
        "确认",
        "确定",
        "确认删除",
        "删",
        "删吧",
        "删除",
        "删除吧",
        "删掉",
        "删掉吧",
        "没问题",
        "就这样",
        "执行",
        "同意",
        "yes",
        "y",
        "yep",
        "yeah",
        "ok",
        "okay",
        "sure",
        "confirm",
        "doit",
        "goahead",
        "yesplease",
        "delete",
        "deleteit",
    ];
    YES.contains(&words.as_str())
}

/// The conversation's action waiting for a yes, if any.
pub async fn pending(
    state: &AppState,
    user: Uuid,
    conversation: Uuid,
) -> Result<Option<pending_action::Model>, ApiError> {
    Ok(pending_action::Entity::find()
        .filter(pending_action::Column::UserId.eq(user))
        .filter(pending_action::Column::ConversationId.eq(conversation))
        .filter(pending_action::Column::Status.eq("pending"))
        .order_by_desc(pending_action::Column::CreatedAt)
        .one(&state.db)
        .await?)
}

/// Move a pending action to `status`; `false` when another turn decided it first (two yeses
/// at once run it once).
pub async fn decide(
    state: &AppState,
    action: &pending_action::Model,
    status: &str,
) -> Result<bool, ApiError> {
    let r = pending_action::Entity::update_many()
        .col_expr(pending_action::Column::Status, Expr::value(status))
        .col_expr(
            pending_action::Column::DecidedAt,
            Expr::value(Some(shared::time::now_micros())),
        )
        .filter(pending_action::Column::Id.eq(action.id))
        .filter(pending_action::Column::Status.eq("pending"))
        .exec(&state.db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// The answer's `pending_action`: what a yes will do.
pub fn view(a: &pending_action::Model) -> Value {
    json!({
        "id": a.id, "tool": a.tool, "arguments": a.arguments,
        "description": a.description, "expires_at": a.expires_at,
    })
}

/// What the system prompt says about an action that was not confirmed.
pub fn not_done_note(a: &pending_action::Model, now: DateTime<Utc>) -> String {
    let why = if a.expires_at <= now {
        "they did not answer in time"
    } else {
        "they did not say yes"
    };
    format!(
        "You asked the user to confirm this action: {}. {why}, so it was cancelled and NOT done; do not say it was done. Call the tool again only if they now clearly ask for it.",
        a.description
    )
}

impl ToolContext<'_> {
    /// Store `name(args)` as the conversation's action waiting for a yes (replacing an older
    /// one) and tell the model to ask. The target is checked first: a wrong id is an error
    /// now, not a question.
    pub(super) async fn propose(&mut self, name: &str, args: &Value) -> Result<Value, String> {
        let conversation = self
            .conversation
            .ok_or_else(|| "this action needs the user's confirmation in a chat".to_owned())?;
        let description = self.describe(name, args).await?;
        let db = &self.state.db;
        let now = shared::time::now_micros();
        pending_action::Entity::update_many()
            .col_expr(pending_action::Column::Status, Expr::value("superseded"))
            .col_expr(pending_action::Column::DecidedAt, Expr::value(Some(now)))
            .filter(pending_action::Column::ConversationId.eq(conversation))
            .filter(pending_action::Column::UserId.eq(self.user))
            .filter(pending_action::Column::Status.eq("pending"))
            .exec(db)
            .await
            .map_err(|e| e.to_string())?;
        let action = pending_action::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(self.user),
            conversation_id: Set(conversation),
            tool: Set(name.to_owned()),
            arguments: Set(args.clone()),
            description: Set(description.clone()),
            status: Set("pending".into()),
            created_at: Set(now),
            expires_at: Set(now + WAIT),
            decided_at: Set(None),
        }
        .insert(db)
        .await
        .map_err(|e| e.to_string())?;
        self.pending_action = Some(view(&action));
        self.suggestions = Some(vec![
            Suggestion {
                label: "确认".into(),
                value: Some("确认".into()),
                description: Some(description.clone()),
                probability: None,
            },
            Suggestion {
                label: "取消".into(),
                value: Some("取消".into()),
                description: None,
                probability: None,
            },
        ]);
        Ok(json!({
            "status": "awaiting_confirmation",
            "action": description,
            "message": "Nothing has been done yet. Ask the user, in one short question, to confirm exactly this action. Their next message decides: a yes runs it, anything else cancels it.",
        }))
    }

    /// The exact action in the user's words (Chinese, as the app's texts are).
    async fn describe(&self, name: &str, args: &Value) -> Result<String, String> {
        let db = &self.state.db;
        let day = |d: chrono::NaiveDate| d.format("%-m月%-d日").to_string();
        match name {
            "delete_event" | "stop_repeating" => {
                let target = args["event_id"]
                    .as_str()
                    .and_then(|s| Target::parse(s).ok())
                    .ok_or_else(|| "event_id must be an event's id".to_owned())?;
                let (id, date) = match target {
                    Target::Real(id) => (id, None),
                    Target::Occurrence(t, d) => (t, Some(d)),
                };
                let e = crate::events::store::owned(db, self.user, id)
                    .await
                    .map_err(|e| e.message)?;
                let local = e.start_time.map(|t| t.with_timezone(&self.tz));
                let when = match (date, local) {
                    (Some(d), Some(t)) => format!("{} {}", day(d), t.format("%H:%M")),
                    (Some(d), None) => day(d),
                    (None, Some(t)) => t.format("%-m月%-d日 %H:%M").to_string(),
                    (None, None) => e
                        .event_date
                        .map(|d| day(d.with_timezone(&self.tz).date_naive()))
                        .unwrap_or_default(),
                };
                let title = &e.title;
                if name == "stop_repeating" {
                    let from = args["from_date"].as_str().unwrap_or("今天");
                    return Ok(format!("让「{title}」从 {from} 起不再重复（之前的保留）"));
                }
                let scope = Scope::parse(args["scope"].as_str()).map_err(|e| e.message)?;
                Ok(match scope {
                    Scope::Single if when.is_empty() => format!("删除日程「{title}」"),
                    Scope::Single => format!("删除日程「{title}」（{when}）"),
                    Scope::Series => format!("删除「{title}」整个系列（所有日期）"),
                    Scope::Following => format!("删除「{title}」{when} 及以后的所有日期"),
                })
            }
            "archive_project" => {
                let id = args["project_id"]
                    .as_str()
                    .and_then(|s| s.trim().parse().ok())
                    .ok_or_else(|| "project_id must be a project's id".to_owned())?;
                let p = crate::projects::store::owned(db, self.user, id)
                    .await
                    .map_err(|e| e.message)?;
                Ok(format!("归档项目「{}」（它的任务保留）", p.title))
            }
            "undo_change" => Ok(format!(
                "撤销最近 {} 次修改（{}）",
                args["count"].as_u64().unwrap_or(0),
                args["summaries"].as_str().unwrap_or_default()
            )),
            other => Err(format!("no tool named {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_yes_is_a_yes() {
        for yes in [
            "是",
            "确认",
            "好的。",
            " 好的！",
            "嗯嗯",
            "OK",
            "Yes!",
            "yes please",
            "删吧",
            "确认删除",
        ] {
            assert!(is_yes(yes), "{yes}");
        }
        for no in [
            "不",
            "不要",
            "取消",
            "算了",
            "好的，不过先改到周五",
            "no",
            "wait",
            "是不是搞错了",
            "明天下午三点",
            "",
            "okay but not that one",
        ] {
            assert!(!is_yes(no), "{no}");
        }
    }
}
