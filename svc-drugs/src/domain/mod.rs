//! The cabinet's rules, free of HTTP.

pub mod codes;
pub mod dose;
pub mod drug;
pub mod product;
pub mod recognition;
pub mod schedule;
pub mod supply;
