//! sea-orm queries of the gateway's tables (users, refresh_tokens). Narrow errors only.

pub mod refresh_tokens;
pub mod users;
