use actix_web::{HttpResponse, web};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::Deserialize;
use serde_json::Value;
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::device;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::routes::app_devices;
use crate::state::Ctx;

const MAX_DEVICES: u64 = 20;

/// `POST /devices` takes two bodies, told apart by shape: the UniLife app's registration
/// (`platform`, `token`, ...) and our webhook target (`channel`, `url`, `name`).
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
    if fields.contains_key("channel") || fields.contains_key("url") {
        create_webhook(&ctx, user, serde_json::from_value(body).map_err(invalid)?).await
    } else {
        app_devices::register_body(&ctx, user, serde_json::from_value(body).map_err(invalid)?).await
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    channel: String,
    url: String,
    name: Option<String>,
}

fn view(d: &device::Model) -> serde_json::Value {
    serde_json::json!({"id": d.id, "channel": d.channel, "name": d.name, "url": d.url, "created_at": d.created_at})
}

/// Register a webhook. The answer carries the signing secret, once; later reads do not.
async fn create_webhook(ctx: &Ctx, user: Uuid, body: NewDevice) -> Result<HttpResponse, ApiError> {
    if body.channel != "webhook" {
        return Err(ApiError::validation(
            "channel must be \"webhook\" (the only channel so far)",
        ));
    }
    let url = reqwest::Url::parse(&body.url)
        .map_err(|_| ApiError::validation("url is not a valid URL"))?;
    if !matches!(url.scheme(), "https" | "http")
        || url.host_str().is_none()
        || body.url.len() > 2048
    {
        return Err(ApiError::validation(
            "url must be an http(s) URL of at most 2048 characters",
        ));
    }
    if !ctx.settings.webhook_allow_private {
        shared::outbound::check_target(&url).map_err(ApiError::validation)?;
    }
    if body.name.as_ref().is_some_and(|n| n.chars().count() > 100) {
        return Err(ApiError::validation("name must be at most 100 characters"));
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
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let d = device::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        channel: Set(body.channel),
        name: Set(body.name),
        url: Set(body.url),
        secret: Set(hex::encode(secret)),
        created_at: Set(shared::time::now_micros()),
    }
    .insert(&ctx.db)
    .await?;
    let mut v = view(&d);
    v["secret"] = d.secret.clone().into();
    Ok(HttpResponse::Created().json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `push` (the default: the app's phones) or `webhook`.
    channel: Option<String>,
    /// Accepted and ignored: the caller's token decides whose devices these are.
    #[serde(rename = "user_id")]
    _user_id: Option<String>,
}

/// `{devices, total}`: the app's phones (the original's answer), or with `channel=webhook`
/// the webhook targets in the same wrapper.
pub async fn list(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    match query.channel.as_deref() {
        None | Some("push") => app_devices::list(&ctx, user).await,
        Some("webhook") => {
            let rows = device::Entity::find()
                .filter(device::Column::UserId.eq(user))
                .order_by_asc(device::Column::CreatedAt)
                .all(&ctx.db)
                .await?;
            Ok(HttpResponse::Ok().json(serde_json::json!({
                "devices": rows.iter().map(view).collect::<Vec<_>>(),
                "total": rows.len(),
            })))
        }
        Some(_) => Err(ApiError::validation(
            "channel must be \"push\" or \"webhook\"",
        )),
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
