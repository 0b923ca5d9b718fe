use sea_orm::entity::prelude::*;

/// What happened to one scheduled dose (owner: svc-drugs). Doses are computed from plans; only
/// those acted on (taken, skipped, snoozed) or marked missed have a row, unique per
/// (plan, scheduled time), which makes every action idempotent.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "dose_logs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    #[sea_orm(unique_key = "dose_plan_time")]
    pub plan_id: Uuid,
    #[sea_orm(unique_key = "dose_plan_time")]
    pub scheduled_at: DateTimeUtc,
    /// `taken`, `skipped`, `snoozed` or `missed`.
    pub status: String,
    pub amount: f64,
    pub snoozed_until: Option<DateTimeUtc>,
    /// Stock already lowered for this dose (set once, so taking twice lowers it once).
    pub stock_deducted: bool,
    pub acted_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
