//! svc-scheduler: jobs driven by platform timers (or an in-process clock), reminders and
//! notifications delivered to webhooks and the chat apps' push services.

pub mod apns;
pub mod app_devices;
pub mod awake;
pub mod channels;
pub mod checkins;
pub mod cli;
pub mod jobs;
pub mod notify;
pub mod routes;
pub mod scf_runtime;
pub mod sealed;
pub mod startup;
pub mod state;
pub mod texts;
pub mod webpush;

/// The audience internal tokens for this service carry.
pub const SERVICE_NAME: &str = "scheduler";
