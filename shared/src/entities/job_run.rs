use sea_orm::entity::prelude::*;

/// How a run went: `partial` stopped at its deadline or had failed items (the next run carries
/// on); `failed` could not do its work at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum JobRunStatus {
    #[sea_orm(string_value = "running")]
    Running,
    #[sea_orm(string_value = "done")]
    Done,
    #[sea_orm(string_value = "partial")]
    Partial,
    #[sea_orm(string_value = "failed")]
    Failed,
}

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
    pub status: JobRunStatus,
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

impl std::fmt::Display for JobRunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_value())
    }
}
