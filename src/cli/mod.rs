//! The `nar` command line: argument parsing and dispatch. Each subcommand lives in its own file
//! (`nar data fetch` in `fetch.rs`), parses its arguments, calls the library and prints.

mod arch;
mod arch_declared;
mod bench;
mod data;
mod eval;
mod fetch;
mod predictor_study;
mod rank;
mod reference_search;
mod report;
mod run;
mod search;
mod space;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// nar — the Neural Architecture Ranker for NAS-Bench-101 and NAS-Bench-201.
#[derive(Parser, Debug)]
#[command(name = "nar", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The main job: build the dataset, train the ranker, evaluate it, search, write the run directory.
    Run(run::Args),
    /// Inspect one architecture: validity, pruned form, identity, per-cell costs, encoding.
    Arch(arch::Args),
    /// Work with a whole search space (enumerate every architecture with its costs).
    Space(space::Args),
    /// Build, import, export, inspect and fetch benchmark datasets.
    Data(data::Args),
    /// Train the ranker on a dataset (`--config configs/nb201.yaml --data nb201.nar --out RUN_DIR`).
    Train(train::Args),
    /// Evaluate a trained ranker on every labelled architecture outside its training and validation sets.
    Eval(eval::Args),
    /// Search a space within a query budget: nar's guided search, random search, REA and local search
    /// compared through the counting oracle (`--space`), or your own training as the oracle
    /// (`--oracle-cmd`). `nar search RUN_DIR` is the old spelling of `nar reference-search`.
    Search(Box<search::Args>),
    /// NAR's tier-based reference search with a trained run's ranker, beside the honest pick and random
    /// search at the same query budget.
    ReferenceSearch(reference_search::Args),
    /// Rank every architecture of the space with a trained ranker.
    Rank(rank::Args),
    /// Studies across many trainings: `nar study predictors` compares the predictors against the labelled budget.
    Study(predictor_study::Args),
    /// Write the run's self-contained HTML report (training, held-out evaluation, tiers, search, cells).
    Report(report::Args),
    /// Measure the speed of enumeration, the cost model and encoding.
    Bench(bench::Args),
}

/// The ranker frees and re-allocates tensors of the same sizes every step: tell the allocator to keep
/// freed memory instead of returning it to the kernel, which would cost page faults and TLB
/// shootdowns on every step. Only the model commands do this; the data commands keep a small footprint.
pub(crate) fn keep_freed_memory() {
    set_purge_delay(-1);
}

/// mimalloc's `mi_option_purge_delay`, which `libmimalloc-sys` does not name: the entry before
/// `mi_option_use_numa_nodes` in mimalloc.h's `mi_option_e` (v2 and v3). The test below fails if the
/// crate's numbering moves.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc's delay (ms) before freed memory goes back to the kernel; -1 = never, 0 = at once.
fn set_purge_delay(ms: i64) {
    // SAFETY: setting an allocator option (mimalloc reads it at its next purge).
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, ms as _);
    }
}

/// A count that must be at least 1 (`--epochs 0`, `--seeds 0` are usage errors, status 2).
pub(crate) fn positive() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}

/// Runs the command line; errors are printed with their chain of causes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::Train(_)
            | Command::Eval(_)
            | Command::Search(_)
            | Command::ReferenceSearch(_)
            | Command::Rank(_)
            | Command::Run(_)
            | Command::Study(_)
    ) || matches!(&cli.command, Command::Bench(b) if b.is_train())
    {
        keep_freed_memory();
    } else {
        set_purge_delay(0);
    }
    let result = match cli.command {
        Command::Arch(a) => arch::run(a),
        Command::Run(a) => run::run(a),
        Command::Space(a) => space::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Data(a) => data::run(a),
        Command::Train(a) => train::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Search(a) => search::run(*a),
        Command::ReferenceSearch(a) => reference_search::run(a),
        Command::Rank(a) => rank::run(a),
        Command::Report(a) => report::run(a),
        Command::Study(a) => predictor_study::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if crate::usage::is_usage(&e) {
                ExitCode::from(2)
            } else if e.chain().any(|c| c.is::<crate::process::Interrupted>()) {
                ExitCode::from(130)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// A clap parser for one of the library's enums (the library's types do not depend on clap), generated
/// from the enum's own list of values (`ALL`) and names: the possible values are listed in `--help` and
/// in the error for any other word, and nothing can be parsed that is not one of them.
#[derive(Clone)]
pub(crate) struct EnumArg<T: 'static> {
    all: &'static [T],
    name: fn(&T) -> &'static str,
}

impl<T: Clone + Send + Sync + 'static> clap::builder::TypedValueParser for EnumArg<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        if let Some(t) = self.all.iter().find(|t| Some((self.name)(t)) == value.to_str()) {
            return Ok(t.clone());
        }
        // clap's own message for a word that is not a possible value (it cannot accept this one).
        let names: Vec<&'static str> = self.all.iter().map(self.name).collect();
        let refused = clap::builder::PossibleValuesParser::new(names).parse_ref(cmd, arg, value);
        Err(refused.err().unwrap_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd)))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(self.all.iter().map(|t| clap::builder::PossibleValue::new((self.name)(t)))))
    }
}

/// A space named on the command line: a built-in one, or a declaration file.
#[derive(Clone, Debug)]
pub(crate) enum SpaceOrFile {
    Builtin(crate::space::SpaceKind),
    Declared(std::path::PathBuf),
}

/// Parses a space argument: `nb101`, `nb201`, or a path ending in `.yaml`/`.yml`.
pub(crate) fn space_or_file(s: &str) -> Result<SpaceOrFile, String> {
    if crate::spaces::declared::DeclaredSpace::is_declaration(s) {
        return Ok(SpaceOrFile::Declared(std::path::PathBuf::from(s)));
    }
    crate::space::SpaceKind::ALL.iter().find(|k| k.name() == s).map(|&k| SpaceOrFile::Builtin(k)).ok_or_else(|| {
        let names: Vec<&str> = crate::space::SpaceKind::ALL.iter().map(|k| k.name()).collect();
        format!("unknown space {s:?} ({}, or a declaration FILE.yaml)", names.join(", "))
    })
}

pub(crate) fn space_arg() -> SpaceArg {
    SpaceArg
}

/// A `--space`: a built-in space's name, or a declaration file (`FILE.yaml`), which is read, checked
/// and made the process's declared space (`spaces::declared::plugin::activate`) as it is parsed.
#[derive(Clone)]
pub(crate) struct SpaceArg;

impl clap::builder::TypedValueParser for SpaceArg {
    type Value = crate::space::SpaceKind;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<crate::space::SpaceKind, clap::Error> {
        let text = value.to_string_lossy();
        if crate::spaces::declared::DeclaredSpace::is_declaration(&text) {
            return crate::spaces::declared::plugin::activate_file(std::path::Path::new(&*text))
                .map(|_| crate::space::SpaceKind::Declared)
                .map_err(|e| clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{e}\n")).with_cmd(cmd));
        }
        let builtin = EnumArg { all: &crate::space::SpaceKind::ALL, name: |s: &crate::space::SpaceKind| s.name() };
        builtin.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let names = crate::space::SpaceKind::ALL.iter().map(|k| k.name()).chain(["FILE.yaml"]);
        Some(Box::new(names.map(clap::builder::PossibleValue::new)))
    }
}

/// The task a command runs on `space`: `given`, checked to be the space's (a usage error naming the
/// space's tasks), else the space's first.
pub(crate) fn task_of(
    space: crate::space::SpaceKind,
    given: Option<crate::space::Task>,
) -> anyhow::Result<crate::space::Task> {
    match given {
        Some(t) => {
            crate::spaces::task(space, t.name()).map_err(|e| crate::usage::UsageError(format!("--task: {e}")).into())
        }
        None => Ok(crate::spaces::tasks(space)[0]),
    }
}

/// A `--task`: a built-in space's task, or any other name (a declared space's; whether the run's
/// space has it is checked with the space).
pub(crate) fn task_arg() -> TaskArg {
    TaskArg
}

#[derive(Clone)]
pub(crate) struct TaskArg;

impl clap::builder::TypedValueParser for TaskArg {
    type Value = crate::space::Task;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<crate::space::Task, clap::Error> {
        match value.to_str().map(str::trim) {
            Some(t) if !t.is_empty() => Ok(crate::space::Task::named(t)),
            _ => {
                Err(clap::Error::raw(clap::error::ErrorKind::InvalidValue, "a task is a non-empty name\n")
                    .with_cmd(cmd))
            }
        }
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        static ALL: std::sync::OnceLock<Vec<crate::space::Task>> = std::sync::OnceLock::new();
        let all = ALL.get_or_init(crate::spaces::all_tasks);
        Some(Box::new(
            all.iter()
                .map(|t| clap::builder::PossibleValue::new(t.name()))
                .chain([clap::builder::PossibleValue::new("TASK").help("a task of a declared space")]),
        ))
    }
}

pub(crate) fn checkpoint_arg() -> EnumArg<crate::ranker::checkpoint::Checkpoint> {
    EnumArg { all: &crate::ranker::checkpoint::Checkpoint::ALL, name: |c| c.name() }
}

/// Formats an integer with thousands separators.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_option_is_where_mimalloc_h_puts_it() {
        use libmimalloc_sys::{mi_option_get, mi_option_use_numa_nodes};
        assert_eq!(super::MI_OPTION_PURGE_DELAY + 1, mi_option_use_numa_nodes);
        // SAFETY: reading an allocator option. The purge delay's default in the mimalloc v3 the crate
        // builds is 1000 ms (its src/options.c); no other option defaults to 1000.
        assert_eq!(unsafe { mi_option_get(super::MI_OPTION_PURGE_DELAY) }, 1000);
    }
}
