//! Medication plans, the doses they expand into, what was done with each dose, and adherence.
//!
//! Doses are computed, not stored: only what happened to one (taken, skipped, snoozed,
//! missed) is a row, unique per plan and time, so repeating an action changes nothing.

mod actions;
mod adherence;
mod calendar;
mod doses;
mod input;
mod manage;
mod reminders;
pub(crate) mod repo;
mod supply;
mod views;

use sea_orm::DbErr;

use crate::cabinet::CabinetError;

pub use actions::{SnoozeBody, record_action};
pub use adherence::adherence;
pub use calendar::calendar;
pub use doses::{RangeQuery, doses, doses_today, in_range};
pub use input::PlanInput;
pub use manage::{create, delete, get, list, update};
pub use reminders::{Window, doses_due, escalations, low_stock, mark_missed};
pub use supply::{RefillInput, Refilled, TakeInput, Taken, add_refill, refills, take};
pub use views::{PlanView, escalate_after, plan_of};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// Input that breaks a rule; the text says which.
    #[error("{0}")]
    Invalid(String),
    /// The plan's drug, not found among the user's.
    #[error(transparent)]
    Drug(#[from] CabinetError),
    #[error("no such medication plan")]
    PlanNotFound,
    #[error("no such dose")]
    DoseNotFound,
    #[error(
        "最多可以有 {0} 个用药计划，请先删除不用的再添加。At most {0} medication plans; delete some first."
    )]
    TooMany(u64),
    #[error("no such action")]
    NoSuchAction,
    /// An as-needed dose past its minimum interval or maximum per 24 hours; nothing written.
    #[error("{0}")]
    PrnLimit(String),
    #[error("{0}")]
    Internal(String),
}

impl PlanError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
}
