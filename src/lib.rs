//! cpt, the Code Periodic Table: finds the patterns a codebase repeats.
//!
//! Data flows `discover → parse → fingerprint → store → detect → report`; `pipeline` wires the
//! stages together and `cli` is the command line on top. See ARCHITECTURE.md.

pub mod cli;
pub mod config;
pub mod detect;
pub mod discover;
pub mod event;
pub mod fingerprint;
pub mod index;
pub mod lang;
pub mod near;
pub mod parse;
pub mod pipeline;
pub mod reparse;
pub mod report;
pub mod similar;
pub mod store;
pub mod watch;

pub use cli::run_with_args;
