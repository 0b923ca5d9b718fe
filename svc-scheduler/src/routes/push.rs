//! The UniLife app's notification routes (**compat**, the original's `app/api/notifications.py`):
//! send to one's own devices now or at a time, by template, for an event; the templates; the
//! history of what was sent. Each send is a notification (in the inbox) with its deliveries,
//! answered as the original's `NotificationRecord`.
//!
//! Not carried over: the original's `POST /notifications/templates` registered a template for
//! every user of the server (any user could change what everyone's reminders say); templates
//! here are the built-in ones. Its unauthenticated debug routes are not carried over either.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use shared::entities::app_device::{self, Platform};
use shared::entities::delivery::DeliveryStatus;
use shared::entities::{delivery, device, notification};
use shared::internal_auth::UserId;
use shared::{ApiError, ErrorCode};
use uuid::Uuid;

use crate::notify::{self, NewNotification, Routing};
use crate::state::Ctx;
use crate::texts::Text;

/// The original's `NotificationType` values.
const TYPES: [&str; 10] = [
    "event_reminder",
    "event_starting",
    "event_modified",
    "event_deleted",
    "routine_reminder",
    "suggestion",
    "energy_alert",
    "daily_summary",
    "greeting",
    "custom",
];

/// A built-in template: `{variable}`s in its title and body.
struct Template {
    name: &'static str,
    kind: &'static str,
    title: &'static str,
    body: &'static str,
    variables: &'static [&'static str],
    priority: &'static str,
    category: &'static str,
}

/// The original's built-in templates.
const TEMPLATES: [Template; 6] = [
    Template {
        name: "event_reminder",
        kind: "event_reminder",
        title: "{title}",
        body: "将在{minutes}分钟后开始",
        variables: &["title", "minutes"],
        priority: "normal",
        category: "EVENT_REMINDER",
    },
    Template {
        name: "event_starting",
        kind: "event_starting",
        title: "{title}",
        body: "现在开始了",
        variables: &["title"],
        priority: "high",
        category: "EVENT_STARTING",
    },
    Template {
        name: "event_modified",
        kind: "event_modified",
        title: "日程已修改",
        body: "{title}已重新安排到{new_time}",
        variables: &["title", "new_time"],
        priority: "normal",
        category: "EVENT_MODIFIED",
    },
    Template {
        name: "routine_reminder",
        kind: "routine_reminder",
        title: "{routine_name}",
        body: "今天的{routine_name}时间到了",
        variables: &["routine_name"],
        priority: "normal",
        category: "ROUTINE_REMINDER",
    },
    Template {
        name: "daily_summary",
        kind: "daily_summary",
        title: "早上好！",
        body: "今天有{event_count}个日程安排",
        variables: &["event_count"],
        priority: "normal",
        category: "DAILY_SUMMARY",
    },
    Template {
        name: "energy_alert",
        kind: "energy_alert",
        title: "精力提醒",
        body: "您当前精力较低，建议安排轻松任务",
        variables: &[],
        priority: "normal",
        category: "ENERGY_ALERT",
    },
];

/// The original's `NotificationPayload`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    title: String,
    body: String,
    badge: Option<i64>,
    #[serde(default = "default_sound")]
    sound: Option<String>,
    category: Option<String>,
    thread_id: Option<String>,
    #[serde(default = "yes")]
    mutable_content: bool,
    #[serde(default)]
    content_available: bool,
    #[serde(default)]
    data: Map<String, Value>,
}

fn default_sound() -> Option<String> {
    Some("default".to_owned())
}
fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendQuery {
    notification_type: Option<String>,
    device_id: Option<String>,
    platform: Option<String>,
    priority: Option<String>,
    scheduled_for: Option<DateTime<Utc>>,
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

fn bad(zh: &str, en: &str) -> ApiError {
    ApiError::validation(format!("{zh}。{en}"))
}

/// A text field of a payload: trimmed, 1 to `max` characters.
fn text(field: &str, raw: &str, max: usize) -> Result<String, ApiError> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(bad(
            &format!("{field} 不能为空，最多 {max} 个字符"),
            &format!("{field} must be 1 to {max} characters"),
        ));
    }
    Ok(t.to_owned())
}

fn platform_of(name: &str) -> Result<Platform, ApiError> {
    match name {
        "apns" => Ok(Platform::Ios),
        "fcm" => Ok(Platform::Android),
        "web" => Ok(Platform::Web),
        _ => Err(bad(
            "platform 应为 apns、fcm 或 web",
            "platform must be apns, fcm or web",
        )),
    }
}

fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Ios => "apns",
        Platform::Android => "fcm",
        Platform::Web => "web",
    }
}

/// Everything a send needs, checked.
struct Send {
    kind: String,
    priority: String,
    title: String,
    body: String,
    push: Value,
    data: Map<String, Value>,
    routing: Routing,
    device_id: Option<String>,
    platform: Option<Platform>,
}

/// `device_id`: one of the caller's channels or phones, else 404.
async fn own_target(ctx: &Ctx, user: Uuid, raw: &str) -> Result<Uuid, ApiError> {
    let not_found = || ApiError::new(ErrorCode::DeviceNotFound, "Device not found");
    let id = Uuid::parse_str(raw).map_err(|_| not_found())?;
    let channel = device::Entity::find_by_id(id)
        .filter(device::Column::UserId.eq(user))
        .one(&ctx.db)
        .await?
        .is_some();
    let phone = app_device::Entity::find_by_id(id)
        .filter(app_device::Column::UserId.eq(user))
        .one(&ctx.db)
        .await?
        .is_some();
    if channel || phone {
        Ok(id)
    } else {
        Err(not_found())
    }
}

async fn send(ctx: &Ctx, user: Uuid, s: Send) -> Result<HttpResponse, ApiError> {
    let mut data = s.data;
    data.insert("push".to_owned(), s.push);
    let id = notify::create_returning(
        ctx,
        NewNotification {
            user,
            kind: &s.kind,
            text: Text::Raw {
                title: s.title,
                body: s.body,
            },
            data: Value::Object(data),
            dedupe_key: format!("send:{}", Uuid::now_v7()),
            routing: s.routing,
        },
    )
    .await?
    .ok_or_else(|| ApiError::internal("the notification was not written"))?;
    let n = notification::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::internal("the notification was not written"))?;
    let deliveries = delivery::Entity::find()
        .filter(delivery::Column::NotificationId.eq(id))
        .all(&ctx.db)
        .await?;
    let record = Record {
        n: &n,
        deliveries: &deliveries,
        device_id: s.device_id,
        platform: s.platform,
        priority: &s.priority,
        scheduled_for: s.routing.at,
    };
    Ok(HttpResponse::Ok().json(record.view()))
}

/// `POST /notifications/send` (payload; `notification_type`, `device_id`, `platform`,
/// `priority`, `scheduled_for` in the query).
pub async fn send_payload(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    query: web::Query<SendQuery>,
    body: web::Json<Payload>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let p = body.into_inner();
    let kind = q.notification_type.unwrap_or_else(|| "custom".to_owned());
    if !TYPES.contains(&kind.as_str()) {
        return Err(bad(
            &format!("notification_type 应为 {} 之一", TYPES.join("、")),
            &format!("notification_type must be one of {}", TYPES.join(", ")),
        ));
    }
    let priority = q.priority.unwrap_or_else(|| "normal".to_owned());
    if !matches!(priority.as_str(), "low" | "normal" | "high") {
        return Err(bad(
            "priority 应为 low、normal 或 high",
            "priority must be low, normal or high",
        ));
    }
    let platform = q.platform.as_deref().map(platform_of).transpose()?;
    let only = match &q.device_id {
        Some(d) => Some(own_target(&ctx, user, d).await?),
        None => None,
    };
    if let Some(at) = q.scheduled_for
        && at > Utc::now() + chrono::Duration::days(366)
    {
        return Err(bad(
            "scheduled_for 最多一年以后",
            "scheduled_for must be within a year",
        ));
    }
    if p.badge.is_some_and(|b| !(0..=99_999).contains(&b)) {
        return Err(bad(
            "badge 应在 0 到 99999 之间",
            "badge must be 0 to 99999",
        ));
    }
    let short = |field: &str, v: &Option<String>| -> Result<Option<String>, ApiError> {
        v.as_deref().map(|t| text(field, t, 64)).transpose()
    };
    let push = json!({
        "badge": p.badge, "sound": short("sound", &p.sound)?,
        "category": short("category", &p.category)?, "thread_id": short("thread_id", &p.thread_id)?,
        "mutable_content": p.mutable_content, "content_available": p.content_available,
        "priority": priority,
    });
    if serde_json::to_vec(&p.data)
        .map(|v| v.len())
        .unwrap_or(usize::MAX)
        > 2048
    {
        return Err(bad(
            "data 最多 2 KB（推送的总大小有上限）",
            "data must be at most 2 KB of JSON (pushes are size-limited)",
        ));
    }
    send(
        &ctx,
        user,
        Send {
            kind,
            title: text("title", &p.title, 200)?,
            body: text("body", &p.body, 1000)?,
            priority,
            push,
            data: p.data,
            routing: Routing {
                only,
                platform,
                at: q.scheduled_for,
                asked: true,
            },
            device_id: q.device_id,
            platform,
        },
    )
    .await
}

/// A template's title and body with `variables` filled in; every variable it names is needed.
fn render(name: &str, variables: &Map<String, Value>) -> Result<Send, ApiError> {
    let Some(t) = TEMPLATES.iter().find(|t| t.name == name) else {
        return Err(ApiError::new(
            ErrorCode::TemplateNotFound,
            format!("没有名为 {name} 的模板。Template not found: {name}"),
        ));
    };
    let needs = t.variables;
    let mut title = t.title.to_owned();
    let mut body = t.body.to_owned();
    for var in needs {
        let value = match variables.get(*var) {
            Some(Value::String(s)) => s.clone(),
            Some(v @ Value::Number(_)) => v.to_string(),
            _ => {
                return Err(bad(
                    &format!("模板 {name} 需要变量 {}", needs.join("、")),
                    &format!("template {name} needs {}", needs.join(", ")),
                ));
            }
        };
        title = title.replace(&format!("{{{var}}}"), &value);
        body = body.replace(&format!("{{{var}}}"), &value);
    }
    Ok(Send {
        kind: t.kind.to_owned(),
        priority: t.priority.to_owned(),
        title: text("title", &title, 200)?,
        body: text("body", &body, 1000)?,
        push: json!({"sound": "default", "category": t.category, "mutable_content": true, "priority": t.priority}),
        data: Map::new(),
        routing: Routing {
            asked: true,
            ..Routing::default()
        },
        device_id: None,
        platform: None,
    })
}

/// `POST /notifications/send/template/{name}` with the variables as the body.
pub async fn send_template(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    path: web::Path<String>,
    body: Option<web::Json<Map<String, Value>>>,
) -> Result<HttpResponse, ApiError> {
    let variables = body.map(web::Json::into_inner).unwrap_or_default();
    send(&ctx, user, render(&path, &variables)?).await
}

/// `GET /notifications/templates`.
pub async fn templates() -> HttpResponse {
    let list: Vec<Value> = TEMPLATES
        .iter()
        .map(|t| {
            json!({"name": t.name, "type": t.kind, "title_template": t.title, "body_template": t.body,
                   "variables": t.variables, "default_priority": t.priority})
        })
        .collect();
    HttpResponse::Ok().json(list)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemindQuery {
    minutes_before: Option<i64>,
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

/// The caller's event's title, from svc-chat (404 as the original when it is not theirs).
async fn event_title(ctx: &Ctx, user: Uuid, event: &str) -> Result<String, ApiError> {
    let not_found = || ApiError::new(ErrorCode::EventNotFound, "Event not found");
    if event.is_empty() || event.len() > 100 || event.contains(['/', '?', '#']) {
        return Err(not_found());
    }
    let res = ctx
        .internal
        .request(
            reqwest::Method::GET,
            &ctx.chat,
            &format!("/api/v1/events/{event}"),
            Some(user),
        )
        .send()
        .await
        .map_err(|e| {
            ApiError::new(
                ErrorCode::UpstreamUnavailable,
                format!("chat unreachable: {}", e.without_url()),
            )
        })?;
    if res.status() == reqwest::StatusCode::NOT_FOUND {
        return Err(not_found());
    }
    if !res.status().is_success() {
        return Err(ApiError::new(
            ErrorCode::UpstreamUnavailable,
            format!("chat answered {}", res.status().as_u16()),
        ));
    }
    let v: Value = res.json().await.map_err(|e| {
        ApiError::new(
            ErrorCode::UpstreamUnavailable,
            format!("chat sent bad JSON: {}", e.without_url()),
        )
    })?;
    Ok(v["title"].as_str().unwrap_or("日程").to_owned())
}

/// `POST /notifications/events/{event_id}/remind?minutes_before=` (required, ≥ 0): the
/// `event_reminder` template for the caller's event, sent now as in the original.
pub async fn event_remind(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    path: web::Path<String>,
    query: web::Query<RemindQuery>,
) -> Result<HttpResponse, ApiError> {
    // Whose event it is first: someone else's is not found, whatever the query.
    let title = event_title(&ctx, user, &path).await?;
    let minutes = query
        .minutes_before
        .filter(|m| (0..=10_080).contains(m))
        .ok_or_else(|| {
            bad(
                "minutes_before 必填，0 到 10080 之间",
                "minutes_before is required, 0 to 10080",
            )
        })?;
    let mut vars = Map::new();
    vars.insert("title".into(), title.into());
    vars.insert("minutes".into(), minutes.to_string().into());
    let mut s = render("event_reminder", &vars)?;
    s.data.insert("event_id".into(), path.into_inner().into());
    send(&ctx, user, s).await
}

/// `POST /notifications/events/{event_id}/starting`: the `event_starting` template.
pub async fn event_starting(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let title = event_title(&ctx, user, &path).await?;
    let mut vars = Map::new();
    vars.insert("title".into(), title.into());
    let mut s = render("event_starting", &vars)?;
    s.data.insert("event_id".into(), path.into_inner().into());
    send(&ctx, user, s).await
}

/// `POST /notifications/test`: the original's test notification to all the caller's devices.
pub async fn test(ctx: web::Data<Ctx>, UserId(user): UserId) -> Result<HttpResponse, ApiError> {
    let mut data = Map::new();
    data.insert("test".into(), true.into());
    send(
        &ctx,
        user,
        Send {
            kind: "custom".to_owned(),
            priority: "normal".to_owned(),
            title: "测试通知".to_owned(),
            body: "如果你看到这条消息，说明推送通知功能正常！".to_owned(),
            push: json!({"sound": "default", "mutable_content": true, "priority": "normal"}),
            data,
            routing: Routing {
                asked: true,
                ..Routing::default()
            },
            device_id: None,
            platform: None,
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    limit: Option<u64>,
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

/// `GET /notifications/history?limit=50` (1–200): the caller's notifications, newest first,
/// as `NotificationRecord`s with their delivery status.
pub async fn history(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(bad(
            "limit 应在 1 到 200 之间",
            "limit must be between 1 and 200",
        ));
    }
    let rows = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user))
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .limit(limit)
        .all(&ctx.db)
        .await?;
    let mut by_notification: HashMap<Uuid, Vec<delivery::Model>> = HashMap::new();
    for d in delivery::Entity::find()
        .filter(delivery::Column::NotificationId.is_in(rows.iter().map(|n| n.id)))
        .all(&ctx.db)
        .await?
    {
        by_notification
            .entry(d.notification_id)
            .or_default()
            .push(d);
    }
    let list: Vec<Value> = rows
        .iter()
        .map(|n| {
            let push = &n.data["push"];
            Record {
                n,
                deliveries: by_notification.get(&n.id).map_or(&[], Vec::as_slice),
                device_id: None,
                platform: None,
                priority: push["priority"].as_str().unwrap_or("normal"),
                scheduled_for: None,
            }
            .view()
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

/// A notification as the original's `NotificationRecord`.
struct Record<'a> {
    n: &'a notification::Model,
    deliveries: &'a [delivery::Model],
    device_id: Option<String>,
    platform: Option<Platform>,
    priority: &'a str,
    scheduled_for: Option<DateTime<Utc>>,
}

impl Record<'_> {
    fn view(&self) -> Value {
        let n = self.n;
        let push = &n.data["push"];
        let sent = self
            .deliveries
            .iter()
            .filter(|d| d.status == DeliveryStatus::Sent)
            .filter_map(|d| d.sent_at)
            .min();
        let all_dead = !self.deliveries.is_empty()
            && self
                .deliveries
                .iter()
                .all(|d| d.status == DeliveryStatus::Dead);
        let (status, error) = if sent.is_some() {
            ("sent", None)
        } else if self.deliveries.is_empty() {
            (
                "failed",
                Some("没有可推送的设备 / no device to push to".to_owned()),
            )
        } else if all_dead {
            (
                "failed",
                self.deliveries.iter().find_map(|d| d.last_error.clone()),
            )
        } else {
            ("pending", None)
        };
        let mut data = n.data.as_object().cloned().unwrap_or_default();
        data.remove("push");
        let kind = if TYPES.contains(&n.kind.as_str()) {
            n.kind.as_str()
        } else {
            // Our own kinds (doses, expiry, ...) are not in the app's enum: `custom`, with the
            // kind in the data.
            data.entry("kind").or_insert_with(|| n.kind.clone().into());
            "custom"
        };
        let scheduled = self.scheduled_for.or_else(|| {
            self.deliveries
                .iter()
                .map(|d| d.next_attempt_at)
                .filter(|t| *t > n.created_at + chrono::Duration::seconds(1))
                .min()
                .filter(|_| sent.is_none())
        });
        json!({
            "id": n.id,
            "user_id": n.user_id,
            "device_id": self.device_id,
            "platform": platform_name(self.platform.unwrap_or(Platform::Ios)),
            "type": kind,
            "priority": self.priority,
            "payload": {
                "title": n.title, "body": n.body, "badge": push["badge"],
                "sound": push.get("sound").cloned().unwrap_or_else(|| "default".into()),
                "category": push["category"], "thread_id": push["thread_id"],
                "mutable_content": push["mutable_content"].as_bool().unwrap_or(true),
                "content_available": push["content_available"].as_bool().unwrap_or(false),
                "data": data,
            },
            "status": status,
            "scheduled_for": scheduled,
            "sent_at": sent,
            "delivered_at": Value::Null,
            "error_message": error,
            "created_at": n.created_at,
            "retry_count": self.deliveries.iter().map(|d| (d.attempts - 1).max(0)).max().unwrap_or(0),
        })
    }
}
