use sea_orm::entity::prelude::*;

/// A destructive action the assistant proposed in a chat turn and that waits for the user's
/// yes (owner: svc-chat). The next message in the same conversation decides: a yes runs
/// exactly `tool` with `arguments`, anything else cancels it, and after `expires_at` it is
/// never run. At most one is `pending` per conversation (a newer one supersedes it).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pending_actions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    #[sea_orm(indexed)]
    pub conversation_id: Uuid,
    pub tool: String,
    pub arguments: Json,
    /// The exact action in words, as the user was asked.
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// `pending`, `done`, `cancelled`, `expired` or `superseded`.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
