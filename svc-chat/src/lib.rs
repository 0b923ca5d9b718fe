//! svc-chat: the assistant: chat, conversations, events, diaries and profiles.

pub mod routes;
pub mod startup;

/// The audience internal tokens for this service carry.
pub const SERVICE_NAME: &str = "chat";
