//! How long-running library calls report progress: a [`Progress`] receives the size of each phase,
//! its advances and log lines. [`Terminal`] draws a bar on a terminal (and prints log lines above it);
//! [`Quiet`] drops everything.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

/// What a long call tells its caller while it runs.
pub trait Progress: Sync {
    /// A new phase of `len` steps begins.
    fn start(&self, len: u64, what: &'static str);
    /// The current phase has done `pos` steps.
    fn set(&self, pos: u64);
    /// The current phase has done `n` more steps.
    fn inc(&self, n: u64);
    /// The current phase is over.
    fn finish(&self);
    /// A line for the user (an epoch's figures, a file joined).
    fn log(&self, line: &str);
    /// Whether the caller asked to stop (Ctrl-C in Python). Long steps ask between units of work (an
    /// epoch, a batch) and return [`Cancelled`] — after saving what a resume needs.
    fn cancelled(&self) -> bool {
        false
    }
}

/// The error a step returns when its [`Progress`] asked it to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Cancelled {}

/// Reports nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: u64, _: &'static str) {}
    fn set(&self, _: u64) {}
    fn inc(&self, _: u64) {}
    fn finish(&self) {}
    fn log(&self, _: &str) {}
}

/// Silent, but asks `0` whether to stop: for steps inside a larger one whose own bar is showing.
pub struct Muted<'a>(pub &'a dyn Progress);

impl Progress for Muted<'_> {
    fn start(&self, _: u64, _: &'static str) {}
    fn set(&self, _: u64) {}
    fn inc(&self, _: u64) {}
    fn finish(&self) {}
    fn log(&self, _: &str) {}
    fn cancelled(&self) -> bool {
        self.0.cancelled()
    }
}

/// A progress bar on standard error when it is a terminal (hidden elsewhere); log lines go to standard
/// error in any case.
#[derive(Default)]
pub struct Terminal {
    bar: Mutex<Option<ProgressBar>>,
}

impl Terminal {
    pub fn new() -> Terminal {
        Terminal::default()
    }

    fn with(&self, f: impl FnOnce(&ProgressBar)) {
        if let Some(bar) = self.bar.lock().expect("progress lock").as_ref() {
            f(bar);
        }
    }
}

/// A bar of `len` steps on a terminal, hidden elsewhere.
pub fn bar(len: u64, message: &'static str) -> ProgressBar {
    let bar = if crate::io::stderr_is_terminal() { ProgressBar::new(len) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {human_pos}/{human_len} ({per_sec}, {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

impl Progress for Terminal {
    fn start(&self, len: u64, what: &'static str) {
        let mut slot = self.bar.lock().expect("progress lock");
        if let Some(old) = slot.take() {
            old.finish_and_clear();
        }
        *slot = Some(bar(len, what));
    }
    fn set(&self, pos: u64) {
        self.with(|b| b.set_position(pos));
    }
    fn inc(&self, n: u64) {
        self.with(|b| b.inc(n));
    }
    fn finish(&self) {
        if let Some(b) = self.bar.lock().expect("progress lock").take() {
            b.finish_and_clear();
        }
    }
    fn log(&self, line: &str) {
        match self.bar.lock().expect("progress lock").as_ref() {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}
