//! The queries of recognition: photos, recognitions and the product catalogue.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use shared::entities::{drug, drug_image, product, recognition};
use uuid::Uuid;

use crate::domain::recognition::RecognitionStatus;

/// The first photo this user stored with these bytes.
pub async fn image_by_hash<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    hash: &str,
) -> Result<Option<drug_image::Model>, DbErr> {
    drug_image::Entity::find()
        .filter(drug_image::Column::UserId.eq(user))
        .filter(drug_image::Column::ContentHash.eq(hash))
        .order_by_asc(drug_image::Column::CreatedAt)
        .one(db)
        .await
}

/// The perceptual hashes of a user's latest `count` photos that have one, with their ids.
pub async fn recent_pictures<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    count: u64,
) -> Result<Vec<(Uuid, String)>, DbErr> {
    drug_image::Entity::find()
        .select_only()
        .column(drug_image::Column::Id)
        .column(drug_image::Column::PerceptualHash)
        .filter(drug_image::Column::UserId.eq(user))
        .filter(drug_image::Column::PerceptualHash.is_not_null())
        .order_by_desc(drug_image::Column::CreatedAt)
        .limit(count)
        .into_tuple()
        .all(db)
        .await
}

pub async fn insert_image<C: ConnectionTrait>(
    db: &C,
    image: drug_image::Model,
) -> Result<drug_image::Model, DbErr> {
    image.into_active_model().reset_all().insert(db).await
}

/// A user's photos among `ids` (in no particular order).
pub async fn images_by_ids<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    ids: &[Uuid],
) -> Result<Vec<drug_image::Model>, DbErr> {
    drug_image::Entity::find()
        .filter(drug_image::Column::UserId.eq(user))
        .filter(drug_image::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await
}

/// A drug's photos, oldest first.
pub async fn images_of_drug<C: ConnectionTrait>(
    db: &C,
    drug: Uuid,
) -> Result<Vec<drug_image::Model>, DbErr> {
    drug_image::Entity::find()
        .filter(drug_image::Column::DrugId.eq(drug))
        .order_by_asc(drug_image::Column::CreatedAt)
        .all(db)
        .await
}

/// The latest recognition of this user with `status` over the same photos.
pub async fn latest_with_key<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    images_key: &str,
    status: RecognitionStatus,
) -> Result<Option<recognition::Model>, DbErr> {
    recognition::Entity::find()
        .filter(recognition::Column::UserId.eq(user))
        .filter(recognition::Column::ImagesKey.eq(images_key))
        .filter(recognition::Column::Status.eq(status.as_str()))
        .order_by_desc(recognition::Column::CreatedAt)
        .one(db)
        .await
}

pub async fn recognition_of_user<C: ConnectionTrait>(
    db: &C,
    user: Uuid,
    id: Uuid,
) -> Result<Option<recognition::Model>, DbErr> {
    recognition::Entity::find_by_id(id)
        .filter(recognition::Column::UserId.eq(user))
        .one(db)
        .await
}

pub async fn recognition<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<recognition::Model>, DbErr> {
    recognition::Entity::find_by_id(id).one(db).await
}

pub async fn drug<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<drug::Model>, DbErr> {
    drug::Entity::find_by_id(id).one(db).await
}

/// Add a product unless its barcode is known already (the first reading stays).
pub async fn insert_product_if_new<C: ConnectionTrait>(
    db: &C,
    row: product::ActiveModel,
) -> Result<(), DbErr> {
    product::Entity::insert(row)
        .on_conflict(
            OnConflict::column(product::Column::Barcode)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
