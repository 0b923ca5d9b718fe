use sea_orm::entity::prelude::*;

/// One nightly consolidation of a user's day into memories (owner: svc-chat), exactly one per
/// (user, day): a second run of the nightly job finds it and changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "memory_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique_key = "memory_run_user_day")]
    pub user_id: Uuid,
    #[sea_orm(unique_key = "memory_run_user_day")]
    pub day: Date,
    /// What was applied: `{added, updated, superseded, dropped}`.
    pub summary: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
