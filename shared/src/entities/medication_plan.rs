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
    pub stock: Option<f64>,
    pub low_stock_threshold: Option<f64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
