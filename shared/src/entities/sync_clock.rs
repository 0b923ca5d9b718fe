use sea_orm::entity::prelude::*;

/// Each user's change clock (owner: svc-chat). A write to the user's events advances it
/// inside the write's transaction and stamps the rows with the new value; the row lock makes
/// the stamps increase in commit order, so a `/sync` cursor never skips a change committed
/// after it was read.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_clocks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub changed_at: DateTimeUtc,
    /// Advanced by every write; the update takes the row lock before the clock is read.
    pub writes: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
