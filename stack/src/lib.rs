//! The stack's work beyond starting the services, as a library so tests call what the CLI
//! calls.

pub mod import;
