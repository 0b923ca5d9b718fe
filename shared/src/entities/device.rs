use sea_orm::entity::prelude::*;

/// A delivery target of a user (owner: svc-scheduler): a webhook (`url` an https URL, every
/// delivery a JSON POST signed with HMAC-SHA256 under `secret`) or a chat app's push service
/// (`url` an Apprise-style channel URL such as `bark://…`, `dingtalk://…`; `secret` unused).
/// `url` and `secret` are sealed at rest (svc-scheduler/src/sealed.rs).
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
    /// The webhook secret before the last rotation, still signing until
    /// `previous_secret_until` (Standard Webhooks: several signatures during a rotation).
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
