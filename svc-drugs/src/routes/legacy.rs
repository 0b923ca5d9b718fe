//! The drug-serve routes, in their original shapes, so the original web frontend works
//! unchanged. The gateway forwards them only when enabled, acting as one configured account.

use actix_multipart::Multipart;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, ResponseError, web};
use chrono::{Duration, NaiveDate};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::{drug, drug_image, recognition};
use shared::error::is_chinese;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::state::AppState;

use super::recognize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/drugs")
            .wrap(from_fn(in_chinese))
            .route("/upload", web::post().to(upload))
            .route("/analyze-batch", web::post().to(analyze_batch))
            .route("/expiring", web::get().to(expiring))
            .route("/search", web::get().to(search))
            .route("", web::get().to(list))
            .route("/{id}/analyze", web::post().to(analyze_one))
            .route("/{id}", web::put().to(update))
            .route("/{id}", web::delete().to(delete)),
    )
    .service(
        web::resource("/uploads/{file}")
            .wrap(from_fn(in_chinese))
            .route(web::get().to(file)),
    );
}

/// The original frontend shows an error's `detail` (uploads) or `message` to the user as is,
/// in a Chinese page: every error of these routes says in Chinese what to do, in both fields.
async fn in_chinese(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limits = req
        .app_data::<web::Data<AppState>>()
        .map(|s| (s.max_file_size, s.drugs.max_files));
    let res = next.call(req).await?.map_into_boxed_body();
    let Some(api) = res
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
    else {
        return Ok(res);
    };
    let (max_size, max_files) = limits.unwrap_or_default();
    let message = match api.code {
        ErrorCode::FileTooLarge => format!(
            "文件超过大小限制（最大 {}MB），请选择较小的图片",
            max_size / 1024 / 1024
        ),
        ErrorCode::TooManyFiles => format!("一次最多上传 {max_files} 张图片"),
        // The frontend's way to retry is to analyse again (the photos are kept).
        ErrorCode::LlmFailed => "识别失败：识别服务暂时出错。照片已保存，请稍后重新点击分析".into(),
        ErrorCode::LlmTimeout => {
            "识别超时：识别服务响应太慢。照片已保存，请稍后重新点击分析".into()
        }
        code if is_chinese(&api.message) => {
            let _ = code;
            api.message.clone()
        }
        code => code.zh().to_owned(),
    };
    let mut localised = ApiError::new(api.code, message);
    localised.retry_after = api.retry_after;
    let response = localised.error_response();
    Ok(res.into_response(response))
}

fn image_url(id: Uuid) -> String {
    format!("/uploads/{id}.jpg")
}

pub async fn upload(
    state: web::Data<AppState>,
    UserId(user): UserId,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let files =
        super::upload::read_files(payload, state.drugs.max_files, state.max_file_size).await?;
    let photos = recognize::ingest(&state, user, files).await?;
    let body: Vec<Value> = photos
        .iter()
        .map(|p| json!({"image_id": p.image.id, "message": "上传成功"}))
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

async fn analyze(
    state: &AppState,
    user: Uuid,
    ids: Vec<Uuid>,
) -> Result<(drug::Model, Vec<Uuid>), ApiError> {
    if ids.is_empty() || ids.len() > state.drugs.max_files {
        return Err(ApiError::validation(format!(
            "请提供 1 到 {} 张图片的 ID",
            state.drugs.max_files
        )));
    }
    let photos = recognize::photos_by_ids(state, user, &ids).await?;
    let outcome = recognize::run(state, user, photos, None, true).await?;
    let saved = outcome
        .drug
        .ok_or_else(|| ApiError::internal("a saved recognition has no drug"))?;
    let image_ids = outcome.images.iter().map(|i| i.id).collect();
    Ok((saved, image_ids))
}

pub async fn analyze_batch(
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: web::Json<Vec<String>>,
) -> Result<HttpResponse, ApiError> {
    let ids = body
        .iter()
        .map(|s| {
            s.parse::<Uuid>()
                .map_err(|_| ApiError::new(ErrorCode::ImageNotFound, format!("图片 {s} 不存在")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (d, images) = analyze(&state, user, ids).await?;
    Ok(HttpResponse::Ok().json(json!({
        "name": d.name,
        "production_date": d.production_date,
        "expiry_date": d.expiry_date,
        "image_urls": images.into_iter().map(image_url).collect::<Vec<_>>(),
    })))
}

pub async fn analyze_one(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (d, _) = analyze(&state, user, vec![path.into_inner()]).await?;
    Ok(HttpResponse::Ok().json(json!({
        "name": d.name,
        "production_date": d.production_date,
        "expiry_date": d.expiry_date,
    })))
}

/// One drug in the original list shape; `image_urls` is a JSON-encoded string, as it was.
async fn legacy_items(state: &AppState, drugs: Vec<drug::Model>) -> Result<Vec<Value>, ApiError> {
    let images = super::drugs::images_of(state, drugs.iter().map(|d| d.id).collect()).await?;
    let rec_ids: Vec<Uuid> = drugs.iter().filter_map(|d| d.recognition_id).collect();
    let recs = if rec_ids.is_empty() {
        Vec::new()
    } else {
        recognition::Entity::find()
            .filter(recognition::Column::Id.is_in(rec_ids))
            .all(&state.db)
            .await?
    };
    Ok(drugs
        .into_iter()
        .map(|d| {
            let urls: Vec<String> = images
                .iter()
                .filter(|i| i.drug_id == Some(d.id))
                .map(|i| image_url(i.id))
                .collect();
            let analysis = d
                .recognition_id
                .and_then(|r| recs.iter().find(|x| x.id == r))
                .and_then(|r| r.fields.as_ref())
                .map(Value::to_string);
            json!({
                "id": d.id,
                "name": d.name,
                "production_date": d.production_date,
                "expiry_date": d.expiry_date,
                "image_url": urls.first(),
                "image_urls": serde_json::to_string(&urls).unwrap_or_else(|_| "[]".into()),
                "created_at": d.created_at,
                "analysis_result": analysis,
            })
        })
        .collect())
}

pub async fn list(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let rows = drug::Entity::find()
        .filter(drug::Column::UserId.eq(user))
        .order_by_desc(drug::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(legacy_items(&state, rows).await?))
}

pub async fn expiring(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    let prefs = state.user_prefs(user).await?;
    let rows = drug::Entity::find()
        .filter(drug::Column::UserId.eq(user))
        .filter(drug::Column::ExpiryDate.lte(prefs.today() + Duration::days(30)))
        .order_by_asc(drug::Column::ExpiryDate)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(legacy_items(&state, rows).await?))
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

pub async fn search(
    state: web::Data<AppState>,
    UserId(user): UserId,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(HttpResponse::Ok().json(Vec::<Value>::new()));
    };
    if q.chars().count() > 100 {
        return Err(ApiError::validation("搜索词太长，最多 100 个字"));
    }
    let rows = drug::Entity::find()
        .filter(drug::Column::UserId.eq(user))
        .filter(super::drugs::search_condition(q))
        .order_by_desc(drug::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(legacy_items(&state, rows).await?))
}

#[derive(Debug, Deserialize)]
pub struct LegacyUpdate {
    name: Option<String>,
    production_date: Option<String>,
    expiry_date: Option<String>,
}

/// `""` (or null) clears a date; anything else must be `YYYY-MM-DD`.
fn legacy_date(field: &str, raw: Option<String>) -> Result<Option<Option<NaiveDate>>, ApiError> {
    match raw.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(s) => s.parse().map(|d| Some(Some(d))).map_err(|_| {
            let label = if field == "expiry_date" {
                "有效期"
            } else {
                "生产日期"
            };
            ApiError::validation(format!(
                "{label}格式不对，请填写 YYYY-MM-DD 格式的日期，或留空"
            ))
        }),
    }
}

pub async fn update(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    // Explicit nulls clear too, as in the original.
    let raw = body.into_inner();
    let input: LegacyUpdate = serde_json::from_value(raw.clone()).map_err(|_| {
        ApiError::validation("请求内容有误：name、production_date、expiry_date 应为文字或 null")
    })?;
    let d = super::drugs::owned_drug(&state, user, path.into_inner()).await?;
    let mut m: drug::ActiveModel = d.into();
    if let Some(name) = input.name.map(|n| n.trim().to_owned()) {
        if name.is_empty() || name.chars().count() > 200 {
            return Err(ApiError::validation("药品名称不能为空，最多 200 个字"));
        }
        m.name = sea_orm::Set(name);
    }
    for (field, value) in [
        ("production_date", input.production_date),
        ("expiry_date", input.expiry_date),
    ] {
        let parsed = if raw.get(field).is_some_and(Value::is_null) {
            Some(None)
        } else {
            legacy_date(field, value)?
        };
        if let Some(date) = parsed {
            if field == "production_date" {
                m.production_date = sea_orm::Set(date);
            } else {
                m.expiry_date = sea_orm::Set(date);
            }
        }
    }
    m.updated_at = sea_orm::Set(chrono::Utc::now());
    let saved = sea_orm::ActiveModelTrait::update(m, &state.db).await?;
    let mut items = legacy_items(&state, vec![saved]).await?;
    Ok(HttpResponse::Ok().json(items.pop().unwrap_or_default()))
}

pub async fn delete(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    super::drugs::delete_drug(&state, user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"message": "删除成功"})))
}

pub async fn file(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::new(ErrorCode::ImageNotFound, "no such file");
    let id: Uuid = path
        .strip_suffix(".jpg")
        .unwrap_or(&path)
        .parse()
        .map_err(|_| not_found())?;
    let image = drug_image::Entity::find_by_id(id)
        .filter(drug_image::Column::UserId.eq(user))
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    super::drugs::serve_image(&state, &image).await
}
