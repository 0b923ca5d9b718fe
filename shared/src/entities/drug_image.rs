use sea_orm::entity::prelude::*;

/// A normalised photo in the object store (owner: svc-drugs). `content_hash` is the SHA-256
/// of the bytes as uploaded and `perceptual_hash` that of the picture (base64 of a 256-bit
/// gradient hash of the normalised image), so the same photo sent again, in the same or other
/// bytes, is recognised without a model call; the uploaded bytes themselves are never kept.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "drug_images")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    #[sea_orm(indexed)]
    pub drug_id: Option<Uuid>,
    pub storage_key: String,
    #[sea_orm(indexed)]
    pub content_hash: String,
    pub perceptual_hash: Option<String>,
    pub size_bytes: i64,
    pub width: i32,
    pub height: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
