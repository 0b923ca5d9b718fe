//! Tables and their owners. Only the owner writes a table; others ask it over HTTP.
//!
//! | table | owner |
//! |---|---|
//! | users, refresh_tokens | gateway |

pub mod refresh_token;
pub mod user;
