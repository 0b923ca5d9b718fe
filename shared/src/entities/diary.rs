use sea_orm::entity::prelude::*;

/// The diary of one user's day (owner: svc-chat); exactly one per (user, date).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "diaries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique_key = "diary_user_date")]
    pub user_id: Uuid,
    #[sea_orm(unique_key = "diary_user_date")]
    pub diary_date: Date,
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    pub key_insights: Json,
    pub extracted_signals: Json,
    pub conversation_count: i32,
    pub message_count: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
