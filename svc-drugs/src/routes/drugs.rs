//! The cabinet: manual add, read, update, delete, list with search and status, expiring, and
//! the owner-only image route. Another user's drug is 404, never 403 (no existence leak).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{Duration, NaiveDate, Utc};
use sea_orm::TryIntoModel;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Deserialize;
use shared::ApiError;
use shared::ErrorCode;
use shared::entities::{drug, drug_image};
use shared::internal_auth::UserId;
use uuid::Uuid;

use crate::domain::drug::{DrugView, Status};
use crate::state::{AppState, UserPrefs};

const MAX_TEXT: usize = 500;

/// The fields a person may set by hand (POST and PUT). On PUT, a missing field is left as it
/// is and `null` clears it.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DrugInput {
    name: Option<String>,
    #[serde(default, with = "patch")]
    brand: Option<Option<String>>,
    #[serde(default, with = "patch")]
    generic_name: Option<Option<String>>,
    #[serde(default, with = "patch")]
    manufacturer: Option<Option<String>>,
    #[serde(default, with = "patch")]
    strength: Option<Option<String>>,
    #[serde(default, with = "patch")]
    dosage_form: Option<Option<String>>,
    #[serde(default, with = "patch")]
    package: Option<Option<String>>,
    #[serde(default, with = "patch")]
    approval_number: Option<Option<String>>,
    #[serde(default, with = "patch")]
    barcode: Option<Option<String>>,
    #[serde(default, with = "patch")]
    batch_number: Option<Option<String>>,
    #[serde(default, with = "patch")]
    production_date: Option<Option<NaiveDate>>,
    #[serde(default, with = "patch")]
    expiry_date: Option<Option<NaiveDate>>,
    #[serde(default, with = "patch")]
    quantity: Option<Option<f64>>,
    #[serde(default, with = "patch")]
    unit: Option<Option<String>>,
    #[serde(default, with = "patch")]
    notes: Option<Option<String>>,
}

/// `Option<Option<T>>` for partial updates: absent → `None`, `null` → `Some(None)`.
mod patch {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

fn check_text(field: &str, value: &Option<Option<String>>) -> Result<(), ApiError> {
    if let Some(Some(v)) = value
        && v.chars().count() > MAX_TEXT
    {
        return Err(ApiError::validation(format!(
            "{field} is longer than {MAX_TEXT} characters"
        )));
    }
    Ok(())
}

fn trimmed(value: Option<Option<String>>) -> Option<Option<String>> {
    value.map(|v| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
}

impl DrugInput {
    fn validate(&self) -> Result<(), ApiError> {
        if let Some(name) = &self.name
            && (name.trim().is_empty() || name.chars().count() > 200)
        {
            return Err(ApiError::validation("name must be 1 to 200 characters"));
        }
        for (field, value) in [
            ("brand", &self.brand),
            ("generic_name", &self.generic_name),
            ("manufacturer", &self.manufacturer),
            ("strength", &self.strength),
            ("dosage_form", &self.dosage_form),
            ("package", &self.package),
            ("batch_number", &self.batch_number),
            ("unit", &self.unit),
        ] {
            check_text(field, value)?;
        }
        if let Some(Some(notes)) = &self.notes
            && notes.chars().count() > 5000
        {
            return Err(ApiError::validation("notes is longer than 5000 characters"));
        }
        if let Some(Some(a)) = &self.approval_number
            && crate::pipeline::fields::normalize_approval_number(a).is_none()
        {
            return Err(ApiError::validation(
                "approval_number must be 国药准字 + one of H Z S J B T F + 8 digits",
            ));
        }
        if let Some(Some(b)) = &self.barcode
            && !crate::pipeline::fields::valid_gtin(b)
        {
            return Err(ApiError::validation(
                "barcode must be an EAN-8, UPC-A, EAN-13 or GTIN-14 number with a valid check digit",
            ));
        }
        if let Some(Some(q)) = self.quantity
            && !(q.is_finite() && (0.0..=1_000_000.0).contains(&q))
        {
            return Err(ApiError::validation(
                "quantity must be between 0 and 1000000",
            ));
        }
        Ok(())
    }

    fn apply(self, m: &mut drug::ActiveModel) {
        if let Some(name) = self.name {
            m.name = Set(name.trim().to_owned());
        }
        macro_rules! set_text {
            ($($f:ident),*) => {$(
                if let Some(v) = trimmed(self.$f) { m.$f = Set(v); }
            )*};
        }
        set_text!(
            brand,
            generic_name,
            manufacturer,
            strength,
            dosage_form,
            package,
            batch_number,
            unit,
            notes
        );
        if let Some(v) = trimmed(self.approval_number) {
            m.approval_number =
                Set(v.and_then(|a| crate::pipeline::fields::normalize_approval_number(&a)));
        }
        if let Some(v) = trimmed(self.barcode) {
            m.barcode = Set(v);
        }
        if let Some(v) = self.production_date {
            m.production_date = Set(v);
        }
        if let Some(v) = self.expiry_date {
            m.expiry_date = Set(v);
        }
        if let Some(v) = self.quantity {
            m.quantity = Set(v);
        }
    }
}

fn check_dates(m: &drug::Model) -> Result<(), ApiError> {
    if let (Some(p), Some(e)) = (m.production_date, m.expiry_date)
        && p > e
    {
        return Err(ApiError::validation(
            "production_date must not be after expiry_date",
        ));
    }
    Ok(())
}

pub async fn owned_drug(state: &AppState, user: Uuid, id: Uuid) -> Result<drug::Model, ApiError> {
    drug::Entity::find_by_id(id)
        .filter(drug::Column::UserId.eq(user))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::DrugNotFound, "no such drug"))
}

pub async fn images_of(
    state: &AppState,
    drug_ids: Vec<Uuid>,
) -> Result<Vec<drug_image::Model>, ApiError> {
    if drug_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(drug_image::Entity::find()
        .filter(drug_image::Column::DrugId.is_in(drug_ids))
        .order_by_asc(drug_image::Column::CreatedAt)
        .all(&state.db)
        .await?)
}

pub async fn views(
    state: &AppState,
    prefs: &UserPrefs,
    drugs: Vec<drug::Model>,
) -> Result<Vec<DrugView>, ApiError> {
    let images = images_of(state, drugs.iter().map(|d| d.id).collect()).await?;
    let today = prefs.today();
    Ok(drugs
        .into_iter()
        .map(|d| DrugView::new(d, &images, today, prefs.expiry_warning_days))
        .collect())
}

async fn one_view(state: &AppState, user: Uuid, d: drug::Model) -> Result<DrugView, ApiError> {
    let prefs = state.user_prefs(user).await?;
    let mut v = views(state, &prefs, vec![d]).await?;
    v.pop()
        .ok_or_else(|| ApiError::internal("drug view vanished"))
}

pub async fn create(
    state: web::Data<AppState>,
    UserId(user): UserId,
    body: web::Json<DrugInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    if input.name.is_none() {
        return Err(ApiError::validation("name is required"));
    }
    input.validate()?;
    let now = Utc::now();
    let mut m = drug::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        name: Set(String::new()),
        brand: Set(None),
        generic_name: Set(None),
        manufacturer: Set(None),
        strength: Set(None),
        dosage_form: Set(None),
        package: Set(None),
        approval_number: Set(None),
        barcode: Set(None),
        batch_number: Set(None),
        production_date: Set(None),
        expiry_date: Set(None),
        quantity: Set(None),
        unit: Set(None),
        notes: Set(None),
        recognition_id: Set(None),
        // Filled by `before_save` from the searched fields.
        search_text: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    input.apply(&mut m);
    let model: drug::Model = m.clone().try_into_model().map_err(ApiError::internal)?;
    check_dates(&model)?;
    let saved = m.insert(&state.db).await?;
    Ok(HttpResponse::Created().json(one_view(&state, user, saved).await?))
}

pub async fn get(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let d = owned_drug(&state, user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(one_view(&state, user, d).await?))
}

pub async fn update(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
    body: web::Json<DrugInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    input.validate()?;
    let d = owned_drug(&state, user, path.into_inner()).await?;
    let mut m: drug::ActiveModel = d.into();
    input.apply(&mut m);
    m.updated_at = Set(Utc::now());
    let model: drug::Model = m.clone().try_into_model().map_err(ApiError::internal)?;
    check_dates(&model)?;
    let saved = m.update(&state.db).await?;
    Ok(HttpResponse::Ok().json(one_view(&state, user, saved).await?))
}

/// Delete a drug, its photos (rows and stored files) and its medication plans.
pub async fn delete_drug(state: &AppState, user: Uuid, id: Uuid) -> Result<(), ApiError> {
    let d = owned_drug(state, user, id).await?;
    let images = images_of(state, vec![d.id]).await?;
    drug::Entity::delete_by_id(d.id).exec(&state.db).await?;
    drug_image::Entity::delete_many()
        .filter(drug_image::Column::DrugId.eq(d.id))
        .exec(&state.db)
        .await?;
    shared::entities::medication_plan::Entity::delete_many()
        .filter(shared::entities::medication_plan::Column::DrugId.eq(d.id))
        .exec(&state.db)
        .await?;
    for image in images {
        if let Err(e) = state.store.delete(&image.storage_key).await {
            tracing::warn!(error = %e, image = %image.id, "stored photo not deleted");
        }
    }
    Ok(())
}

pub async fn delete(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    delete_drug(&state, user, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// `%` and `_` in a search are literal; the query is folded as the stored text is.
pub fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in shared::text::fold(q).chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A substring of name, brand, generic name or maker, case-insensitive for any Unicode text
/// and the same on SQLite and PostgreSQL (`drugs.search_text`, folded by `shared::text`).
pub fn search_condition(q: &str) -> Condition {
    Condition::all().add(
        Expr::col((drug::Entity, drug::Column::SearchText))
            .like(LikeExpr::new(like_pattern(q)).escape('\\')),
    )
}

fn status_condition(status: Status, today: NaiveDate, warning_days: i64) -> Condition {
    let horizon = today + Duration::days(warning_days);
    match status {
        Status::Unknown => Condition::all().add(drug::Column::ExpiryDate.is_null()),
        Status::Expired => Condition::all().add(drug::Column::ExpiryDate.lt(today)),
        Status::Expiring => Condition::all()
            .add(drug::Column::ExpiryDate.gte(today))
            .add(drug::Column::ExpiryDate.lte(horizon)),
        Status::Ok => Condition::all().add(drug::Column::ExpiryDate.gt(horizon)),
    }
}

pub async fn list(
    state: web::Data<AppState>,
    UserId(user): UserId,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::validation("limit must be between 1 and 200"));
    }
    let offset: u64 = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => c
            .parse()
            .map_err(|_| ApiError::validation("cursor is not one this server gave out"))?,
        None => 0,
    };
    let prefs = state.user_prefs(user).await?;
    let mut select = drug::Entity::find().filter(drug::Column::UserId.eq(user));
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.chars().count() > 100 {
            return Err(ApiError::validation("q is longer than 100 characters"));
        }
        select = select.filter(search_condition(text));
    }
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        let status = Status::parse(s).ok_or_else(|| {
            ApiError::validation("status must be one of ok, expiring, expired, unknown")
        })?;
        select = select.filter(status_condition(
            status,
            prefs.today(),
            prefs.expiry_warning_days,
        ));
    }
    select = match q.sort.as_deref().unwrap_or("-created_at") {
        "-created_at" | "created_at_desc" => select.order_by_desc(drug::Column::CreatedAt),
        "created_at" => select.order_by_asc(drug::Column::CreatedAt),
        "expiry_date" => select
            .order_by_asc(Expr::col(drug::Column::ExpiryDate).is_null())
            .order_by_asc(drug::Column::ExpiryDate),
        "name" => select.order_by_asc(drug::Column::Name),
        _ => {
            return Err(ApiError::validation(
                "sort must be one of -created_at, created_at, expiry_date, name",
            ));
        }
    }
    .order_by_asc(drug::Column::Id);
    let total = select.clone().count(&state.db).await?;
    let rows = select
        .offset(offset)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let has_more = rows.len() as u64 > limit;
    let rows: Vec<drug::Model> = rows.into_iter().take(limit as usize).collect();
    let next_cursor = has_more.then(|| (offset + limit).to_string());
    let items = views(&state, &prefs, rows).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "items": items,
        "total": total,
        "next_cursor": next_cursor,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiringQuery {
    days: Option<i64>,
}

/// Drugs that expire within `days` (default: the user's warning window), expired included,
/// soonest first.
pub async fn expiring_for(
    state: &AppState,
    user: Uuid,
    days: Option<i64>,
) -> Result<Vec<DrugView>, ApiError> {
    let prefs = state.user_prefs(user).await?;
    let days = days.unwrap_or(prefs.expiry_warning_days);
    if !(0..=3650).contains(&days) {
        return Err(ApiError::validation("days must be between 0 and 3650"));
    }
    let horizon = prefs.today() + Duration::days(days);
    let rows = drug::Entity::find()
        .filter(drug::Column::UserId.eq(user))
        .filter(drug::Column::ExpiryDate.lte(horizon))
        .order_by_asc(drug::Column::ExpiryDate)
        .order_by_asc(drug::Column::Id)
        .all(&state.db)
        .await?;
    views(state, &prefs, rows).await
}

pub async fn expiring(
    state: web::Data<AppState>,
    UserId(user): UserId,
    query: web::Query<ExpiringQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(expiring_for(&state, user, query.days).await?))
}

pub async fn image(
    state: web::Data<AppState>,
    UserId(user): UserId,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (drug_id, image_id) = path.into_inner();
    let image = drug_image::Entity::find_by_id(image_id)
        .filter(drug_image::Column::UserId.eq(user))
        .filter(drug_image::Column::DrugId.eq(drug_id))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::ImageNotFound, "no such image"))?;
    serve_image(&state, &image).await
}

pub async fn serve_image(
    state: &AppState,
    image: &drug_image::Model,
) -> Result<HttpResponse, ApiError> {
    let bytes = state
        .store
        .get(&image.storage_key)
        .await
        .map_err(|e| match e {
            crate::storage::StorageError::NotFound => {
                ApiError::new(ErrorCode::ImageNotFound, "the image is gone from the store")
            }
            other => ApiError::internal(other),
        })?;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .body(bytes))
}
