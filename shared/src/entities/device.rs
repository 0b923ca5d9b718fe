use sea_orm::entity::prelude::*;

/// A delivery target of a user (owner: svc-scheduler). Channel `webhook`: every delivery is
/// a JSON POST to `url`, signed with HMAC-SHA256 under `secret`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "devices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    pub channel: String,
    pub name: Option<String>,
    pub url: String,
    pub secret: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
