//! svc-scheduler: jobs driven by platform timers, reminders and notifications.

pub mod routes;
pub mod startup;

/// The audience internal tokens for this service carry.
pub const SERVICE_NAME: &str = "scheduler";
