//! svc-chat: the assistant — chat with tools (plain and streamed), conversations, events,
//! life projects, snapshots, diaries, profiles and long-term memory, and the calendar feed.

pub mod alloc;
pub mod calendar;
pub mod checkin;
pub mod diary;
pub mod engine;
pub mod events;
pub mod habits;
pub mod memory;
pub mod projects;
pub mod routes;
pub mod startup;
pub mod state;
pub mod user_state;

/// The audience internal tokens for this service carry.
pub const SERVICE_NAME: &str = "chat";
