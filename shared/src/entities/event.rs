//! An event in a user's schedule (owner: svc-chat), in the UniLife app's vocabulary: the
//! original backend's `EventResponse` is the contract, so the column names, enum values and
//! defaults are its own.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize,
            Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name {
            $(
                #[sea_orm(string_value = $value)]
                #[serde(rename = $value)]
                $variant,
            )+
        }

        impl $name {
            /// Every value as the API spells it, for error texts and the model's tool schema.
            pub const VALUES: &[&str] = &[$($value),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($value => Ok(Self::$variant),)+
                    other => Err(format!(
                        "{other:?} is not one of {}",
                        Self::VALUES.join(", ")
                    )),
                }
            }
        }
    };
}

vocabulary!(
    /// `schedule`: at a fixed time; `deadline`: due by `end_time`; `floating`: a day (and maybe
    /// a part of it) but no time; `habit` and `reminder` as the app shows them.
    EventType {
        Schedule = "schedule",
        Deadline = "deadline",
        Floating = "floating",
        Habit = "habit",
        Reminder = "reminder",
    }
);

vocabulary!(Category {
    Study = "STUDY",
    Work = "WORK",
    Social = "SOCIAL",
    Life = "LIFE",
    Health = "HEALTH",
});

vocabulary!(EventStatus {
    Pending = "PENDING",
    InProgress = "IN_PROGRESS",
    Completed = "COMPLETED",
    Cancelled = "CANCELLED",
});

vocabulary!(
    /// The part of `event_date` a floating event belongs to.
    TimePeriod {
        Anytime = "ANYTIME",
        Morning = "MORNING",
        Afternoon = "AFTERNOON",
        Night = "NIGHT",
    }
);

vocabulary!(
    /// Deprecated in the original in favour of `energy_consumption`; kept because the app
    /// still sends and reads it.
    EnergyLevel {
        High = "HIGH",
        Medium = "MEDIUM",
        Low = "LOW",
    }
);

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(indexed)]
    pub user_id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    /// Local midnight of the day the event belongs to, in the owner's time zone. Set from
    /// `start_time` when a client gives only that.
    pub event_date: Option<DateTimeUtc>,
    pub time_period: Option<TimePeriod>,
    pub start_time: Option<DateTimeUtc>,
    pub end_time: Option<DateTimeUtc>,
    /// Minutes.
    pub duration: Option<i32>,
    pub energy_required: Option<EnergyLevel>,
    /// 1–5.
    pub urgency: i32,
    /// 1–5.
    pub importance: i32,
    pub is_deep_work: bool,
    pub event_type: EventType,
    pub category: Category,
    /// JSON array of strings.
    pub tags: Json,
    pub location: Option<String>,
    /// JSON array of strings.
    pub participants: Json,
    /// `{type, weekdays?, time?, end_date?}` as the app sends it; the planner issue expands it.
    pub repeat_pattern: Option<Json>,
    /// A template's recurrence as RFC 5545 text, derived from `repeat_pattern` when it is
    /// written: `DTSTART;TZID=<IANA zone>:<local start>` (or `DTSTART;VALUE=DATE:<day>` for
    /// a series without a time) and an `RRULE:` line. The owner's zone at that moment stays
    /// with the series, so 07:00 stays 07:00 local across DST changes.
    #[sea_orm(column_type = "Text", nullable)]
    pub rrule: Option<String>,
    /// A template's cancelled occurrences (EXDATE): a JSON array of local dates `YYYY-MM-DD`.
    pub exdates: Option<Json>,
    /// The day of its series an instance stands for (RFC 5545 `RECURRENCE-ID`), in the
    /// series' days: kept when the instance moves to another day or the owner to another
    /// zone. `None` on events that are not instances, and on instances made before it was
    /// stored (their own local day is theirs).
    pub recurrence_date: Option<Date>,
    pub routine_batch_id: Option<String>,
    pub is_template: Option<bool>,
    pub habit_interval: Option<i32>,
    pub parent_event_id: Option<Uuid>,
    pub habit_completed_count: Option<i32>,
    pub habit_total_count: i32,
    /// `{physical, mental, evaluated_at, evaluated_by}`.
    pub energy_consumption: Option<Json>,
    pub is_physically_demanding: bool,
    pub is_mentally_demanding: bool,
    pub project_id: Option<Uuid>,
    pub status: EventStatus,
    pub completed_at: Option<DateTimeUtc>,
    pub started_at: Option<DateTimeUtc>,
    /// `user`, `agent` or `system`.
    pub created_by: String,
    /// 0–1: 1 for what a person entered, the model's own figure for what it made.
    #[sea_orm(column_type = "Double")]
    pub ai_confidence: f64,
    #[sea_orm(column_type = "Text", nullable)]
    pub ai_reasoning: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When sync last saw this row change: from the owner's change clock
    /// (`sync_clocks`), so it increases in commit order and `/sync` can page on it.
    #[sea_orm(indexed)]
    pub changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
