//! The user's own oracle: a shell command that trains an architecture and prints its validation
//! accuracy, with a journal so that an interrupted search resumes without training anything twice.
//!
//! `{arch}` in the command is replaced by the architecture, shell-quoted: NB201's `arch_str`, or for
//! NB101 a JSON object with `module_adjacency` and `module_operations` (what `nar arch` reads). The
//! command's last non-empty line of standard output must be the accuracy (a finite number). Every answer
//! is appended to the journal (JSON lines: `id`, `arch`, `val`) as soon as it arrives; answers already in
//! the journal are returned without running the command.

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
    answers: HashMap<String, f64>,
}

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
    /// Reads the journal (if any) and checks the command has `{arch}`.
    pub fn new(ds: &'a Dataset<S>, command: &str, journal: &Path) -> Result<CommandEvaluator<'a, S>> {
        if !command.contains("{arch}") {
            bail!("the oracle command must contain {{arch}} where the architecture goes: {command:?}");
        }
        let mut answers = HashMap::new();
        if journal.exists() {
            let text =
                std::fs::read_to_string(journal).with_context(|| format!("cannot read {}", journal.display()))?;
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let e: Entry = serde_json::from_str(line)
                    .with_context(|| format!("{}: line {}: not a journal entry", journal.display(), i + 1))?;
                if !e.val.is_finite() {
                    bail!("{}: line {}: field `val` is not a finite number", journal.display(), i + 1);
                }
                answers.insert(e.id, e.val);
            }
        }
        Ok(CommandEvaluator { ds, command: command.to_string(), journal: journal.to_path_buf(), answers })
    }

    /// Answers read from the journal.
    pub fn journaled(&self) -> usize {
        self.answers.len()
    }
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
        let val: f64 = last
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .with_context(|| format!("the oracle command printed {last:?} for {arch}, not an accuracy"))?;
        let entry = serde_json::to_string(&Entry { id: id.clone(), arch, val })?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.journal)
            .with_context(|| format!("cannot open the journal {}", self.journal.display()))?;
        writeln!(f, "{entry}")
            .and_then(|_| f.sync_data())
            .with_context(|| format!("cannot write {}", self.journal.display()))?;
        self.answers.insert(id, val);
        Ok(val)
    }
}
