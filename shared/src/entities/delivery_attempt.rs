use sea_orm::entity::prelude::*;

/// One try of a delivery (owner: svc-scheduler): what the far end answered, or why nothing
/// was sent. The delivery log of a channel (`GET /api/v1/devices/{id}/deliveries`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "delivery_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub delivery_id: Uuid,
    #[sea_orm(indexed)]
    pub device_id: Uuid,
    /// 1 for the first try.
    pub attempt: i32,
    /// The HTTP status the far end answered; none when it was not reached.
    pub status_code: Option<i32>,
    /// Why the try failed (the far end's own error where it gave one); none when it was taken.
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    /// When the next try is due, as the far end asked (`Retry-After`) or by backoff; none when
    /// taken or given up.
    pub retry_at: Option<DateTimeUtc>,
    pub duration_ms: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
