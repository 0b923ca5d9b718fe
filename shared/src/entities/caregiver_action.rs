use sea_orm::entity::prelude::*;

/// The audit of a household (owner: svc-drugs): what a member did to another person's
/// cabinet, and changes to the household's members. `path` holds ids only, never names.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "caregiver_actions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub household_id: Uuid,
    pub actor_id: Uuid,
    #[sea_orm(indexed)]
    pub person_id: Uuid,
    /// `POST /api/v1/doses/{id}/taken`, or a household change (`member_removed` …).
    pub action: String,
    pub status: i32,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
