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
//! search on the same journal is refused while the first runs. It is read with a bound; each entry's
//! architecture must be the one its id names; a torn last line (what a crash mid-append leaves) is dropped
//! and reported, a torn line elsewhere is an error.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::oracle::Evaluator;
use crate::data::Dataset;
use crate::space::SearchSpace;

#[derive(Serialize, Deserialize)]
struct Entry {
    id: String,
    arch: String,
    val: f64,
}

/// An [`Evaluator`] that runs a command per architecture.
pub struct CommandEvaluator<'a, S: SearchSpace> {
    ds: &'a Dataset<S>,
    command: String,
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
    /// Checks the command has `{arch}`, opens (or creates) the journal, locks it and reads its answers.
    pub fn new(ds: &'a Dataset<S>, command: &str, journal: &Path) -> Result<CommandEvaluator<'a, S>> {
        if !command.contains("{arch}") {
            bail!("the oracle command must contain {{arch}} where the architecture goes: {command:?}");
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(journal)
            .with_context(|| format!("cannot open the journal {} for writing", journal.display()))?;
        lock(&file).with_context(|| format!("the journal {}", journal.display()))?;
        let text = crate::io::read_to_string_capped(journal, MAX_JOURNAL, "a journal")?;
        let (answers, dropped) = Self::read(ds, &text).with_context(|| journal.display().to_string())?;
        Ok(CommandEvaluator {
            ds,
            command: command.to_string(),
            journal: journal.to_path_buf(),
            file,
            answers,
            dropped,
        })
    }

    /// The answers of a journal's text, and the line of a torn last line dropped.
    fn read(ds: &Dataset<S>, text: &str) -> Result<(HashMap<String, f64>, Option<usize>)> {
        let mut answers = HashMap::new();
        let lines: Vec<(usize, &str)> = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).collect();
        let complete = text.ends_with('\n');
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

impl<S: SearchSpace> Evaluator for CommandEvaluator<'_, S> {
    fn evaluate(&mut self, position: usize) -> Result<f64> {
        let id = self.ds.ids()[position].to_string();
        if let Some(&v) = self.answers.get(&id) {
            return Ok(v);
        }
        let arch = arch_text::<S>(&self.ds.archs()[position]);
        let line = self.command.replace("{arch}", &shell_quote(&arch));
        let out = Command::new("sh")
            .arg("-c")
            .arg(&line)
            .output()
            .with_context(|| format!("cannot run the oracle command {line:?}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!(
                "the oracle command failed ({}) for {arch}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
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
