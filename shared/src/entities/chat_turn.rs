use sea_orm::entity::prelude::*;

/// One streamed chat turn (owner: svc-chat), kept so a client that lost the stream can take it
/// up again with `Last-Event-ID` on any instance: `running` while the model writes, then
/// `done` with the answer's body or `failed` with the error envelope. Rows older than a day
/// are removed when the same user starts another streamed turn.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_turns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// `done`: the `done` event's body (its `reply` is every delta sent, in order);
    /// `failed`: the `error` event's body.
    #[sea_orm(nullable)]
    pub result: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
