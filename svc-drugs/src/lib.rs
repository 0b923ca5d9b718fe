//! svc-drugs: the medicine cabinet: recognition, drugs, medication plans and doses.

pub mod cabinet;
pub mod domain;
pub mod error;
pub mod export;
pub mod household;
pub mod legacy;
pub mod pipeline;
pub mod plans;
pub mod recognition;
pub mod routes;
pub mod safety;
pub mod startup;
pub mod state;
pub mod storage;
pub mod upload;

#[cfg(test)]
mod proptests;

/// The audience internal tokens for this service carry.
pub const SERVICE_NAME: &str = "drugs";
