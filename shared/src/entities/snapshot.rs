use sea_orm::entity::prelude::*;

/// The events and projects a chat turn changed, as they were before it (owner: svc-chat).
/// `changes` is a JSON array of `{event_id, before, after, action}`, then `{project_id, before,
/// after, action}`, with `before` null for what the turn created.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "snapshots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    pub conversation_id: Option<Uuid>,
    pub summary: String,
    pub changes: Json,
    pub reverted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
