use sea_orm::entity::prelude::*;

/// Model calls made by recognition per key per UTC day (owner: svc-drugs), for the daily
/// quotas: `user:<id>` for an account, `addr:<keyed hash>` for a client network (an IPv4
/// address or an IPv6 /64; the hash is keyed with the internal secret, so the table holds no
/// address).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recognition_quotas")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    pub used: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
