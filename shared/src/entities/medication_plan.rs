use sea_orm::entity::prelude::*;

/// A medication plan (owner: svc-drugs): what to take, when, from when to when.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "medication_plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    #[sea_orm(indexed)]
    pub drug_id: Uuid,
    pub dose_amount: f64,
    pub dose_unit: String,
    /// JSON array of local times, `"HH:MM"`.
    pub times: Json,
    /// JSON array of ISO weekdays (1 = Monday), or null for every day.
    pub days_of_week: Option<Json>,
    pub every_n_days: Option<i32>,
    pub start_date: Date,
    pub end_date: Option<Date>,
    pub timezone: String,
    /// JSON array of `{days, amount}`: a taper.
    pub phases: Option<Json>,
    /// May go below zero (doses taken past the stock are still recorded).
    pub stock: Option<f64>,
    pub low_stock_threshold: Option<f64>,
    /// As needed (PRN): no schedule; taken when needed within `min_interval_minutes` and
    /// `max_per_24h` (in the dose's unit).
    #[sea_orm(default_value = false)]
    pub as_needed: bool,
    pub min_interval_minutes: Option<i32>,
    pub max_per_24h: Option<f64>,
    /// Days before the run-out date to refill, and the days the pharmacy is closed
    /// (`{weekdays, dates}`); `refill_due_on` is the date computed from them whenever the
    /// stock or the plan changes (what svc-scheduler's reminder reads).
    pub refill_lead_days: Option<i32>,
    pub pharmacy_closed: Option<Json>,
    pub refill_due_on: Option<Date>,
    /// Minutes after a dose's time (5–240; none: 30) at which a dependent's dose still
    /// unmarked is sent to their household's caregivers.
    pub escalate_after_minutes: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
