use sea_orm::entity::prelude::*;

/// One profile update (owner: svc-chat): what changed, by how much confidence, and how it went.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "profile_logs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    /// `daily` or `weekly`.
    pub job_type: String,
    pub target_date: Date,
    pub changes: Json,
    pub confidence_delta: f64,
    /// `applied`, `skipped`, `failed`.
    pub status: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
