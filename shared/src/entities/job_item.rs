use sea_orm::entity::prelude::*;

/// One unit of a job's work for one user and one period (owner: svc-scheduler). Unique per
/// (job, user, period): whoever creates it first wins, and only whoever claims it works on it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique_key = "job_user_period")]
    pub job: String,
    #[sea_orm(unique_key = "job_user_period")]
    pub user_id: Uuid,
    /// The period the work is for, e.g. the user's local date `2026-11-22`.
    #[sea_orm(unique_key = "job_user_period")]
    pub period: String,
    /// `pending`, `running`, `done`, `skipped`, `failed` (retried later), `dead` (gave up).
    #[sea_orm(indexed)]
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub claimed_by: Option<String>,
    /// A claim older than this is abandoned (the claimant crashed) and may be taken again.
    pub claimed_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    pub run_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
