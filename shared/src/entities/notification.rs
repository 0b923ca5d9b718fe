use sea_orm::entity::prelude::*;

/// An in-app notification (owner: svc-scheduler). `dedupe_key` is unique: the same reminder
/// is never created twice, whatever fires twice.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    /// `dose_reminder`, `dose_missed`, `dose_escalation`, `expiry_alert`, `low_stock`, …
    pub kind: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub data: Json,
    #[sea_orm(unique)]
    pub dedupe_key: String,
    pub read_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
