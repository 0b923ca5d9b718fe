//! Life projects in the UniLife app's model, shared by the REST routes and the model's
//! tools: `input` parses what a client or the model sends, `store` reads and writes,
//! `stats` computes a project's figures from its events and renders it, `quests` groups a
//! day's tasks into MAIN, SIDE and DAILY.

pub mod input;
pub mod quests;
pub mod stats;
pub mod store;

pub use input::ProjectInput;
pub use quests::day_tasks;
pub use stats::{Stats, view};
