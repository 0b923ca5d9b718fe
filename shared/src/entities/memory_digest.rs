use sea_orm::entity::prelude::*;

/// A user's active memories as a prompt reads them, in one row (owner: svc-chat): every write
/// to `memories` rewrites it in the same transaction, so a chat turn reads one row instead of
/// a thousand. `facts` is `[[kind, content, learnt_on], ...]`, health facts first, then newest.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "memory_digests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub facts: Json,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
