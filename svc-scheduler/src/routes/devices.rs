use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::delivery::DeliveryStatus;
use shared::entities::{delivery, delivery_attempt, device, notification};
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::channels::{self, Channel};
use crate::routes::app_devices;
use crate::sealed::Field;
use crate::state::Ctx;

const MAX_DEVICES: u64 = 20;

/// `POST /devices` takes two bodies, told apart by shape: the UniLife app's registration
/// (`platform`, `token`, ...) and our channels (`url`, optional `channel` and `name`).
pub async fn create(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let Some(fields) = body.as_object() else {
        return Err(ApiError::new(
            ErrorCode::InvalidJson,
            "invalid JSON body: expected an object",
        ));
    };
    let invalid = |e: serde_json::Error| {
        ApiError::new(ErrorCode::InvalidJson, format!("invalid JSON body: {e}"))
    };
    if fields.contains_key("channel")
        || fields.contains_key("url")
        || fields.contains_key("subscription")
    {
        create_webhook(&ctx, user, serde_json::from_value(body).map_err(invalid)?).await
    } else {
        app_devices::register_body(&ctx, user, serde_json::from_value(body).map_err(invalid)?).await
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    /// One of [`channels::KINDS`]; when left out, the URL's scheme says.
    channel: Option<String>,
    /// Every channel's but a browser's.
    url: Option<String>,
    /// A browser's: `PushSubscription.toJSON()`.
    subscription: Option<Subscription>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Subscription {
    endpoint: String,
    keys: SubscriptionKeys,
    /// Browsers send it (usually null); the push service's 404/410 tells when it ended.
    #[serde(rename = "expirationTime")]
    _expiration_time: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct SubscriptionKeys {
    p256dh: String,
    auth: String,
}

/// `GET /devices/webpush-key`: the key the console subscribes its browser with
/// (`applicationServerKey`), or 404 when this server has no Web Push.
pub async fn webpush_key(ctx: web::Data<Ctx>, _user: UserId) -> Result<HttpResponse, ApiError> {
    match &ctx.vapid {
        Some(v) => Ok(HttpResponse::Ok().json(json!({"public_key": v.public_key()}))),
        None => Err(ApiError::new(
            ErrorCode::WebPushDisabled,
            "这台服务器没有开启网页推送（管理员需设置 VAPID 密钥）。Web Push is not configured on this server (its administrator sets a VAPID key).",
        )),
    }
}

/// A channel as its owner sees it: the URL with its keys cut (`crate::channels`), never the
/// secret.
fn view(ctx: &Ctx, d: &device::Model) -> Value {
    let url = ctx
        .sealer
        .open(Field::Url, &d.url)
        .ok()
        .and_then(|u| channels::parse(None, &u, true).ok())
        .map(|c| c.redacted());
    json!({
        "id": d.id, "channel": d.channel, "name": d.name,
        // Null when it cannot be opened (the channel key was changed): delete and add again.
        "url": url,
        "previous_secret_valid_until": d.previous_secret_until.filter(|t| *t > Utc::now()),
        "created_at": d.created_at,
    })
}

/// `whsec_` and 32 random bytes in base64 (Standard Webhooks).
fn new_secret() -> String {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(secret)
    )
}

/// Add a channel. A webhook's answer carries its signing secret, once; later reads do not.
async fn create_webhook(ctx: &Ctx, user: Uuid, body: NewDevice) -> Result<HttpResponse, ApiError> {
    if let Some(kind) = body.channel.as_deref()
        && !channels::KINDS.contains(&kind)
    {
        return Err(ApiError::validation(format!(
            "不支持的渠道 {kind:?}，可选：{list}。channel must be one of {list}",
            list = channels::KINDS.join(", ")
        )));
    }
    let (url, keys) = match (&body.url, &body.subscription) {
        (Some(url), None) => (url.trim().to_owned(), None),
        (None, Some(sub)) => {
            if ctx.vapid.is_none() {
                return Err(ApiError::validation(
                    "这台服务器没有开启网页推送（scheduler.vapid_private_key）。Web Push is not configured on this server.",
                ));
            }
            let keys = crate::webpush::Keys::parse(&sub.keys.p256dh, &sub.keys.auth)
                .map_err(ApiError::validation)?;
            (format!("webpush:{}", sub.endpoint.trim()), Some(keys))
        }
        _ => {
            return Err(ApiError::validation(
                "请给出 url（浏览器订阅则给出 subscription），二者选一。Give either url or, for a browser, subscription.",
            ));
        }
    };
    let channel = channels::parse(
        body.channel.as_deref(),
        &url,
        ctx.settings.webhook_allow_private,
    )
    .map_err(ApiError::validation)?;
    if matches!(channel, Channel::WebPush(_)) && keys.is_none() {
        return Err(ApiError::validation(
            "浏览器推送需要 subscription（含 keys）。A webpush channel needs the browser's subscription with its keys.",
        ));
    }
    let name = body
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 100 || n.chars().any(char::is_control))
    {
        return Err(ApiError::validation(
            "名称最多 100 个字符。name must be at most 100 characters",
        ));
    }
    if let Some(keys) = &keys
        && let Some(same) = same_browser(ctx, user, &url).await?
    {
        // The console subscribes on every visit: the same endpoint is the same channel (its
        // keys renewed).
        let mut active: device::ActiveModel = same.into();
        active.secret = Set(ctx.sealer.seal(Field::Secret, &keys.to_secret()));
        if name.is_some() {
            active.name = Set(name);
        }
        let d = active.update(&ctx.db).await?;
        return Ok(HttpResponse::Ok().json(view(ctx, &d)));
    }
    let count = device::Entity::find()
        .filter(device::Column::UserId.eq(user))
        .count(&ctx.db)
        .await?;
    if count >= MAX_DEVICES {
        return Err(ApiError::new(
            ErrorCode::TooManyDevices,
            format!(
                "最多可以添加 {MAX_DEVICES} 个推送目标，请先删除不用的。At most {MAX_DEVICES} devices; remove one first."
            ),
        ));
    }
    let secret = match channel {
        Channel::Webhook(_) => Some(new_secret()),
        _ => None,
    };
    let stored_secret = keys
        .map(|k| k.to_secret())
        .or_else(|| secret.clone())
        .unwrap_or_default();
    let d = device::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        channel: Set(channel.kind().to_owned()),
        name: Set(name),
        url: Set(ctx.sealer.seal(Field::Url, &url)),
        secret: Set(ctx.sealer.seal(Field::Secret, &stored_secret)),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        created_at: Set(shared::time::now_micros()),
    }
    .insert(&ctx.db)
    .await?;
    let mut v = view(ctx, &d);
    if let Some(secret) = secret {
        v["secret"] = secret.into();
    }
    Ok(HttpResponse::Created().json(v))
}

/// The caller's Web Push channel with this `webpush:` URL, if any.
async fn same_browser(ctx: &Ctx, user: Uuid, url: &str) -> Result<Option<device::Model>, ApiError> {
    let theirs = device::Entity::find()
        .filter(device::Column::UserId.eq(user))
        .filter(device::Column::Channel.eq("webpush"))
        .all(&ctx.db)
        .await?;
    Ok(theirs
        .into_iter()
        .find(|d| ctx.sealer.open(Field::Url, &d.url).is_ok_and(|u| u == url)))
}

/// The caller's channel `id`, or 404.
async fn owned(ctx: &Ctx, user: Uuid, id: &str) -> Result<device::Model, ApiError> {
    let not_found = || ApiError::new(ErrorCode::DeviceNotFound, "Device not found");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    device::Entity::find_by_id(id)
        .filter(device::Column::UserId.eq(user))
        .one(&ctx.db)
        .await?
        .ok_or_else(not_found)
}

/// `POST /devices/{id}/test`: a test message through the channel's real service (a phone:
/// APNs), and what the far end said. Nothing is stored (a phone Apple no longer knows is
/// deactivated).
pub async fn test(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let target = match owned(&ctx, user, &path).await {
        Ok(d) => Ok(d),
        Err(e) => match app_devices::owned(&ctx, user, &path).await {
            Ok(phone) if ctx.apns.is_some() => Err(phone),
            Ok(_) => {
                return Err(ApiError::validation(
                    "这台服务器没有配置向手机推送（APNs），请先添加 Bark、企业微信、钉钉、飞书、Server酱、ntfy 或 Webhook 渠道。Push to the app's phones (APNs) is not configured on this server; add a Bark, WeCom, DingTalk, Feishu, ServerChan, ntfy or webhook channel.",
                ));
            }
            Err(_) => return Err(e),
        },
    };
    let channel = match &target {
        Ok(dev) => dev.channel.clone(),
        Err(phone) => phone
            .device_name
            .clone()
            .unwrap_or_else(|| "iPhone".to_owned()),
    };
    let reader = crate::notify::reader(&ctx.db, user).await?;
    let (title, body) = crate::texts::Text::Test { channel }.render(reader);
    let id = format!("test_{}", Uuid::now_v7().simple());
    let payload = serde_json::to_vec(&json!({
        "id": id, "kind": "test", "title": title, "body": body,
        "data": {}, "created_at": Utc::now(), "delivery_id": id,
    }))
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let msg = channels::Message {
        id: id.clone(),
        notification_id: id.clone(),
        kind: "test",
        title: &title,
        body: &body,
        urgent: false,
        payload: &payload,
    };
    let attempt = match &target {
        Ok(dev) => crate::notify::send_to(&ctx, dev, &msg).await,
        Err(phone) => {
            let (attempt, deactivate) = crate::notify::push_to(&ctx, phone, &msg, &json!({})).await;
            if deactivate {
                app_devices::deactivate(&ctx, phone.id).await?;
            }
            attempt
        }
    };
    Ok(HttpResponse::Ok().json(json!({
        "ok": attempt.outcome == channels::Outcome::Taken,
        "status_code": attempt.status,
        "error": attempt.error(),
        "duration_ms": attempt.took.as_millis() as u64,
    })))
}

/// `POST /devices/{id}/rotate-secret`: a new webhook secret (shown once); the one before keeps
/// signing beside it for 24 hours, so a receiver can switch without losing a delivery.
pub async fn rotate_secret(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let dev = owned(&ctx, user, &path).await?;
    if dev.channel != "webhook" {
        return Err(ApiError::validation(
            "只有 Webhook 渠道有签名密钥。Only a webhook channel has a signing secret.",
        ));
    }
    let secret = new_secret();
    let until = shared::time::now_micros() + chrono::Duration::hours(24);
    let mut row: device::ActiveModel = dev.clone().into();
    row.previous_secret = Set(Some(dev.secret.clone()));
    row.previous_secret_until = Set(Some(until));
    row.secret = Set(ctx.sealer.seal(Field::Secret, &secret));
    let saved = row.update(&ctx.db).await?;
    let mut v = view(&ctx, &saved);
    v["secret"] = secret.into();
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// At most this many deliveries, newest first (1–100, default 20).
    limit: Option<u64>,
}

/// `GET /devices/{id}/deliveries`: the channel's log, newest first: each delivery's state and
/// every try (status, the far end's error, when the next is due).
pub async fn deliveries(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    path: web::Path<String>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation(
            "limit 应在 1 到 100 之间。limit must be between 1 and 100",
        ));
    }
    // A channel's log, or a phone's.
    let target = match owned(&ctx, user, &path).await {
        Ok(dev) => dev.id,
        Err(e) => app_devices::owned(&ctx, user, &path)
            .await
            .map(|phone| phone.id)
            .map_err(|_| e)?,
    };
    let rows = delivery::Entity::find()
        .filter(delivery::Column::DeviceId.eq(target))
        .order_by_desc(delivery::Column::CreatedAt)
        .order_by_desc(delivery::Column::Id)
        .limit(limit)
        .all(&ctx.db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|d| d.id).collect();
    let mut tries: HashMap<Uuid, Vec<Value>> = HashMap::new();
    for a in delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::DeliveryId.is_in(ids.iter().copied()))
        .order_by_asc(delivery_attempt::Column::Attempt)
        .all(&ctx.db)
        .await?
    {
        tries.entry(a.delivery_id).or_default().push(json!({
            "attempt": a.attempt, "at": a.created_at, "status_code": a.status_code,
            "error": a.error, "retry_at": a.retry_at, "duration_ms": a.duration_ms,
        }));
    }
    let titles: HashMap<Uuid, (String, String)> = notification::Entity::find()
        .filter(notification::Column::Id.is_in(rows.iter().map(|d| d.notification_id)))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|n| (n.id, (n.kind, n.title)))
        .collect();
    let list: Vec<Value> = rows
        .into_iter()
        .map(|d| {
            let (kind, title) = titles.get(&d.notification_id).cloned().unzip();
            json!({
                "id": d.id, "notification_id": d.notification_id, "kind": kind, "title": title,
                "status": d.status, "attempts": tries.remove(&d.id).unwrap_or_default(),
                "next_attempt_at": (d.status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
                "last_error": d.last_error, "sent_at": d.sent_at, "created_at": d.created_at,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"deliveries": list})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `push` (the default: the app's phones), `channels` (every channel) or one channel's
    /// name (`webhook`, `bark`, ...).
    channel: Option<String>,
    /// Accepted and ignored: the caller's token decides whose devices these are.
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

/// `{devices, total}`: the app's phones (the original's answer), or with `channel=channels`
/// (or one channel's name) the channels in the same wrapper.
pub async fn list(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    match query.channel.as_deref() {
        None | Some("push") => app_devices::list(&ctx, user).await,
        Some(kind) if kind == "channels" || channels::KINDS.contains(&kind) => {
            let mut rows = device::Entity::find().filter(device::Column::UserId.eq(user));
            if kind != "channels" {
                rows = rows.filter(device::Column::Channel.eq(kind));
            }
            let rows = rows
                .order_by_asc(device::Column::CreatedAt)
                .all(&ctx.db)
                .await?;
            Ok(HttpResponse::Ok().json(json!({
                "devices": rows.iter().map(|d| view(&ctx, d)).collect::<Vec<_>>(),
                "total": rows.len(),
            })))
        }
        Some(_) => Err(ApiError::validation(format!(
            "channel 应为 push、channels 或 {}。channel must be push, channels or one of {}",
            channels::KINDS.join("、"),
            channels::KINDS.join(", ")
        ))),
    }
}

/// Remove a phone or a webhook target of the caller's (ids are UUIDs in both tables; an id
/// that is not a UUID names no device).
pub async fn delete(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&path)
        .map_err(|_| ApiError::new(ErrorCode::DeviceNotFound, "Device not found"))?;
    if app_devices::delete(&ctx, user, id).await? {
        return Ok(HttpResponse::NoContent().finish());
    }
    let res = device::Entity::delete_many()
        .filter(device::Column::Id.eq(id))
        .filter(device::Column::UserId.eq(user))
        .exec(&ctx.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(ApiError::new(ErrorCode::DeviceNotFound, "Device not found"));
    }
    Ok(HttpResponse::NoContent().finish())
}
