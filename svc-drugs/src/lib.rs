//! svc-drugs: the medicine cabinet: recognition, drugs, medication plans and doses.

pub mod domain;
pub mod pipeline;
pub mod routes;
pub mod startup;
pub mod state;
pub mod storage;

/// The audience internal tokens for this service carry.
pub const SERVICE_NAME: &str = "drugs";
