//! The user's own oracle: a shell command that trains an architecture and prints its validation
//! accuracy, with a journal so that an interrupted search resumes without training anything twice.
//!
//! `{arch}` in the command is replaced by the architecture, shell-quoted: NB201's `arch_str`, or for
//! NB101 a JSON object with `module_adjacency` and `module_operations` (what `nar arch` reads). The
//! command's last non-empty line of standard output must be the accuracy (a number in [0, 100]). Every
//! answer is appended to the journal (JSON lines: `id`, `arch`, `val`) as soon as it arrives; answers
//! already in the journal are returned without running the command.
//!
//! The journal is opened (created if new), checked writable and locked before the first call: a second
//! search on the same journal is refused while the first runs. Its first line is a header naming the
//! space, the image dataset and the command; a journal of another space or dataset is refused, and one of
//! another command (or one without a header, as earlier releases wrote) unless
//! [`CommandOptions::journal_reuse`]. It is read with a bound; each entry's architecture must be the one
//! its id names; a torn last line (what a crash mid-append leaves) is dropped and reported, a torn line
//! elsewhere is an error.
//!
//! The command runs through [`crate::process::run_shell`]: its own process group (stopped with nar),
//! standard error streamed to the user's terminal, standard output read with a bound, an optional time
//! limit ([`CommandOptions::timeout`]).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::oracle::Evaluator;
use crate::data::Dataset;
use crate::process::Outcome;
use crate::space::SearchSpace;

#[derive(Serialize, Deserialize)]
struct Entry {
    id: String,
    arch: String,
    val: f64,
}

/// The journal's first line: what its answers are answers to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The journal format's version (1).
    pub nar_journal: u32,
    pub space: String,
    pub dataset: String,
    pub command: String,
}

/// How the command is run and its journal taken.
#[derive(Clone, Debug, Default)]
pub struct CommandOptions {
    /// A call running longer is stopped (its whole process group) and is an error.
    pub timeout: Option<Duration>,
    /// Calls run at once where a method asks for several architectures together (0 or 1: one at a time).
    pub parallel: usize,
    /// Take a journal of another command (same space and dataset), or one without a header, as this
    /// search's (`--journal-reuse`).
    pub journal_reuse: bool,
}

/// An [`Evaluator`] that runs a command per architecture.
pub struct CommandEvaluator<'a, S: SearchSpace> {
    ds: &'a Dataset<S>,
    command: String,
    timeout: Option<Duration>,
    parallel: usize,
    journal: PathBuf,
    /// The journal, open for appending and locked for as long as the evaluator lives.
    file: std::fs::File,
    answers: HashMap<String, f64>,
    /// The line number of a torn last line that was dropped, if any.
    dropped: Option<usize>,
}

/// The largest journal nar reads (a journal entry is about 150 bytes: millions of answers).
const MAX_JOURNAL: u64 = 256 << 20;

/// The range a command's answer must be in: an accuracy, as a fraction or a percentage.
const ANSWER_RANGE: std::ops::RangeInclusive<f64> = 0.0..=100.0;

/// The architecture as the command receives it.
pub fn arch_text<S: SearchSpace>(arch: &S::Arch) -> String {
    let cols = S::arch_columns(arch);
    if cols.len() == 1 {
        return cols[0].clone();
    }
    let fields: Vec<String> =
        S::ARCH_COLUMNS.iter().zip(&cols).map(|(k, v)| format!("{}: {v}", serde_json::Value::from(*k))).collect();
    format!("{{{}}}", fields.join(", "))
}

/// `text` quoted for `sh`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl<'a, S: SearchSpace> CommandEvaluator<'a, S> {
    /// Checks the command has `{arch}`, opens (or creates) the journal, locks it, checks its header against
    /// this search (`dataset`: the image dataset's name) and reads its answers; a new journal gets the header.
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
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(journal)
            .with_context(|| format!("cannot open the journal {} for writing", journal.display()))?;
        lock(&file).with_context(|| format!("the journal {}", journal.display()))?;
        let text = crate::io::read_to_string_capped(journal, MAX_JOURNAL, "a journal")?;
        let header = Header {
            nar_journal: 1,
            space: S::KIND.name().to_string(),
            dataset: dataset.to_string(),
            command: command.to_string(),
        };
        let (answers, dropped) =
            Self::read(ds, &text, &header, options.journal_reuse).with_context(|| journal.display().to_string())?;
        if text.trim().is_empty() {
            writeln!(file, "{}", serde_json::to_string(&header)?)
                .and_then(|_| file.sync_data())
                .with_context(|| format!("cannot write {}", journal.display()))?;
        }
        Ok(CommandEvaluator {
            ds,
            command: command.to_string(),
            timeout: options.timeout,
            parallel: options.parallel.max(1),
            journal: journal.to_path_buf(),
            file,
            answers,
            dropped,
        })
    }

    /// Checks a journal's header line against this search's.
    fn check_header(line: &str, ours: &Header, reuse: bool) -> Result<()> {
        let theirs: Header =
            serde_json::from_str(line).map_err(|e| anyhow::anyhow!("line 1: not a journal header ({e})"))?;
        if theirs.nar_journal != 1 {
            bail!("line 1: a journal of format {}, this nar reads format 1", theirs.nar_journal);
        }
        for (what, a, b) in [("space", &theirs.space, &ours.space), ("dataset", &theirs.dataset, &ours.dataset)] {
            if a != b {
                bail!("it holds answers on {what} {a}; this search is on {b}: give another --journal");
            }
        }
        if theirs.command != ours.command && !reuse {
            bail!(
                "it holds the answers of the command {:?}; this search runs {:?}: give another --journal, or \
                 --journal-reuse to take its answers as this command's",
                theirs.command,
                ours.command
            );
        }
        Ok(())
    }

    /// The answers of a journal's text, and the line of a torn last line dropped.
    fn read(
        ds: &Dataset<S>,
        text: &str,
        header: &Header,
        reuse: bool,
    ) -> Result<(HashMap<String, f64>, Option<usize>)> {
        let mut answers = HashMap::new();
        let mut lines: Vec<(usize, &str)> = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).collect();
        let complete = text.ends_with('\n');
        match lines.first() {
            Some(&(_, first)) if first.contains("\"nar_journal\"") => {
                Self::check_header(first, header, reuse)?;
                lines.remove(0);
            }
            Some(_) if !reuse => bail!(
                "it has no header line (a journal of an earlier nar?): --journal-reuse takes its answers as this \
                 search's ({} {}, {:?})",
                header.space,
                header.dataset,
                header.command
            ),
            _ => {}
        }
        for (k, &(i, line)) in lines.iter().enumerate() {
            let e: Entry = match serde_json::from_str(line) {
                Ok(e) => e,
                // A crash mid-append leaves the last line without its end: drop it, say so.
                Err(_) if k + 1 == lines.len() && !complete => return Ok((answers, Some(i + 1))),
                Err(e) => bail!("line {}: not a journal entry ({e})", i + 1),
            };
            if !(e.val.is_finite() && ANSWER_RANGE.contains(&e.val)) {
                bail!("line {}: field `val`: {} is not an accuracy (0 to 100)", i + 1, e.val);
            }
            let position = S::parse_id(&e.id).ok().and_then(|id| ds.position(&id)).with_context(|| {
                format!("line {}: field `id`: {:?} is not an architecture of the search", i + 1, e.id)
            })?;
            let arch = arch_text::<S>(&ds.archs()[position]);
            if e.arch != arch {
                bail!("line {}: field `arch`: {:?} is not the architecture of id {} ({arch})", i + 1, e.arch, e.id);
            }
            answers.insert(e.id, e.val);
        }
        Ok((answers, None))
    }

    /// Answers read from the journal.
    pub fn journaled(&self) -> usize {
        self.answers.len()
    }

    /// The line number of a torn last line the journal had, dropped when it was read.
    pub fn dropped_line(&self) -> Option<usize> {
        self.dropped
    }
}

/// Takes an exclusive lock on the journal for as long as `file` is open; refused (not waited for)
/// while another search holds it.
fn lock(file: &std::fs::File) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a descriptor this process owns; the lock goes with the descriptor.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            bail!("another search is using it (it is locked): wait for that one, or give another --journal");
        }
    }
    Ok(())
}

impl<S: SearchSpace> CommandEvaluator<'_, S> {
    /// The answer the journal (or an earlier call) holds for dataset position `position`.
    fn journaled_answer(&self, position: usize) -> Option<f64> {
        self.answers.get(&self.ds.ids()[position].to_string()).copied()
    }

    /// The id, the architecture's text and the command line of dataset position `position`.
    fn call(&self, position: usize) -> (String, String, String) {
        let arch = arch_text::<S>(&self.ds.archs()[position]);
        let line = self.command.replace("{arch}", &shell_quote(&arch));
        (self.ds.ids()[position].to_string(), arch, line)
    }

    /// A call's answer from how it ended, journaled the moment it is known.
    fn answer(&mut self, id: String, arch: String, outcome: Outcome) -> Result<f64> {
        let (status, stdout, stderr) = match outcome {
            Outcome::Exited { status, stdout, stderr } => (status, stdout, stderr),
            Outcome::TimedOut { stderr } => bail!(
                "the oracle command ran past --timeout {} s for {arch} and was stopped{}",
                self.timeout.map_or(0.0, |t| t.as_secs_f64()),
                last_lines(&stderr)
            ),
        };
        if !status.success() {
            bail!("the oracle command failed ({status}) for {arch}{}", last_lines(&stderr));
        }
        let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
        let val: f64 = last.parse().ok().filter(|v: &f64| v.is_finite()).with_context(|| {
            format!("the oracle command printed {last:?} for {arch}, not an accuracy (its last line must be a number)")
        })?;
        if !ANSWER_RANGE.contains(&val) {
            bail!("the oracle command printed {val} for {arch}, not an accuracy (0 to 100)");
        }
        let entry = serde_json::to_string(&Entry { id: id.clone(), arch, val })?;
        writeln!(self.file, "{entry}")
            .and_then(|_| self.file.sync_data())
            .with_context(|| format!("cannot write {}", self.journal.display()))?;
        self.answers.insert(id, val);
        Ok(val)
    }
}

impl<S: SearchSpace> Evaluator for CommandEvaluator<'_, S> {
    fn evaluate(&mut self, position: usize) -> Result<f64> {
        if let Some(v) = self.journaled_answer(position) {
            return Ok(v);
        }
        let (id, arch, line) = self.call(position);
        let outcome = crate::process::run_shell(&line, self.timeout)?;
        self.answer(id, arch, outcome)
    }

    /// With `parallel` above 1: runs the batch's calls not answered yet, up to `parallel` at once, each
    /// answer journaled as it arrives. A failed call stops the handing out of new ones; those running
    /// finish (and are journaled), then the first failure is the error.
    fn prefetch(&mut self, positions: &[usize]) -> Result<()> {
        if self.parallel <= 1 {
            return Ok(());
        }
        let calls: Vec<(String, String, String)> =
            positions.iter().filter(|&&p| self.journaled_answer(p).is_none()).map(|&p| self.call(p)).collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let stop = std::sync::atomic::AtomicBool::new(false);
        let timeout = self.timeout;
        let (send, receive) = std::sync::mpsc::channel::<(usize, Result<Outcome>)>();
        let mut first_error = None;
        std::thread::scope(|scope| {
            for _ in 0..self.parallel.min(calls.len()) {
                let (send, calls, next, stop) = (send.clone(), &calls, &next, &stop);
                scope.spawn(move || {
                    use std::sync::atomic::Ordering::SeqCst;
                    while !stop.load(SeqCst) {
                        let k = next.fetch_add(1, SeqCst);
                        let Some((_, _, line)) = calls.get(k) else { break };
                        if send.send((k, crate::process::run_shell(line, timeout))).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(send);
            for (k, outcome) in receive {
                let (id, arch, _) = calls[k].clone();
                if let Err(e) = outcome.and_then(|o| self.answer(id, arch, o)) {
                    stop.store(true, std::sync::atomic::Ordering::SeqCst);
                    first_error.get_or_insert(e);
                }
            }
        });
        first_error.map_or(Ok(()), Err)
    }
}

/// The last lines of a command's standard error, for an error message ("; …", or nothing).
fn last_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    format!("; its last lines of standard error:\n{}", lines[lines.len().saturating_sub(5)..].join("\n"))
}
