//! svc-scheduler: jobs driven by platform timers (or an in-process clock), reminders and
//! notifications with webhook delivery.

pub mod app_devices;
pub mod cli;
pub mod jobs;
pub mod notify;
pub mod routes;
pub mod scf_runtime;
pub mod startup;
pub mod state;

/// The audience internal tokens for this service carry.
pub const SERVICE_NAME: &str = "scheduler";
