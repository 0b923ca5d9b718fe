use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// An event in a user's schedule (owner: svc-chat).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    pub start_time: DateTimeUtc,
    pub end_time: Option<DateTimeUtc>,
    /// Minutes.
    pub duration: Option<i32>,
    pub event_type: String,
    pub category: String,
    pub tags: Json,
    pub location: Option<String>,
    /// `pending`, `completed`, `cancelled`.
    pub status: String,
    pub completed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
