use sea_orm::entity::prelude::*;

/// A refill of a plan's stock (owner: svc-drugs): logged, and may be entered afterwards
/// (`refilled_at` in the past).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "refills")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    #[sea_orm(indexed)]
    pub plan_id: Uuid,
    pub amount: f64,
    pub refilled_at: DateTimeUtc,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
