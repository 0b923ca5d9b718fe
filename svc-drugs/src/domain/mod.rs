//! The cabinet's rules, free of HTTP.

pub mod drug;
pub mod schedule;
