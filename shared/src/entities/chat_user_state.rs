use sea_orm::entity::prelude::*;

/// What svc-chat keeps per user beside the conversations (owner: svc-chat): when the app
/// last cleared the assistant's context, whether the onboarding prompt was dismissed, and the
/// assistant's identity for this user (unset fields mean the defaults).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_user_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// Messages before this instant are no longer the assistant's context (they stay in the
    /// history).
    pub context_cleared_at: Option<DateTimeUtc>,
    pub onboarding_done_at: Option<DateTimeUtc>,
    pub ai_name: Option<String>,
    pub ai_emoji: Option<String>,
    pub ai_creature: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub ai_vibe: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
