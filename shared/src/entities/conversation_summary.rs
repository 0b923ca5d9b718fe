use sea_orm::entity::prelude::*;

/// The rolling summary of a conversation's older turns (owner: svc-chat): written by the
/// model after a turn, off its path, once the conversation outgrew what a prompt sends word
/// for word; it covers every message up to `covers_until` and replaces their one-line
/// summaries in later prompts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_summaries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    /// The first and the last message covered (creation times).
    pub covers_from: DateTimeUtc,
    pub covers_until: DateTimeUtc,
    pub message_count: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
