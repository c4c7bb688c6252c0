//! The journal of a search's oracle calls: every answer and every failed attempt, appended (and synced)
//! the moment it is known, so that an interrupted or killed search resumes without training anything
//! twice. JSON lines; the first is a [`Header`] naming the space, the image dataset and the oracle (the
//! command line, or the Python function), each later one an entry:
//!
//! ```text
//! {"nar_journal":1,"space":"nb201","dataset":"cifar10","command":"python train.py {arch}"}
//! {"id":"…","arch":"|nor_conv_3x3~0|+…","val":91.4,"wall_s":3512.2}
//! {"id":"…","arch":"…","failed":"the oracle command failed (exit status: 1) …","wall_s":12.0}
//! ```
//!
//! The journal is opened (created if new), checked writable and locked before the first call: a second
//! search on the same journal is refused while the first runs. A journal of another space or dataset
//! is refused, and one of another oracle (or one without a header, as earlier releases wrote) unless
//! `reuse`. It is read with a bound; each entry's architecture must be the one its id names; a torn last
//! line (what a crash or a full disk mid-append leaves) is dropped and reported — and cut off the file, so
//! that the next entry starts a line of its own —, a torn line elsewhere is an error.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::oracle::Answer;
use crate::data::Dataset;
use crate::space::SearchSpace;

/// The architecture as the oracle command receives it and the journal records it (`arch`): the
/// space's one architecture column, or a JSON object of its columns.
pub fn arch_text<S: SearchSpace>(arch: &S::Arch) -> String {
    let cols = S::arch_columns(arch);
    if cols.len() == 1 {
        return cols[0].clone();
    }
    let fields: Vec<String> = S::arch_column_names()
        .iter()
        .zip(&cols)
        .map(|(k, v)| format!("{}: {v}", serde_json::Value::from(*k)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

/// The journal's first line: what its answers are answers to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The journal format's version (1).
    pub nar_journal: u32,
    pub space: String,
    pub dataset: String,
    /// The oracle: the command line with `{arch}`, or `python:` and the function's name.
    pub command: String,
    /// A declared space's declaration, by the SHA-256 of its text: an edited declaration does not
    /// take the answers given on the old one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration: Option<String>,
}

impl Header {
    /// The header of a search of space `S` (a declared space: its declaration's name and hash).
    pub fn new<S: SearchSpace>(dataset: &str, command: &str) -> Header {
        let declaration = S::declaration();
        let space = match &declaration {
            Some(d) => format!("{} ({})", S::KIND.name(), d.source),
            None => S::KIND.name().to_string(),
        };
        Header {
            nar_journal: 1,
            space,
            dataset: dataset.into(),
            command: command.into(),
            declaration: declaration.map(|d| d.sha256),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    arch: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    val: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failed: Option<String>,
    /// Seconds the call ran (absent in journals of earlier releases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wall_s: Option<f64>,
}

/// What the journal holds on one architecture.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Journaled {
    /// Its accuracy, once answered.
    pub val: Option<f64>,
    /// The reasons of its failed attempts, in order.
    pub failures: Vec<String>,
}

impl Journaled {
    /// The answer a search with `retries` retries takes from the journal: the accuracy, or a failure once
    /// `retries + 1` attempts have failed; `None` while attempts are left.
    pub fn settled(&self, retries: usize) -> Option<Answer> {
        match (self.val, self.failures.last()) {
            (Some(v), _) => Some(Answer::Accuracy(v)),
            (None, Some(reason)) if self.failures.len() > retries => Some(Answer::Failed(reason.clone())),
            _ => None,
        }
    }
}

/// The range an answer must be in: an accuracy, as a fraction or a percentage.
pub const ANSWER_RANGE: std::ops::RangeInclusive<f64> = 0.0..=100.0;

/// The largest journal nar reads (an entry is about 150 bytes: millions of answers).
const MAX_JOURNAL: u64 = 256 << 20;

/// An open, locked journal.
pub struct Journal {
    path: PathBuf,
    /// Open for appending, and locked, for as long as the journal lives.
    file: std::fs::File,
    entries: HashMap<String, Journaled>,
    /// The line number of a torn last line that was dropped, if any.
    dropped: Option<usize>,
}

impl Journal {
    /// Opens (or creates) the journal at `path`, locks it, checks its header against `header` and reads
    /// its entries against the architectures of `ds`; a new journal gets the header. `reuse` takes a
    /// journal of another oracle; `reuse_flag` is how the caller's user asks for that (`--journal-reuse`,
    /// Python's `journal_reuse=True`), for the messages.
    pub fn open<S: SearchSpace>(
        ds: &Dataset<S>,
        path: &Path,
        header: &Header,
        reuse: bool,
        reuse_flag: &str,
    ) -> Result<Journal> {
        // A FIFO would block the open, a device the sync: a journal is a regular file, said first.
        if let Ok(meta) = std::fs::metadata(path)
            && !meta.is_file()
        {
            bail!("the journal {} is not a regular file (a journal is a file nar appends to)", path.display());
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open the journal {} for writing", path.display()))?;
        lock(&file).with_context(|| format!("the journal {}", path.display()))?;
        let text = crate::io::read_to_string_capped(path, MAX_JOURNAL, "a journal")?;
        let (entries, dropped) =
            read(ds, &text, header, reuse, reuse_flag).with_context(|| path.display().to_string())?;
        let cannot_write = || format!("cannot write {}", path.display());
        // A crash or a full disk mid-append leaves a last line without its end: the next entry must not
        // be appended onto it. A fragment that was dropped is cut off; a whole entry that only lacks its
        // line end gets it.
        let mut kept = text.as_str();
        if !text.is_empty() && !text.ends_with('\n') {
            if dropped.is_some() {
                kept = &text[..text.rfind('\n').map_or(0, |p| p + 1)];
                file.set_len(kept.len() as u64).and_then(|_| file.sync_data()).with_context(cannot_write)?;
            } else {
                file.write_all(b"\n").and_then(|_| file.sync_data()).with_context(cannot_write)?;
            }
        }
        // A new journal (or one whose only line was a dropped fragment) gets the header.
        if kept.trim().is_empty() {
            writeln!(file, "{}", serde_json::to_string(header)?)
                .and_then(|_| file.sync_data())
                .with_context(cannot_write)?;
        }
        Ok(Journal { path: path.to_path_buf(), file, entries, dropped })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the journal holds on the architecture of id `id`.
    pub fn get(&self, id: &str) -> Option<&Journaled> {
        self.entries.get(id)
    }

    /// Architectures with an answer.
    pub fn answered(&self) -> usize {
        self.entries.values().filter(|e| e.val.is_some()).count()
    }

    /// The line number of a torn last line the journal had, dropped when it was read.
    pub fn dropped_line(&self) -> Option<usize> {
        self.dropped
    }

    /// Appends an answer (synced before it returns).
    pub fn answer(&mut self, id: &str, arch: &str, val: f64, wall_s: f64) -> Result<()> {
        self.append(Entry { id: id.into(), arch: arch.into(), val: Some(val), failed: None, wall_s: Some(wall_s) })?;
        self.entries.entry(id.to_string()).or_default().val = Some(val);
        Ok(())
    }

    /// Appends a failed attempt and its reason (synced before it returns).
    pub fn failure(&mut self, id: &str, arch: &str, reason: &str, wall_s: f64) -> Result<()> {
        let entry =
            Entry { id: id.into(), arch: arch.into(), val: None, failed: Some(reason.into()), wall_s: Some(wall_s) };
        self.append(entry)?;
        self.entries.entry(id.to_string()).or_default().failures.push(reason.to_string());
        Ok(())
    }

    fn append(&mut self, entry: Entry) -> Result<()> {
        // One write of the whole line: a crash leaves at most a torn last line.
        let line = serde_json::to_string(&entry)? + "\n";
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.sync_data())
            .with_context(|| format!("cannot write {}", self.path.display()))
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

/// Checks a journal's header line against this search's.
fn check_header(line: &str, ours: &Header, reuse: bool, reuse_flag: &str) -> Result<()> {
    let theirs: Header =
        serde_json::from_str(line).map_err(|e| anyhow::anyhow!("line 1: not a journal header ({e})"))?;
    if theirs.nar_journal != 1 {
        bail!("line 1: a journal of format {}, this nar reads format 1", theirs.nar_journal);
    }
    if theirs.declaration != ours.declaration {
        let name = |h: &Header| match &h.declaration {
            Some(sha) => format!("{} (declaration sha256 {})", h.space, &sha[..sha.len().min(12)]),
            None => h.space.clone(),
        };
        bail!("it holds answers on {}; this search is on {}: give another journal", name(&theirs), name(ours));
    }
    let same_space = theirs.space == ours.space || theirs.declaration.is_some();
    for (what, a, b, same) in [
        ("space", &theirs.space, &ours.space, same_space),
        ("dataset", &theirs.dataset, &ours.dataset, theirs.dataset == ours.dataset),
    ] {
        if !same {
            bail!("it holds answers on {what} {a}; this search is on {b}: give another journal");
        }
    }
    if theirs.command != ours.command && !reuse {
        bail!(
            "it holds the answers of the oracle {:?}; this search runs {:?}: give another journal, or \
             {reuse_flag} to take its answers as this oracle's",
            theirs.command,
            ours.command
        );
    }
    Ok(())
}

/// The entries of a journal's text, and the line of a torn last line dropped.
fn read<S: SearchSpace>(
    ds: &Dataset<S>,
    text: &str,
    header: &Header,
    reuse: bool,
    reuse_flag: &str,
) -> Result<(HashMap<String, Journaled>, Option<usize>)> {
    let mut entries: HashMap<String, Journaled> = HashMap::new();
    // The line and value of each id's first answer.
    let mut answered_at: HashMap<String, (usize, f64)> = HashMap::new();
    let mut lines: Vec<(usize, &str)> = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).collect();
    let complete = text.ends_with('\n');
    match lines.first() {
        Some(&(_, first)) if first.contains("\"nar_journal\"") => {
            check_header(first, header, reuse, reuse_flag)?;
            lines.remove(0);
        }
        Some(_) if !reuse => bail!(
            "it has no header line (a journal of an earlier nar?): {reuse_flag} takes its answers as this \
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
            Err(_) if k + 1 == lines.len() && !complete => return Ok((entries, Some(i + 1))),
            Err(e) => bail!("line {}: not a journal entry ({e})", i + 1),
        };
        let (id, position) = S::parse_id(&e.id)
            .ok()
            .and_then(|id| Some((id, ds.position(&id)?)))
            .with_context(|| format!("line {}: field `id`: {:?} is not an architecture of the search", i + 1, e.id))?;
        // Answers are looked up by the id as nar writes it: another spelling (`007`) would be ignored.
        let written = id.to_string();
        if e.id != written {
            bail!("line {}: field `id`: {:?} is not written as nar writes this id ({written:?})", i + 1, e.id);
        }
        let arch = arch_text::<S>(&ds.archs()[position]);
        if e.arch != arch {
            bail!("line {}: field `arch`: {:?} is not the architecture of id {} ({arch})", i + 1, e.arch, e.id);
        }
        if let Some(w) = e.wall_s
            && !(w.is_finite() && w >= 0.0)
        {
            bail!("line {}: field `wall_s`: {w} is not a number of seconds", i + 1);
        }
        let slot = entries.entry(e.id.clone()).or_default();
        match (e.val, e.failed) {
            (Some(val), None) => {
                if !(val.is_finite() && ANSWER_RANGE.contains(&val)) {
                    bail!("line {}: field `val`: {val} is not an accuracy (0 to 100)", i + 1);
                }
                // Two different answers for one architecture: which is right is not the journal's to say.
                if let Some(&(line, first)) = answered_at.get(&e.id)
                    && first != val
                {
                    bail!(
                        "line {}: field `val`: {val} answers id {} again, which line {line} answered {first}",
                        i + 1,
                        e.id
                    );
                }
                answered_at.entry(e.id).or_insert((i + 1, val));
                slot.val = Some(val);
            }
            (None, Some(reason)) => slot.failures.push(reason),
            _ => bail!("line {}: an entry holds either `val` (an answer) or `failed` (its reason)", i + 1),
        }
    }
    Ok((entries, None))
}
