use sea_orm::entity::prelude::*;

/// A person in a household (owner: svc-drugs). `person_id` is an account's user id, or for a
/// dependent without a login an id of its own; the cabinet tables key by it as `user_id`.
/// `role`: `owner`, `caregiver_view`, `caregiver_act` or `dependent`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "household_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub household_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false, indexed)]
    pub person_id: Uuid,
    pub role: String,
    pub name: String,
    /// False for a dependent made by the owner (no account).
    pub has_login: bool,
    pub joined_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
