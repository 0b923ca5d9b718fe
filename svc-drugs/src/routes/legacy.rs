//! The drug-serve routes, in their original shapes, so the original web frontend works
//! unchanged. The gateway forwards them only when enabled, acting as one configured account.
//! The work is `crate::legacy`'s; here are the shapes and the Chinese error messages.

use actix_multipart::Multipart;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::ApiError;
use shared::ErrorCode;
use shared::error::is_chinese;
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::legacy::{self, image_url};
use crate::routes::recognize::requester;
use crate::state::AppState;
use crate::upload::read_files;

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

pub async fn upload(
    state: web::Data<AppState>,
    UserId(user): UserId,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let files = read_files(payload, state.drugs.max_files, state.max_file_size).await?;
    let photos = crate::recognition::ingest(&state, user, files).await?;
    let body: Vec<Value> = photos
        .iter()
        .map(|p| json!({"image_id": p.image.id, "message": "上传成功"}))
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

pub async fn analyze_batch(
    req: HttpRequest,
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: web::Json<Vec<String>>,
) -> Result<HttpResponse, ApiError> {
    let ids = legacy::image_ids(&body)?;
    let (d, images) = legacy::analyze(&state, requester(&req, user), ids).await?;
    Ok(HttpResponse::Ok().json(json!({
        "name": d.name,
        "production_date": d.production_date,
        "expiry_date": d.expiry_date,
        "image_urls": images.into_iter().map(image_url).collect::<Vec<_>>(),
    })))
}

pub async fn analyze_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (d, _) = legacy::analyze(&state, requester(&req, user), vec![path.into_inner()]).await?;
    Ok(HttpResponse::Ok().json(json!({
        "name": d.name,
        "production_date": d.production_date,
        "expiry_date": d.expiry_date,
    })))
}

pub async fn list(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(legacy::list(&state, user).await?))
}

pub async fn expiring(
    state: web::Data<AppState>,
    UserId(user): UserId,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(legacy::expiring(&state, user).await?))
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
    Ok(HttpResponse::Ok().json(legacy::search(&state, user, query.q.as_deref()).await?))
}

pub async fn update(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let item = legacy::update(&state, user, path.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(item))
}

pub async fn delete(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    crate::cabinet::delete(&state, user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"message": "删除成功"})))
}

pub async fn file(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(super::jpeg(legacy::file(&state, user, &path).await?))
}
