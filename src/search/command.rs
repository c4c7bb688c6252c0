//! The user's own oracle: a shell command that trains an architecture and prints its validation
//! accuracy, each call journaled ([`super::journal`]) so that an interrupted search resumes without
//! training anything twice.
//!
//! `{arch}` in the command is replaced by the architecture, shell-quoted: NB201's `arch_str`, or for
//! NB101 a JSON object with `module_adjacency` and `module_operations` (what `nar arch` reads). The
//! command's last non-empty line of standard output must be the accuracy (a number in [0, 100]).
//!
//! Up to [`CommandOptions::parallel`] calls run at once, each in a thread of its own that journals its
//! answer (or its failure) the moment the command ends. A call fails when the command exits non-zero
//! (a killed worker included), prints no number or one off the range, or runs past
//! [`CommandOptions::timeout`]; it is retried up to [`CommandOptions::retries`] times, every attempt
//! journaled, and is then an [`Answer::Failed`]. A journaled answer, or a failure whose retries are
//! used up, is answered without running the command; a resumed search retries a failure with retries
//! left. The command runs through [`crate::process::run_shell`]: its own process group (stopped with
//! nar), standard error streamed to the user's terminal, standard output read with a bound.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::journal::{ANSWER_RANGE, Header, Journal, arch_text};
use super::oracle::{Answer, Evaluator};
use crate::data::Dataset;
use crate::process::{Interrupted, Outcome};
use crate::space::SearchSpace;

/// How the command is run and its journal taken.
#[derive(Clone, Debug, Default)]
pub struct CommandOptions {
    /// A call running longer is stopped (its whole process group) and fails.
    pub timeout: Option<Duration>,
    /// Calls run at once (0 or 1: one at a time).
    pub parallel: usize,
    /// A failed call is run again up to this many times before the architecture counts as failed.
    pub retries: usize,
    /// Take a journal of another command (same space and dataset), or one without a header, as this
    /// search's (`--journal-reuse`).
    pub journal_reuse: bool,
}

/// One call to run: the architecture's id and text, the command line, the attempts already failed.
struct Call {
    position: usize,
    id: String,
    arch: String,
    line: String,
    failed_before: usize,
}

/// An [`Evaluator`] that runs a command per architecture.
pub struct CommandEvaluator<'a, S: SearchSpace> {
    ds: &'a Dataset<S>,
    command: String,
    options: CommandOptions,
    journal: Arc<Mutex<Journal>>,
    /// Answers the journal held when they were asked for, given back first.
    ready: VecDeque<(usize, Answer)>,
    /// Started and waiting for a free slot.
    queued: VecDeque<usize>,
    running: usize,
    send: mpsc::Sender<(usize, Result<Answer>)>,
    receive: mpsc::Receiver<(usize, Result<Answer>)>,
    workers: Vec<std::thread::JoinHandle<()>>,
    /// Set when the evaluator is dropped with calls running: they are stopped and not journaled.
    cancelled: Arc<AtomicBool>,
}

/// `text` quoted for `sh`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl<'a, S: SearchSpace> CommandEvaluator<'a, S> {
    /// Checks the command has `{arch}`, opens (or creates) and locks the journal, checks its header
    /// against this search (`dataset`: the image dataset's name) and reads its answers.
    pub fn new(
        ds: &'a Dataset<S>,
        command: &str,
        journal: &Path,
        dataset: &str,
        options: &CommandOptions,
    ) -> Result<CommandEvaluator<'a, S>> {
        if !command.contains("{arch}") {
            bail!("the oracle command must contain {{arch}} where the architecture goes: {command:?}");
        }
        let header = Header::new::<S>(dataset, command);
        let journal = Journal::open(ds, journal, &header, options.journal_reuse, "--journal-reuse")?;
        let (send, receive) = mpsc::channel();
        Ok(CommandEvaluator {
            ds,
            command: command.to_string(),
            options: CommandOptions { parallel: options.parallel.max(1), ..options.clone() },
            journal: Arc::new(Mutex::new(journal)),
            ready: VecDeque::new(),
            queued: VecDeque::new(),
            running: 0,
            send,
            receive,
            workers: Vec::new(),
            cancelled: Arc::new(AtomicBool::new(false)),
        })
    }

    fn journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answers read from the journal (or journaled since).
    pub fn journaled(&self) -> usize {
        self.journal().answered()
    }

    /// The line number of a torn last line the journal had, dropped when it was read.
    pub fn dropped_line(&self) -> Option<usize> {
        self.journal().dropped_line()
    }

    /// Starts queued calls while slots are free (none once the user interrupted: `--on-interrupt wait`).
    fn launch(&mut self) {
        while self.running < self.options.parallel && !crate::process::interrupted() {
            let Some(position) = self.queued.pop_front() else { break };
            let id = self.ds.ids()[position].to_string();
            let arch = arch_text::<S>(&self.ds.archs()[position]);
            let line = self.command.replace("{arch}", &shell_quote(&arch));
            let failed_before = self.journal().get(&id).map_or(0, |j| j.failures.len());
            let call = Call { position, id, arch, line, failed_before };
            let (journal, send, cancelled) = (self.journal.clone(), self.send.clone(), self.cancelled.clone());
            let (timeout, retries) = (self.options.timeout, self.options.retries);
            self.workers.push(std::thread::spawn(move || {
                let answer = run_call(&call, timeout, retries, &journal, &cancelled);
                let _ = send.send((call.position, answer));
            }));
            self.running += 1;
        }
        self.workers.retain(|w| !w.is_finished());
    }
}

impl<S: SearchSpace> Evaluator for CommandEvaluator<'_, S> {
    fn start(&mut self, position: usize) -> Result<()> {
        let id = self.ds.ids()[position].to_string();
        let settled = self.journal().get(&id).and_then(|j| j.settled(self.options.retries));
        match settled {
            Some(answer) => self.ready.push_back((position, answer)),
            None => {
                self.queued.push_back(position);
                self.launch();
            }
        }
        Ok(())
    }

    fn next(&mut self) -> Result<Option<(usize, Answer)>> {
        if let Some(known) = self.ready.pop_front() {
            return Ok(Some(known));
        }
        if self.running == 0 {
            // Calls are queued and none runs only once the user interrupted the search.
            return if self.queued.is_empty() { Ok(None) } else { Err(Interrupted.into()) };
        }
        let (position, answer) = self.receive.recv()?;
        self.running -= 1;
        let answer = answer?;
        self.launch();
        Ok(Some((position, answer)))
    }
}

impl<S: SearchSpace> Drop for CommandEvaluator<'_, S> {
    /// Calls still running when the search ends with an error are stopped, not journaled.
    fn drop(&mut self) {
        if self.running > 0 {
            self.cancelled.store(true, Ordering::SeqCst);
            crate::process::stop_running();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// Runs a call until it answers or its retries are used up; every attempt is journaled as it ends.
fn run_call(
    call: &Call,
    timeout: Option<Duration>,
    retries: usize,
    journal: &Mutex<Journal>,
    cancelled: &AtomicBool,
) -> Result<Answer> {
    let mut failed = call.failed_before;
    loop {
        let begun = Instant::now();
        let outcome = crate::process::run_shell(&call.line, timeout)?;
        let wall_s = begun.elapsed().as_secs_f64();
        if cancelled.load(Ordering::SeqCst) {
            bail!("the call was cancelled");
        }
        let mut journal = journal.lock().unwrap_or_else(|e| e.into_inner());
        match judge(&call.arch, outcome, timeout) {
            Ok(val) => {
                journal.answer(&call.id, &call.arch, val, wall_s)?;
                return Ok(Answer::Accuracy(val));
            }
            Err(reason) => {
                journal.failure(&call.id, &call.arch, &reason, wall_s)?;
                failed += 1;
                if failed > retries {
                    return Ok(Answer::Failed(reason));
                }
                eprintln!("warning: {reason}; trying again (retry {failed} of {retries})");
            }
        }
        drop(journal);
        if crate::process::interrupted() {
            return Err(Interrupted.into());
        }
    }
}

/// A call's accuracy from how it ended, or why it failed.
fn judge(arch: &str, outcome: Outcome, timeout: Option<Duration>) -> std::result::Result<f64, String> {
    let (status, stdout, stderr) = match outcome {
        Outcome::Exited { status, stdout, stderr } => (status, stdout, stderr),
        Outcome::TimedOut { stderr } => {
            return Err(format!(
                "the oracle command ran past --timeout {} s for {arch} and was stopped{}",
                timeout.map_or(0.0, |t| t.as_secs_f64()),
                last_lines(&stderr)
            ));
        }
    };
    if !status.success() {
        return Err(format!("the oracle command failed ({status}) for {arch}{}", last_lines(&stderr)));
    }
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let Some(val) = last.parse::<f64>().ok().filter(|v| v.is_finite()) else {
        return Err(format!(
            "the oracle command printed {last:?} for {arch}, not an accuracy (its last line must be a number)"
        ));
    };
    if !ANSWER_RANGE.contains(&val) {
        return Err(format!("the oracle command printed {val} for {arch}, not an accuracy (0 to 100)"));
    }
    Ok(val)
}

/// The last lines of a command's standard error, for an error message ("; …", or nothing).
fn last_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    format!("; its last lines of standard error:\n{}", lines[lines.len().saturating_sub(5)..].join("\n"))
}
