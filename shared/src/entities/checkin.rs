use sea_orm::entity::prelude::*;

/// One daily check-in of one user (owner: svc-chat): `morning`, `afternoon`, `evening` or
/// `closing`, exactly one per (user, kind, local date), whether it was sent or skipped. A sent
/// one is also an assistant message of the chat timeline (`message_id`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "checkins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique_key = "checkin_user_kind_date")]
    pub user_id: Uuid,
    #[sea_orm(unique_key = "checkin_user_kind_date")]
    pub kind: String,
    #[sea_orm(unique_key = "checkin_user_kind_date")]
    pub checkin_date: Date,
    /// `sent` or `skipped`.
    pub status: String,
    /// Who decided: `model`, `template` (no model, or it failed) or `rules` (nothing to say).
    pub source: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// Why it was skipped.
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub conversation_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
