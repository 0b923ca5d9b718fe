//! Tables and their owners. Only the owner writes a table; others ask it over HTTP.
//!
//! | table | owner |
//! |---|---|
//! | users, refresh_tokens | gateway (others read `users.timezone` and `users.preferences`) |
//! | drugs, drug_images, recognitions, products, medication_plans, dose_logs | svc-drugs |
//! | job_runs, job_items, notifications, devices, deliveries | svc-scheduler |

pub mod delivery;
pub mod device;
pub mod dose_log;
pub mod drug;
pub mod drug_image;
pub mod job_item;
pub mod job_run;
pub mod medication_plan;
pub mod notification;
pub mod product;
pub mod recognition;
pub mod refresh_token;
pub mod user;
