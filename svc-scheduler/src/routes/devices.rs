use actix_web::{HttpResponse, web};
use chrono::Utc;
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::Deserialize;
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::device;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::state::Ctx;

const MAX_DEVICES: u64 = 20;

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
pub async fn create(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    body: web::Json<NewDevice>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
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
            format!("at most {MAX_DEVICES} devices"),
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
        created_at: Set(Utc::now()),
    }
    .insert(&ctx.db)
    .await?;
    let mut v = view(&d);
    v["secret"] = d.secret.clone().into();
    Ok(HttpResponse::Created().json(v))
}

pub async fn list(ctx: web::Data<Ctx>, UserId(user): UserId) -> Result<HttpResponse, ApiError> {
    let rows = device::Entity::find()
        .filter(device::Column::UserId.eq(user))
        .order_by_asc(device::Column::CreatedAt)
        .all(&ctx.db)
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(view).collect::<Vec<_>>()))
}

pub async fn delete(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let res = device::Entity::delete_many()
        .filter(device::Column::Id.eq(path.into_inner()))
        .filter(device::Column::UserId.eq(user))
        .exec(&ctx.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(ApiError::new(ErrorCode::DeviceNotFound, "no such device"));
    }
    Ok(HttpResponse::NoContent().finish())
}
