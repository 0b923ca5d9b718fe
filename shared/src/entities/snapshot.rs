use sea_orm::entity::prelude::*;

/// The events a chat turn changed, as they were before it (owner: svc-chat). `changes` is a
/// JSON array of `{event_id, before}` with `before` null for an event the turn created.
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
