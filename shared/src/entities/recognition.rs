use sea_orm::entity::prelude::*;

/// One recognition of one to five photos (owner: svc-drugs). `images_key` is the SHA-256 over
/// the photos' content hashes in order; a later request with the same photos reuses a
/// succeeded recognition. A failed one keeps its images and error so it can be retried.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "recognitions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    #[sea_orm(indexed)]
    pub images_key: String,
    /// JSON array of image ids, in upload order.
    pub image_ids: Json,
    /// `succeeded` or `failed`.
    pub status: String,
    pub fields: Option<Json>,
    pub sources: Option<Json>,
    pub barcode: Option<String>,
    pub barcode_format: Option<String>,
    pub model: Option<String>,
    pub prompt_tokens: Option<i32>,
    pub completion_tokens: Option<i32>,
    pub duration_ms: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    pub drug_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
