//! `cpt completions SHELL`: a shell completion script.

use std::io::Write;

use anyhow::Result;
use clap_complete::Shell;

use crate::cli::ExitStatus;

pub fn run(shell: Shell, stdout: &mut dyn Write) -> Result<ExitStatus> {
    clap_complete::generate(shell, &mut crate::cli::command(), "cpt", stdout);
    Ok(ExitStatus::Success)
}
