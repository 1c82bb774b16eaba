//! Integration tests: one binary, one module per area.

mod bad_inputs;
mod check;
mod cli;
mod common;
mod completions;
// Crash tests watch SQLite's locks in /proc/locks.
#[cfg(target_os = "linux")]
mod crash;
mod crash_safety;
mod fixtures;
mod fuzz_regressions;
mod history;
mod incremental;
mod index;
mod lsp;
mod mcp;
mod mutation;
mod near_miss;
mod similar;
mod snapshots;
mod table;
mod tidy;
mod watch;
