//! cpt, the Code Periodic Table: finds the patterns a codebase repeats.
//!
//! Data flows `scan::discover → parse → fingerprint → store → detect → index`; `engine` is
//! the one API over all of it, and the front ends (`cli`, with `report` for output, the
//! `watch` loop and the `mcp` server) use only that. See ARCHITECTURE.md.

#[cfg(feature = "cli")]
pub mod cli;
pub mod config;
pub mod detect;
pub mod engine;
pub mod event;
pub mod fingerprint;
pub mod index;
#[cfg(feature = "cli")]
pub mod lsp;
pub mod mcp;
pub mod parse;
pub mod report;
pub mod scan;
pub mod store;
pub mod sys;
pub mod watch;

#[cfg(feature = "cli")]
pub use cli::run_with_args;
