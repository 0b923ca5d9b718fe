use sea_orm::entity::prelude::*;

/// A user's calendar subscription (owner: svc-chat): the secret address a calendar app
/// polls for the user's events as iCalendar. One per user; making a new one replaces it,
/// revoking deletes it. Only the token's SHA-256 is kept: the address is shown once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_feeds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// Hex SHA-256 of the token in the address.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// Minutes before a timed event that the calendar app should alert; none: no alerts.
    pub alarm_minutes: Option<i32>,
    /// The person's medicines (doses, expiry dates) in the feed too: only when asked for,
    /// since a feed's address may be shared.
    #[sea_orm(default_value = false)]
    pub include_medications: bool,
    pub created_at: DateTimeUtc,
    /// The last time a calendar app fetched the feed (at most once a minute is recorded).
    pub last_fetched_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
