//! The gateway: the only public service.

pub mod admin;
pub mod auth;
pub mod domain;
pub mod openapi;
pub mod proxy;
pub mod rate_limit;
pub mod repo;
pub mod routes;
pub mod routing;
pub mod startup;
pub mod state;
pub mod upstream;
