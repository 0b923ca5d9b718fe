//! Events in the UniLife app's model, shared by the REST routes, `/sync` and the model's
//! tools: `input` parses what a client or the model sends, `store` writes (stamped by the
//! user's change `clock`), `query` reads and renders.

pub mod clock;
pub mod input;
pub mod query;
pub mod recur;
pub mod store;

pub use input::EventInput;
pub use query::{Filter, view};
pub use shared::time::local_midnight;
pub use store::{Author, Made, Owner, owned};
