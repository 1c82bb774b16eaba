//! Progress on the terminal: a bar on stderr when it is a terminal, warnings as lines.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use crate::engine::Progress;

pub struct TerminalProgress<'a> {
    bar: Option<ProgressBar>,
    quiet: bool,
    stderr: Mutex<&'a mut (dyn Write + Send)>,
}

impl<'a> TerminalProgress<'a> {
    pub fn new(quiet: bool, stderr: &'a mut (dyn Write + Send)) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {bar:40} {pos}/{len} files {per_sec} eta {eta}",
                )
                .expect("valid template"),
            );
            bar
        });
        TerminalProgress {
            bar,
            quiet,
            stderr: Mutex::new(stderr),
        }
    }
}

impl Progress for TerminalProgress<'_> {
    fn start(&self, files: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(files);
        }
    }

    fn advance(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn warn(&self, message: &str) {
        if self.quiet {
            return;
        }
        let mut stderr = self.stderr.lock().expect("stderr lock");
        let line = format!("cpt: warning: {message}\n");
        match &self.bar {
            Some(bar) => bar.suspend(|| stderr.write_all(line.as_bytes())),
            None => stderr.write_all(line.as_bytes()),
        }
        .ok();
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Warnings of a query as `cpt: warning: …` lines on `stderr`.
pub fn warnings<'a>(stderr: &'a Mutex<&mut (dyn Write + Send)>) -> impl Fn(&str) + 'a {
    move |line: &str| {
        let _ = writeln!(stderr.lock().expect("stderr lock"), "cpt: warning: {line}");
    }
}
