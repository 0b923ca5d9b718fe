use sea_orm::entity::prelude::*;

/// A user's notification settings as the UniLife app edits them (owner: svc-scheduler). A
/// user without a row has the defaults (`svc-scheduler/src/routes/notification_settings.rs`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// `HH:MM`, the user's local time.
    pub wake_time: String,
    /// `HH:MM`, the user's local time.
    pub sleep_time: String,
    pub morning_briefing_enabled: bool,
    pub afternoon_checkin_enabled: bool,
    pub evening_switch_enabled: bool,
    pub closing_ritual_enabled: bool,
    pub event_reminders_enabled: bool,
    /// 0 to 120.
    pub event_reminder_minutes: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
