use sea_orm::entity::prelude::*;

/// One run of a job (owner: svc-scheduler): what triggered it and what it did.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub job: String,
    /// `clock`, `fc`, `scf`, `cli`, `api`.
    pub trigger: String,
    /// `running`, `done`, `partial` (stopped before its deadline; the next run carries on),
    /// `failed`.
    pub status: String,
    pub total: i32,
    pub done: i32,
    pub skipped: i32,
    pub failed: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
