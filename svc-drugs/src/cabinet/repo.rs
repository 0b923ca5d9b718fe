//! The queries of the cabinet: drugs and their photos.

use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use shared::entities::{drug, drug_image, medication_plan, product};
use uuid::Uuid;

/// Every drug of a user.
pub fn of_user(user: Uuid) -> Select<drug::Entity> {
    drug::Entity::find().filter(drug::Column::UserId.eq(user))
}

pub async fn owned<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
) -> Result<Option<drug::Model>, DbErr> {
    drug::Entity::find_by_id(id)
        .filter(drug::Column::UserId.eq(user))
        .one(db)
        .await
}

/// The catalogue's entry for a product identifier (learned from recognitions; shared by
/// every user: it holds only what is printed alike on every box).
pub async fn catalogue_entry<C: ConnectionTrait>(
    db: &C,
    key: &str,
) -> Result<Option<product::Model>, DbErr> {
    product::Entity::find_by_id(key.to_owned()).one(db).await
}

/// The user's drug made from this very box, if any.
pub async fn by_box<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    box_id: Option<&str>,
) -> Result<Option<drug::Model>, DbErr> {
    let Some(box_id) = box_id else {
        return Ok(None);
    };
    of_user(user)
        .filter(drug::Column::BoxId.eq(box_id))
        .one(db)
        .await
}

/// A user's drugs, newest first, optionally narrowed.
pub async fn newest_first<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    condition: Option<Condition>,
) -> Result<Vec<drug::Model>, DbErr> {
    let mut select = of_user(user);
    if let Some(condition) = condition {
        select = select.filter(condition);
    }
    select.order_by_desc(drug::Column::CreatedAt).all(db).await
}

/// A user's drugs that expire on or before `horizon` (expired included), soonest first.
pub async fn expiring_by<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    horizon: NaiveDate,
) -> Result<Vec<drug::Model>, DbErr> {
    of_user(user)
        .filter(drug::Column::ExpiryDate.lte(horizon))
        .order_by_asc(drug::Column::ExpiryDate)
        .order_by_asc(drug::Column::Id)
        .all(db)
        .await
}

/// A user's drugs by name, at most `limit`.
pub async fn by_name<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    limit: u64,
) -> Result<Vec<drug::Model>, DbErr> {
    of_user(user)
        .order_by_asc(drug::Column::Name)
        .limit(limit)
        .all(db)
        .await
}

/// The photos of these drugs, oldest first.
pub async fn images_of<C: ConnectionTrait>(
    db: &C,
    drug_ids: Vec<Uuid>,
) -> Result<Vec<drug_image::Model>, DbErr> {
    if drug_ids.is_empty() {
        return Ok(Vec::new());
    }
    drug_image::Entity::find()
        .filter(drug_image::Column::DrugId.is_in(drug_ids))
        .order_by_asc(drug_image::Column::CreatedAt)
        .all(db)
        .await
}

/// A user's photo, by id; `drug` narrows it to that drug's photos.
pub async fn user_image<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
    drug: Option<Uuid>,
) -> Result<Option<drug_image::Model>, DbErr> {
    let mut select = drug_image::Entity::find_by_id(id).filter(drug_image::Column::UserId.eq(user));
    if let Some(drug) = drug {
        select = select.filter(drug_image::Column::DrugId.eq(drug));
    }
    select.one(db).await
}

/// Delete a drug's row, its photos' rows and its medication plans.
pub async fn delete_with_dependents<C: ConnectionTrait>(db: &C, drug: Uuid) -> Result<(), DbErr> {
    drug::Entity::delete_by_id(drug).exec(db).await?;
    drug_image::Entity::delete_many()
        .filter(drug_image::Column::DrugId.eq(drug))
        .exec(db)
        .await?;
    medication_plan::Entity::delete_many()
        .filter(medication_plan::Column::DrugId.eq(drug))
        .exec(db)
        .await?;
    Ok(())
}
