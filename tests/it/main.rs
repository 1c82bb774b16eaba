//! Integration tests: one binary, one module per area.

mod bad_inputs;
mod cli;
mod common;
mod completions;
mod crash;
mod crash_safety;
mod fixtures;
mod fuzz_regressions;
mod incremental;
mod index;
mod mutation;
mod near_miss;
mod similar;
mod watch;
