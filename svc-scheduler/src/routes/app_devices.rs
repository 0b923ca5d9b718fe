//! The UniLife app's device routes (**compat**): register a phone for push, list, read,
//! update and remove it, in the original's `DeviceResponse` shape.

use actix_web::{HttpResponse, web};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::app_device;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::app_devices::{self as devices, RegisterError, Registration};
use crate::state::Ctx;

/// The original's `DeviceRegisterRequest`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    platform: String,
    token: String,
    device_id: Option<String>,
    device_name: Option<String>,
    device_model: Option<String>,
    os_version: Option<String>,
    app_version: Option<String>,
    metadata: Option<Value>,
    /// Accepted and ignored: the caller's token decides whose device it is.
    #[serde(rename = "user_id")]
    _user_id: Option<IgnoredAny>,
}

impl RegisterBody {
    fn validate(self) -> Result<Registration, String> {
        let platform = devices::parse_platform(&self.platform)?;
        Ok(Registration {
            platform,
            token: devices::parse_token(platform, &self.token)?,
            device_id: devices::optional_text("device_id", self.device_id, 255)?,
            device_name: devices::optional_text("device_name", self.device_name, 255)?,
            device_model: devices::optional_text("device_model", self.device_model, 255)?,
            os_version: devices::optional_text("os_version", self.os_version, 64)?,
            app_version: devices::optional_text("app_version", self.app_version, 64)?,
            metadata: devices::parse_metadata(self.metadata)?,
        })
    }
}

/// The original's `DeviceResponse`.
pub fn view(d: &app_device::Model) -> Value {
    json!({
        "id": d.id, "user_id": d.user_id, "platform": d.platform, "token": d.token,
        "device_id": d.device_id, "device_name": d.device_name, "device_model": d.device_model,
        "os_version": d.os_version, "app_version": d.app_version, "metadata": d.metadata,
        "is_active": d.is_active, "last_used_at": d.last_used_at,
        "created_at": d.created_at, "updated_at": d.updated_at,
    })
}

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::DeviceNotFound, "Device not found")
}

/// `POST /devices/register` (and `POST /devices` with this body): 201 whether the phone is
/// new or registered again, as the original.
pub async fn register(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    body: web::Json<RegisterBody>,
) -> Result<HttpResponse, ApiError> {
    register_body(&ctx, user, body.into_inner()).await
}

pub async fn register_body(
    ctx: &Ctx,
    user: Uuid,
    body: RegisterBody,
) -> Result<HttpResponse, ApiError> {
    let reg = body.validate().map_err(ApiError::validation)?;
    let saved = devices::register(&ctx.db, user, &reg)
        .await
        .map_err(|e| match e {
            RegisterError::TooMany => ApiError::new(ErrorCode::TooManyDevices, e.to_string()),
            RegisterError::Db(e) => e.into(),
        })?;
    Ok(HttpResponse::Created().json(view(&saved)))
}

/// The user's phones, newest first, in the original's `{devices, total}`.
pub async fn list(ctx: &Ctx, user: Uuid) -> Result<HttpResponse, ApiError> {
    let rows = app_device::Entity::find()
        .filter(app_device::Column::UserId.eq(user))
        .order_by_desc(app_device::Column::CreatedAt)
        .order_by_desc(app_device::Column::Id)
        .all(&ctx.db)
        .await?;
    let total = rows.len();
    Ok(HttpResponse::Ok().json(json!({
        "devices": rows.iter().map(view).collect::<Vec<_>>(),
        "total": total,
    })))
}

/// The caller's own device by id; an id that is not a UUID names no device (404, as the
/// original, whose ids were free text).
pub async fn owned(ctx: &Ctx, user: Uuid, id: &str) -> Result<app_device::Model, ApiError> {
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    app_device::Entity::find_by_id(id)
        .filter(app_device::Column::UserId.eq(user))
        .one(&ctx.db)
        .await?
        .ok_or_else(not_found)
}

pub async fn get(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = owned(&ctx, user, &path).await?;
    Ok(HttpResponse::Ok().json(view(&d)))
}

/// A field that may be absent (not changed) or present, null included.
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The original's `DeviceUpdateRequest`: only the fields sent change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    device_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    is_active: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    metadata: Option<Option<Value>>,
    #[serde(rename = "user_id")]
    _user_id: Option<IgnoredAny>,
}

pub async fn update(
    ctx: web::Data<Ctx>,
    UserId(user): UserId,
    path: web::Path<String>,
    body: web::Json<UpdateBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body.device_name.is_none() && body.is_active.is_none() && body.metadata.is_none() {
        return Err(ApiError::validation(
            "No fields to update (device_name, is_active, metadata)",
        ));
    }
    let d = owned(&ctx, user, &path).await?;
    let mut row: app_device::ActiveModel = d.into();
    if let Some(name) = body.device_name {
        row.device_name =
            Set(devices::optional_text("device_name", name, 255).map_err(ApiError::validation)?);
    }
    if let Some(active) = body.is_active {
        let active =
            active.ok_or_else(|| ApiError::validation("is_active must be true or false"))?;
        row.is_active = Set(active);
    }
    if let Some(metadata) = body.metadata {
        row.metadata = Set(devices::parse_metadata(metadata).map_err(ApiError::validation)?);
    }
    row.updated_at = Set(shared::time::now_micros());
    let saved = row.update(&ctx.db).await?;
    Ok(HttpResponse::Ok().json(view(&saved)))
}

/// Stop pushing to a phone Apple no longer knows (it registers again to come back).
pub async fn deactivate(ctx: &Ctx, id: Uuid) -> Result<(), ApiError> {
    app_device::Entity::update_many()
        .col_expr(app_device::Column::IsActive, Expr::value(false))
        .col_expr(
            app_device::Column::UpdatedAt,
            Expr::value(shared::time::now_micros()),
        )
        .filter(app_device::Column::Id.eq(id))
        .exec(&ctx.db)
        .await?;
    Ok(())
}

/// Remove one of the caller's phones; false when it has none by that id.
pub async fn delete(ctx: &Ctx, user: Uuid, id: Uuid) -> Result<bool, ApiError> {
    let res = app_device::Entity::delete_many()
        .filter(app_device::Column::Id.eq(id))
        .filter(app_device::Column::UserId.eq(user))
        .exec(&ctx.db)
        .await?;
    Ok(res.rows_affected > 0)
}
