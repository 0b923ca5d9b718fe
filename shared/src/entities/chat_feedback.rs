use sea_orm::entity::prelude::*;

/// A user's rating of one assistant message (owner: svc-chat): the original's
/// `/chat/feedback` meant to keep these for the assistant to learn from. One per message; a
/// new rating replaces the old.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_feedback")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub message_id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    /// 1–5.
    pub rating: i16,
    #[sea_orm(column_type = "Text", nullable)]
    pub comment: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
