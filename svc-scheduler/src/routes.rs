//! Routes of svc-scheduler. The foundation serves only the lifecycle routes (from `shared`);
//! the service's own resources are added by its issue.

use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}
