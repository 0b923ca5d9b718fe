//! `POST /api/v1/drugs/recognize` and the recognition flow shared with the legacy routes:
//! normalise and store each photo, read a barcode, reuse an earlier result for the same
//! photos, consult the product catalogue, ask the vision model once with every photo, validate
//! what it read, and save the drug.

use shared::ErrorCode;
use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::{HttpResponse, web};
use base64::Engine;
use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::ApiError;
use shared::entities::{drug, drug_image, product, recognition};
use shared::internal_auth::UserId;
use shared::llm::{LlmError, extract_json_object};
use uuid::Uuid;

use crate::domain::drug::DrugView;
use crate::pipeline::barcode::{self, Barcode};
use crate::pipeline::fields::{Fields, PRODUCT_FIELDS};
use crate::pipeline::normalize::{self, NormalizeError};
use crate::state::AppState;
use crate::storage::Store;

/// The unknown-name placeholder of the original product.
pub const UNKNOWN_NAME: &str = "未知药品";

const PROMPT: &str = "You read medicine boxes. The photos show one box from several sides. \
Answer with one JSON object and nothing else, with these keys (null when not printed or not \
legible; copy text exactly as printed, Chinese kept as is): name (the drug's name as printed, \
e.g. 碳酸钙D3颗粒(Ⅱ)), brand (trade mark, e.g. 钙诺), generic_name, manufacturer, strength \
(规格), dosage_form (剂型), package (包装规格, e.g. 12袋/盒), approval_number (批准文号, e.g. \
国药准字H20051234), barcode (the digits under the barcode), batch_number (批号), \
production_date (生产日期), expiry_date (有效期至), dates as printed.";

#[derive(Debug, Deserialize)]
pub struct SaveQuery {
    pub save: Option<bool>,
}

/// A photo of this recognition: stored, with its normalised JPEG when at hand.
pub struct Photo {
    pub image: drug_image::Model,
    pub jpeg: Option<Vec<u8>>,
    pub barcode: Option<Barcode>,
    pub scanned: bool,
}

pub struct Outcome {
    pub drug: Option<drug::Model>,
    pub images: Vec<drug_image::Model>,
    pub recognition: recognition::Model,
    pub preview: Fields,
    pub notes: Vec<String>,
    pub reused: bool,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn normalize_error(err: NormalizeError) -> ApiError {
    match err {
        NormalizeError::Unsupported => {
            ApiError::new(ErrorCode::UnsupportedMediaType, err.to_string())
        }
        NormalizeError::TooManyPixels { .. } | NormalizeError::Undecodable(_) => {
            ApiError::new(ErrorCode::UnprocessableImage, err.to_string())
        }
        NormalizeError::Encode(e) => ApiError::internal(e),
    }
}

fn storage_error(err: crate::storage::StorageError) -> ApiError {
    ApiError::internal(err)
}

/// Normalise each upload (on blocking threads, a bounded number at once) and store it;
/// a photo this user sent before (same bytes) is not stored again.
#[tracing::instrument(name = "recognition.ingest", skip_all, fields(user.id = %user, photos = files.len()))]
pub async fn ingest(
    state: &AppState,
    user: Uuid,
    files: Vec<Vec<u8>>,
) -> Result<Vec<Photo>, ApiError> {
    let mut photos = Vec::with_capacity(files.len());
    for bytes in files {
        let hash = sha256_hex(&bytes);
        if let Some(image) = drug_image::Entity::find()
            .filter(drug_image::Column::UserId.eq(user))
            .filter(drug_image::Column::ContentHash.eq(&hash))
            .order_by_asc(drug_image::Column::CreatedAt)
            .one(&state.db)
            .await?
        {
            photos.push(Photo {
                image,
                jpeg: None,
                barcode: None,
                scanned: false,
            });
            continue;
        }
        let limits = state.normalize_limits();
        let permit = state
            .image_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(ApiError::internal)?;
        let normalized = shared::request_id::spawn_blocking(move || {
            let _permit = permit;
            let mut n = normalize::normalize_with_grey(&bytes, limits)?;
            let code = n.grey.take().as_ref().and_then(barcode::detect);
            Ok::<_, NormalizeError>((n, code))
        })
        .await
        .map_err(ApiError::internal)?;
        let (normalized, code) = normalized.map_err(normalize_error)?;
        let id = Uuid::now_v7();
        let key = Store::image_key(user, id);
        state
            .store
            .put(&key, normalized.jpeg.clone())
            .await
            .map_err(storage_error)?;
        let image = drug_image::ActiveModel {
            id: Set(id),
            user_id: Set(user),
            drug_id: Set(None),
            storage_key: Set(key),
            content_hash: Set(hash),
            size_bytes: Set(i64::try_from(normalized.jpeg.len()).unwrap_or(i64::MAX)),
            width: Set(i32::try_from(normalized.width).unwrap_or(i32::MAX)),
            height: Set(i32::try_from(normalized.height).unwrap_or(i32::MAX)),
            created_at: Set(Utc::now()),
        }
        .insert(&state.db)
        .await?;
        photos.push(Photo {
            image,
            jpeg: Some(normalized.jpeg),
            barcode: code,
            scanned: true,
        });
    }
    Ok(photos)
}

/// The key of a set of photos: their content hashes, in order.
pub fn images_key(photos: &[Photo]) -> String {
    let joined: Vec<&str> = photos
        .iter()
        .map(|p| p.image.content_hash.as_str())
        .collect();
    sha256_hex(joined.join(",").as_bytes())
}

async fn load_jpeg(state: &AppState, photo: &mut Photo) -> Result<(), ApiError> {
    if photo.jpeg.is_none() {
        let bytes = state
            .store
            .get(&photo.image.storage_key)
            .await
            .map_err(storage_error)?;
        photo.jpeg = Some(bytes.to_vec());
    }
    Ok(())
}

async fn scan(state: &AppState, photo: &mut Photo) -> Result<(), ApiError> {
    if photo.scanned {
        return Ok(());
    }
    load_jpeg(state, photo).await?;
    let jpeg = photo.jpeg.clone().unwrap_or_default();
    photo.barcode = shared::request_id::spawn_blocking(move || {
        image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
            .ok()
            .and_then(|img| barcode::detect(&img.into_luma8()))
    })
    .await
    .map_err(ApiError::internal)?;
    photo.scanned = true;
    Ok(())
}

fn fields_to_json(fields: &Fields) -> serde_json::Value {
    serde_json::to_value(fields).unwrap_or_default()
}

/// Run recognition over stored photos. `existing` is a failed recognition being retried.
#[tracing::instrument(name = "recognition.run", skip_all, fields(user.id = %user, photos = photos.len(), retry = existing.is_some()))]
pub async fn run(
    state: &AppState,
    user: Uuid,
    mut photos: Vec<Photo>,
    existing: Option<recognition::Model>,
    save: bool,
) -> Result<Outcome, ApiError> {
    let key = images_key(&photos);
    let image_ids: Vec<Uuid> = photos.iter().map(|p| p.image.id).collect();

    // The same photos again: the earlier answer, without a model call.
    if existing.is_none()
        && let Some(done) = recognition::Entity::find()
            .filter(recognition::Column::UserId.eq(user))
            .filter(recognition::Column::ImagesKey.eq(&key))
            .filter(recognition::Column::Status.eq("succeeded"))
            .order_by_desc(recognition::Column::CreatedAt)
            .one(&state.db)
            .await?
    {
        let fields: Fields = done
            .fields
            .clone()
            .and_then(|f| serde_json::from_value(f).ok())
            .unwrap_or_default();
        let mut saved = match done.drug_id {
            Some(id) => drug::Entity::find_by_id(id).one(&state.db).await?,
            None => None,
        };
        if saved.is_none() && save {
            saved = Some(save_drug(state, user, &fields, done.id, &image_ids).await?);
        }
        let images = attached_images(state, saved.as_ref(), &photos).await?;
        return Ok(Outcome {
            drug: saved,
            images,
            recognition: done,
            preview: fields,
            notes: vec!["the same photos were recognised before; that result was reused".into()],
            reused: true,
        });
    }

    let mut found: Option<Barcode> = None;
    for photo in &mut photos {
        scan(state, photo).await?;
        if found.is_none() {
            found.clone_from(&photo.barcode);
        }
    }
    let catalogue = match &found {
        Some(code) => {
            product::Entity::find_by_id(code.text.clone())
                .one(&state.db)
                .await?
        }
        None => None,
    };

    let mut notes = Vec::new();
    let mut sources: BTreeMap<String, &'static str> = BTreeMap::new();
    let mut fields = Fields::default();
    let mut model_used: Option<(String, Option<u32>, Option<u32>, i64)> = None;

    if state.vision.is_configured() {
        for photo in &mut photos {
            load_jpeg(state, photo).await?;
        }
        match ask_model(state, &photos).await {
            Ok((answer, completion)) => {
                fields = Fields::from_model(&answer, &mut notes);
                for name in [
                    "name",
                    "brand",
                    "generic_name",
                    "manufacturer",
                    "strength",
                    "dosage_form",
                    "package",
                    "approval_number",
                    "barcode",
                    "batch_number",
                ] {
                    if fields.get(name).is_some() {
                        sources.insert(name.into(), "model");
                    }
                }
                for (name, present) in [
                    ("production_date", fields.production_date.is_some()),
                    ("expiry_date", fields.expiry_date.is_some()),
                ] {
                    if present {
                        sources.insert(name.into(), "model");
                    }
                }
                model_used = Some((
                    completion.model,
                    completion.prompt_tokens,
                    completion.completion_tokens,
                    i64::try_from(completion.duration.as_millis()).unwrap_or(i64::MAX),
                ));
            }
            Err(err) => {
                let failed = record_failure(state, user, &key, &image_ids, existing, &err).await?;
                let mut api = err.to_api_error();
                if !matches!(err, LlmError::NotConfigured) {
                    api.message = format!(
                        "the model could not read the photos; they are kept: retry with POST /api/v1/drugs/recognitions/{}/retry",
                        failed.id
                    );
                }
                return Err(api);
            }
        }
    } else if catalogue.is_none() {
        return Err(LlmError::NotConfigured.to_api_error());
    } else {
        notes.push(
            "no model is configured: product fields come from the catalogue, dates were not read"
                .into(),
        );
    }

    if let Some(code) = &found {
        if fields.barcode.as_ref().is_some_and(|b| *b != code.text) {
            notes.push(format!(
                "barcode: the model read {:?}, the barcode decodes as {}; the decoded one is kept",
                fields.barcode.as_deref().unwrap_or_default(),
                code.text
            ));
        }
        fields.barcode = Some(code.text.clone());
        sources.insert("barcode".into(), "barcode");
    }
    if let Some(known) = &catalogue {
        let from_catalogue = [
            ("name", Some(known.name.clone())),
            ("brand", known.brand.clone()),
            ("generic_name", known.generic_name.clone()),
            ("manufacturer", known.manufacturer.clone()),
            ("strength", known.strength.clone()),
            ("dosage_form", known.dosage_form.clone()),
            ("package", known.package.clone()),
            ("approval_number", known.approval_number.clone()),
        ];
        for (name, value) in from_catalogue {
            if value.is_some() {
                fields.set(name, value);
                sources.insert(name.into(), "catalogue");
            }
        }
    } else if let (Some(code), Some(name)) = (&found, &fields.name) {
        learn_product(state, &code.text, name, &fields).await?;
    }

    let (model, prompt_tokens, completion_tokens, duration_ms) = match model_used {
        Some((m, p, c, d)) => (Some(m), p, c, Some(d)),
        None => (None, None, None, None),
    };
    let now = Utc::now();
    let rec_id = existing.as_ref().map_or_else(Uuid::now_v7, |r| r.id);
    let record = recognition::ActiveModel {
        id: Set(rec_id),
        user_id: Set(user),
        images_key: Set(key),
        image_ids: Set(json!(image_ids)),
        status: Set("succeeded".into()),
        fields: Set(Some(fields_to_json(&fields))),
        sources: Set(Some(json!(sources))),
        barcode: Set(found.as_ref().map(|b| b.text.clone())),
        barcode_format: Set(found.as_ref().map(|b| b.format.clone())),
        model: Set(model),
        prompt_tokens: Set(prompt_tokens.map(|t| i32::try_from(t).unwrap_or(i32::MAX))),
        completion_tokens: Set(completion_tokens.map(|t| i32::try_from(t).unwrap_or(i32::MAX))),
        duration_ms: Set(duration_ms),
        error: Set(None),
        drug_id: Set(None),
        created_at: Set(existing.as_ref().map_or(now, |r| r.created_at)),
        updated_at: Set(now),
    };
    let mut recognition = if existing.is_some() {
        record.update(&state.db).await?
    } else {
        record.insert(&state.db).await?
    };
    let saved = if save {
        let d = save_drug(state, user, &fields, recognition.id, &image_ids).await?;
        recognition = recognition::Entity::find_by_id(recognition.id)
            .one(&state.db)
            .await?
            .unwrap_or(recognition);
        Some(d)
    } else {
        None
    };
    let images = attached_images(state, saved.as_ref(), &photos).await?;
    Ok(Outcome {
        drug: saved,
        images,
        recognition,
        preview: fields,
        notes,
        reused: false,
    })
}

async fn attached_images(
    state: &AppState,
    saved: Option<&drug::Model>,
    photos: &[Photo],
) -> Result<Vec<drug_image::Model>, ApiError> {
    Ok(match saved {
        Some(d) => {
            drug_image::Entity::find()
                .filter(drug_image::Column::DrugId.eq(d.id))
                .order_by_asc(drug_image::Column::CreatedAt)
                .all(&state.db)
                .await?
        }
        None => photos.iter().map(|p| p.image.clone()).collect(),
    })
}

#[tracing::instrument(name = "recognition.model", skip_all, fields(photos = photos.len()))]
async fn ask_model(
    state: &AppState,
    photos: &[Photo],
) -> Result<(serde_json::Value, shared::llm::Completion), LlmError> {
    let mut content = vec![json!({"type": "text", "text": PROMPT})];
    for photo in photos {
        let jpeg = photo.jpeg.as_deref().unwrap_or_default();
        let data = base64::engine::general_purpose::STANDARD.encode(jpeg);
        content.push(json!({
            "type": "image_url",
            "image_url": {"url": format!("data:image/jpeg;base64,{data}")}
        }));
    }
    let messages = json!([{"role": "user", "content": content}]);
    let mut extra = serde_json::Map::new();
    extra.insert("temperature".into(), json!(0.1));
    let completion = state.vision.complete(messages, extra).await?;
    let answer = extract_json_object(&completion.content)
        .ok_or_else(|| LlmError::BadAnswer("no JSON object in the answer".into()))?;
    Ok((answer, completion))
}

async fn record_failure(
    state: &AppState,
    user: Uuid,
    key: &str,
    image_ids: &[Uuid],
    existing: Option<recognition::Model>,
    err: &LlmError,
) -> Result<recognition::Model, ApiError> {
    let now = Utc::now();
    let error = err.to_string().chars().take(1000).collect::<String>();
    if let Some(rec) = existing {
        let mut active: recognition::ActiveModel = rec.into();
        active.error = Set(Some(error));
        active.updated_at = Set(now);
        return Ok(active.update(&state.db).await?);
    }
    Ok(recognition::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        images_key: Set(key.to_owned()),
        image_ids: Set(json!(image_ids)),
        status: Set("failed".into()),
        fields: Set(None),
        sources: Set(None),
        barcode: Set(None),
        barcode_format: Set(None),
        model: Set(Some(state.vision.model().to_owned())),
        prompt_tokens: Set(None),
        completion_tokens: Set(None),
        duration_ms: Set(None),
        error: Set(Some(error)),
        drug_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?)
}

/// Remember what is the same for every box with this barcode; never dates or batch.
async fn learn_product(
    state: &AppState,
    code: &str,
    name: &str,
    fields: &Fields,
) -> Result<(), ApiError> {
    let now = Utc::now();
    let row = product::ActiveModel {
        barcode: Set(code.to_owned()),
        name: Set(name.to_owned()),
        brand: Set(fields.brand.clone()),
        generic_name: Set(fields.generic_name.clone()),
        manufacturer: Set(fields.manufacturer.clone()),
        strength: Set(fields.strength.clone()),
        dosage_form: Set(fields.dosage_form.clone()),
        package: Set(fields.package.clone()),
        approval_number: Set(fields.approval_number.clone()),
        times_seen: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    debug_assert!(PRODUCT_FIELDS.contains(&"name"));
    product::Entity::insert(row)
        .on_conflict(
            OnConflict::column(product::Column::Barcode)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&state.db)
        .await?;
    Ok(())
}

/// Create the drug and attach the photos to it, in one transaction.
pub async fn save_drug(
    state: &AppState,
    user: Uuid,
    fields: &Fields,
    recognition_id: Uuid,
    image_ids: &[Uuid],
) -> Result<drug::Model, ApiError> {
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let saved = drug::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        name: Set(fields
            .name
            .clone()
            .unwrap_or_else(|| UNKNOWN_NAME.to_owned())),
        brand: Set(fields.brand.clone()),
        generic_name: Set(fields.generic_name.clone()),
        manufacturer: Set(fields.manufacturer.clone()),
        strength: Set(fields.strength.clone()),
        dosage_form: Set(fields.dosage_form.clone()),
        package: Set(fields.package.clone()),
        approval_number: Set(fields.approval_number.clone()),
        barcode: Set(fields.barcode.clone()),
        batch_number: Set(fields.batch_number.clone()),
        production_date: Set(fields.production_date),
        expiry_date: Set(fields.expiry_date),
        quantity: Set(None),
        unit: Set(None),
        notes: Set(None),
        recognition_id: Set(Some(recognition_id)),
        // Filled by `before_save` from the searched fields.
        search_text: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    // A photo already attached to another drug (the same box photographed again, or a photo
    // of an earlier set) stays there, and the new drug gets its own copy: a drug made from
    // photos always has them.
    let attached: Vec<drug_image::Model> = drug_image::Entity::find()
        .filter(drug_image::Column::Id.is_in(image_ids.to_vec()))
        .filter(drug_image::Column::UserId.eq(user))
        .filter(drug_image::Column::DrugId.is_not_null())
        .all(&txn)
        .await?;
    drug_image::Entity::update_many()
        .col_expr(
            drug_image::Column::DrugId,
            sea_orm::sea_query::Expr::value(saved.id),
        )
        .filter(drug_image::Column::Id.is_in(image_ids.to_vec()))
        .filter(drug_image::Column::UserId.eq(user))
        .filter(drug_image::Column::DrugId.is_null())
        .exec(&txn)
        .await?;
    for original in image_ids
        .iter()
        .filter_map(|id| attached.iter().find(|a| a.id == *id))
    {
        copy_image(state, &txn, original, saved.id).await?;
    }
    recognition::Entity::update_many()
        .col_expr(
            recognition::Column::DrugId,
            sea_orm::sea_query::Expr::value(saved.id),
        )
        .filter(recognition::Column::Id.eq(recognition_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(saved)
}

/// A copy of a stored photo (its own object in the store) attached to `drug`.
async fn copy_image(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    original: &drug_image::Model,
    drug: Uuid,
) -> Result<(), ApiError> {
    let bytes = state
        .store
        .get(&original.storage_key)
        .await
        .map_err(storage_error)?;
    let id = Uuid::now_v7();
    let key = Store::image_key(original.user_id, id);
    state
        .store
        .put(&key, bytes.to_vec())
        .await
        .map_err(storage_error)?;
    drug_image::ActiveModel {
        id: Set(id),
        user_id: Set(original.user_id),
        drug_id: Set(Some(drug)),
        storage_key: Set(key),
        content_hash: Set(original.content_hash.clone()),
        size_bytes: Set(original.size_bytes),
        width: Set(original.width),
        height: Set(original.height),
        created_at: Set(Utc::now()),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// The public answer: `{drug, recognition:{fields, sources, barcode, model, duration_ms, ...}}`.
pub async fn answer(
    state: &AppState,
    user: Uuid,
    outcome: Outcome,
) -> Result<serde_json::Value, ApiError> {
    let prefs = state.user_prefs(user).await?;
    let today = prefs.today();
    let drug = match outcome.drug {
        Some(d) => serde_json::to_value(DrugView::new(
            d,
            &outcome.images,
            today,
            prefs.expiry_warning_days,
        ))
        .map_err(ApiError::internal)?,
        None => {
            let mut preview = fields_to_json(&outcome.preview);
            if let Some(obj) = preview.as_object_mut() {
                obj.insert("id".into(), serde_json::Value::Null);
                if obj.get("name").is_none_or(serde_json::Value::is_null) {
                    obj.insert("name".into(), UNKNOWN_NAME.into());
                }
                let (status, days) = crate::domain::drug::status(
                    outcome.preview.expiry_date,
                    today,
                    prefs.expiry_warning_days,
                );
                obj.insert("status".into(), json!(status));
                obj.insert("days_to_expiry".into(), json!(days));
                obj.insert("images".into(), json!([]));
            }
            preview
        }
    };
    let rec = &outcome.recognition;
    Ok(json!({
        "drug": drug,
        "recognition": {
            "id": rec.id,
            "fields": fields_to_json(&outcome.preview),
            "sources": rec.sources.clone().unwrap_or_else(|| json!({})),
            "barcode": rec.barcode.as_ref().map(|text| json!({"text": text, "format": rec.barcode_format})),
            "model": rec.model,
            "duration_ms": rec.duration_ms,
            "tokens": {"prompt": rec.prompt_tokens, "completion": rec.completion_tokens},
            "notes": outcome.notes,
            "reused": outcome.reused,
            "image_ids": rec.image_ids,
        }
    }))
}

pub async fn recognize(
    state: web::Data<AppState>,
    UserId(user): UserId,
    query: web::Query<SaveQuery>,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let files =
        super::upload::read_files(payload, state.drugs.max_files, state.max_file_size).await?;
    let photos = ingest(&state, user, files).await?;
    let outcome = run(&state, user, photos, None, query.save.unwrap_or(true)).await?;
    Ok(HttpResponse::Ok().json(answer(&state, user, outcome).await?))
}

/// Load a user's stored photos by id, in the order given; any not theirs is 404.
pub async fn photos_by_ids(
    state: &AppState,
    user: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Photo>, ApiError> {
    let rows = drug_image::Entity::find()
        .filter(drug_image::Column::UserId.eq(user))
        .filter(drug_image::Column::Id.is_in(ids.to_vec()))
        .all(&state.db)
        .await?;
    ids.iter()
        .map(|id| {
            rows.iter()
                .find(|r| r.id == *id)
                .cloned()
                .map(|image| Photo {
                    image,
                    jpeg: None,
                    barcode: None,
                    scanned: false,
                })
                .ok_or_else(|| ApiError::new(ErrorCode::ImageNotFound, format!("no image {id}")))
        })
        .collect()
}

pub async fn retry(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
    query: web::Query<SaveQuery>,
) -> Result<HttpResponse, ApiError> {
    let rec = recognition::Entity::find_by_id(path.into_inner())
        .filter(recognition::Column::UserId.eq(user))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::RecognitionNotFound, "no such recognition"))?;
    if rec.status != "failed" {
        return Err(ApiError::new(
            ErrorCode::RecognitionSucceeded,
            "this recognition already succeeded",
        ));
    }
    let ids: Vec<Uuid> = serde_json::from_value(rec.image_ids.clone()).unwrap_or_default();
    let photos = photos_by_ids(&state, user, &ids).await?;
    let outcome = run(&state, user, photos, Some(rec), query.save.unwrap_or(true)).await?;
    Ok(HttpResponse::Ok().json(answer(&state, user, outcome).await?))
}
