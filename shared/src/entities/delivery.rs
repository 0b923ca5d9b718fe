use sea_orm::entity::prelude::*;

/// One notification to one device (owner: svc-scheduler), unique per pair: retried with
/// backoff until sent or dead, never sent twice.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique_key = "delivery_pair")]
    pub notification_id: Uuid,
    #[sea_orm(unique_key = "delivery_pair")]
    pub device_id: Uuid,
    /// `pending`, `sending`, `sent`, `dead`.
    #[sea_orm(indexed)]
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub claimed_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
