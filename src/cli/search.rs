//! `nar search --space`: budgeted methods (nar's guided search, random search, REA, local search)
//! compared at the same number of queried architectures, through the counting oracle. `nar search
//! RUN_DIR` is the old spelling of `nar reference-search RUN_DIR` (NAR's reference search), kept for
//! scripts.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::pipeline::search::{SearchOptions, SearchSummary};
use crate::pipeline::search_study::{OracleSource, StudyOptions, study};
use crate::process::OnInterrupt;
use crate::progress::Terminal;
use crate::ranker::checkpoint::Checkpoint;
use crate::search::budgeted::{Method, StudySummary};
use crate::search::command::CommandOptions;
use crate::search::domain::{Bound, Constraint, Equivalence};
use crate::space::{SpaceKind, Task};
use crate::spaces::DataSource;
use crate::stats::mean_std;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A run directory: the old spelling of `nar reference-search RUN_DIR` (NAR's reference search with
    /// its ranker). Give `--space` for the budgeted comparison of search methods.
    #[arg(required_unless_present = "space")]
    run_dir: Option<PathBuf>,
    /// Reference search: iterations (the reference runs 50).
    #[arg(long, default_value_t = 50, conflicts_with = "space", value_parser = super::positive())]
    iterations: usize,
    /// Independent seeds (S..S+K with `--first-seed S`); results per seed and as mean ± std (at most
    /// 10,000).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    seeds: u64,
    /// Budgeted search: the first seed (seeds S … S+K−1), to report on seeds nothing was tuned on.
    #[arg(long, default_value_t = 0, conflicts_with = "run_dir")]
    first_seed: u64,
    /// Budgeted search: architectures each method proposes at a time, before it sees their answers
    /// (default: one for the baselines; the guided search's rounds grow from 2 to 10 with the queries).
    #[arg(long, conflicts_with = "run_dir", value_parser = super::positive())]
    batch: Option<usize>,
    /// Budgeted search: query only architectures whose cost NAME is at most VALUE (repeatable): the cost
    /// model's `params` or `flops`, or a cost column of the dataset (e.g. `cifar10_latency`); the target
    /// is the best architecture within.
    #[arg(long = "max", value_name = "NAME=VALUE", conflicts_with = "run_dir", value_parser = Bound::parse)]
    max: Vec<Bound>,
    /// Budgeted search: several objectives, comma-separated — `val` (validation accuracy, maximised)
    /// first, then costs, minimised (`flops`, `params`, or a cost column of the dataset): each run's
    /// front of queried architectures is measured against the pool's true front (normalised
    /// hypervolume, fraction of the front queried, IGD), beside the single-objective table.
    #[arg(long, value_delimiter = ',', conflicts_with = "run_dir")]
    objectives: Vec<String>,
    /// Budgeted search: `--max params=N` (the cost model's parameters).
    #[arg(long, value_name = "N", conflicts_with = "run_dir")]
    max_params: Option<u64>,
    /// Budgeted search: `--max flops=N` (the cost model's FLOPs).
    #[arg(long, value_name = "N", conflicts_with = "run_dir")]
    max_flops: Option<u64>,
    /// Budgeted search: `canonical` makes cells that compute the same function one query (NB201);
    /// `none` queries each cell on its own.
    #[arg(long, value_parser = ["canonical", "none"], default_value = "canonical", conflicts_with = "run_dir")]
    equivalence: String,
    /// Reference search: which checkpoint's ranker and statistics.
    #[arg(long, value_parser = super::checkpoint_arg(), default_value = "best", conflicts_with = "space")]
    checkpoint: Checkpoint,
    /// Do not write the run's HTML report at the end.
    #[arg(long, conflicts_with = "space")]
    no_report: bool,
    /// Budgeted search: the space.
    #[arg(long, value_parser = super::space_arg(), conflicts_with = "run_dir")]
    space: Option<SpaceKind>,
    /// Budgeted search: the task whose accuracies to use (the built-in spaces' tasks are image data
    /// sets: NB201 cifar10, cifar100, imagenet16; NB101 cifar10); default: the space's first.
    /// `--dataset` is its old name.
    #[arg(long, alias = "dataset", value_parser = super::task_arg(), conflicts_with = "run_dir")]
    task: Option<Task>,
    /// Budgeted search: the method(s); `mo-rea` and `mo-ls` weigh accuracy against the costs of
    /// `--objectives`, and `all` includes them where there are objectives.
    #[arg(long, value_parser = super::EnumArg { all: &METHOD_CHOICES, name: method_choice }, default_value = "all", conflicts_with = "run_dir")]
    method: Methods,
    /// Budgeted search: architectures each run may query.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=1_000_000), conflicts_with = "run_dir")]
    budget: u64,
    /// Budgeted search: the dataset (default: the built-in NB201 table; a `.nar` file or a space name).
    #[arg(long, conflicts_with = "run_dir")]
    data: Option<String>,
    /// Budgeted search: metric files to build the dataset from instead (e.g. data/nb101/nb101_subset_1k.csv).
    #[arg(long = "metrics", short = 'm', conflicts_with = "data", conflicts_with = "run_dir")]
    metrics: Vec<PathBuf>,
    /// Data directory for dataset names.
    #[arg(long, conflicts_with = "run_dir")]
    data_dir: Option<PathBuf>,
    /// Budgeted search: the user's oracle, a shell command run per query with `{arch}` replaced by the
    /// architecture; it prints the validation accuracy on its last line.
    #[arg(long, conflicts_with = "run_dir")]
    oracle_cmd: Option<String>,
    /// With `--oracle-cmd`: the journal of answers (resuming reads it back).
    #[arg(long, default_value = "oracle-journal.jsonl", requires = "oracle_cmd")]
    journal: PathBuf,
    /// With `--oracle-cmd`: a call running longer than this many seconds is stopped (its whole process
    /// group) and fails (journaled with the reason; `--retries` runs it again).
    #[arg(long, value_name = "S", requires = "oracle_cmd", value_parser = positive_seconds)]
    timeout: Option<f64>,
    /// With `--oracle-cmd`: run up to K calls at once (`--batch` is K when not given: random, LS and
    /// the guided search propose K at a time and wait for them, REA keeps K children running).
    #[arg(long, value_name = "K", requires = "oracle_cmd", value_parser = clap::value_parser!(u64).range(1..=1024))]
    parallel: Option<u64>,
    /// With `--oracle-cmd`: run a failed call (non-zero exit, no number, past --timeout, a killed
    /// worker) again up to R times; then the architecture counts as failed (its query spent, never
    /// picked, listed in the summary).
    #[arg(long, value_name = "R", default_value_t = 0, requires = "oracle_cmd", value_parser = clap::value_parser!(u64).range(0..=100))]
    retries: u64,
    /// With `--oracle-cmd`: what Ctrl-C (SIGINT, SIGTERM) does to running calls: `cancel` stops them
    /// (their whole process groups); `wait` starts no new call and lets the running ones finish and be
    /// journaled (a second Ctrl-C cancels them). Either way the journal resumes.
    #[arg(long, value_parser = super::EnumArg { all: &OnInterrupt::ALL, name: |o| o.name() }, default_value = "cancel", requires = "oracle_cmd")]
    on_interrupt: OnInterrupt,
    /// With `--oracle-cmd`: take the journal's answers although its header names another command (or it
    /// has none): the same training under another command line.
    #[arg(long, requires = "oracle_cmd")]
    journal_reuse: bool,
    /// Budgeted search: override the guided search's settings, `key=value,…` (predictor, acquisition,
    /// kappa, init, per_round, score_all, parents, far_parents, sampled, random, local), for ablations.
    #[arg(long, conflicts_with = "run_dir")]
    guided: Option<String>,
    /// Budgeted search: write the incumbent curves (`method,seed,queries,best_val,best_test`).
    #[arg(long, conflicts_with = "run_dir")]
    curve: Option<PathBuf>,
    /// Budgeted search: write the summary as JSON.
    #[arg(short, long, conflicts_with = "run_dir")]
    out: Option<PathBuf>,
    /// Budgeted search: write the study as an HTML page (bands per method and the table).
    #[arg(long, conflicts_with = "run_dir")]
    html: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    if let Some(space) = args.space {
        return budgeted(&args, space);
    }
    let Some(run_dir) = &args.run_dir else { bail!("give --space (or a run directory: nar reference-search RUN_DIR)") };
    let opts = SearchOptions { iterations: args.iterations, seeds: args.seeds, checkpoint: args.checkpoint };
    super::reference_search::run_in(run_dir, opts, args.no_report)
}

/// `--timeout`: seconds, more than 0 and at most a year.
fn positive_seconds(text: &str) -> Result<f64, String> {
    let s: f64 = text.parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(s > 0.0 && s <= 365.0 * 86400.0) {
        return Err(format!("{text} s: give more than 0 and at most a year"));
    }
    Ok(s)
}

/// `--method`: every method (`all`: `None`) or one of them.
#[derive(Clone, Copy, Debug)]
struct Methods(Option<Method>);

/// `--method`'s values: `all`, then each of [`Method::EVERY`].
const METHOD_CHOICES: [Methods; Method::EVERY.len() + 1] = {
    let mut choices = [Methods(None); Method::EVERY.len() + 1];
    let mut i = 0;
    while i < Method::EVERY.len() {
        choices[i + 1] = Methods(Some(Method::EVERY[i]));
        i += 1;
    }
    choices
};

/// `--max NAME=VALUE`, with `--max-params` and `--max-flops` as `--max params=…` and `--max flops=…`.
fn constraint(args: &Args) -> Result<Constraint> {
    let mut bounds = Constraint::model(args.max_params, args.max_flops).bounds;
    bounds.extend(args.max.iter().cloned());
    Constraint::new(bounds).map_err(|e| crate::usage::UsageError(format!("--max: {e}")).into())
}

fn method_choice(m: &Methods) -> &'static str {
    m.0.map_or("all", Method::name)
}

fn budgeted(args: &Args, space: SpaceKind) -> Result<ExitCode> {
    let data_dir = args.data_dir.clone().unwrap_or_else(crate::data::default_data_dir);
    let data = match (&args.data, args.metrics.is_empty(), space) {
        (Some(d), _, _) => DataSource::from_arg(d, &data_dir)?,
        (None, false, _) => DataSource::Metrics { space, files: args.metrics.clone() },
        // The space's built-in table, or its dataset in the data directory.
        (None, true, space) => match DataSource::built_in(space) {
            Some(built_in) => built_in,
            // A declared space without a table: its cells, unlabelled (an oracle command answers).
            None if crate::spaces::is_declared(space) => DataSource::Metrics { space, files: Vec::new() },
            None => DataSource::from_arg(space.name(), &data_dir)?,
        },
    };
    let methods = match args.method.0 {
        // `all`: the single-objective methods, and the multi-objective ones where there are objectives.
        None if args.objectives.is_empty() => Method::ALL.to_vec(),
        None => Method::EVERY.to_vec(),
        Some(m) => vec![m],
    };
    crate::process::set_on_interrupt(args.on_interrupt);
    let oracle = match &args.oracle_cmd {
        Some(c) => OracleSource::Command {
            command: c.clone(),
            journal: args.journal.clone(),
            options: CommandOptions {
                timeout: args.timeout.map(std::time::Duration::from_secs_f64),
                parallel: args.parallel.unwrap_or(1) as usize,
                retries: args.retries as usize,
                journal_reuse: args.journal_reuse,
            },
        },
        None => OracleSource::Table,
    };
    let opts = StudyOptions {
        data,
        space: Some(space),
        cap_budget: false,
        task: super::task_of(space, args.task)?,
        methods,
        budget: args.budget as usize,
        seeds: args.seeds,
        first_seed: args.first_seed,
        batch: args.batch.or(args.parallel.map(|k| k as usize)),
        constraint: constraint(args)?,
        equivalence: if args.equivalence == "none" { Equivalence::None } else { Equivalence::Canonical },
        oracle,
        guided: args.guided.clone(),
        predictor: None,
        objectives: args.objectives.clone(),
        curve: args.curve.clone(),
        json: args.out.clone(),
        html: args.html.clone(),
    };
    let s = study(&opts, &Terminal::new())?;
    print_study(&s);
    Ok(ExitCode::SUCCESS)
}

pub(super) fn print_study(s: &StudySummary) {
    println!(
        "{} {}: seeds {}–{}, budget {}{}; pool {}; methods read {} through the oracle{}",
        s.space,
        s.task,
        s.first_seed,
        s.first_seed + s.seeds - 1,
        s.budget,
        s.batch.map_or(String::new(), |b| format!(" in batches of {b}")),
        s.pool_description(),
        s.val_metric,
        match (&s.report_metric, s.optimum) {
            (Some(m), Some(o)) => format!("; the incumbent is scored by {m} (optimum {o:.2})"),
            _ => String::new(),
        }
    );
    if let Some((id, v)) = &s.target {
        println!("  target: the best validation accuracy of the pool, {id} ({v:.2}); an equivalent cell counts");
    }
    let head = StudySummary::TABLE_HEAD;
    println!("  {:<8}{:>8}  {:>17}  {:>17}  {:>15}", head[0], head[1], head[2], head[3], head[4]);
    for r in s.table_rows() {
        println!("  {:<8}{:>8}  {:>17}  {:>17}  {:>15}", r[0], r[1], r[2], r[3], r[4]);
    }
    if let Some(f) = &s.front {
        if f.raw {
            println!(
                "  front: {} — no true front (the user's oracle); per method, mean ± std over seeds of the hypervolume \
                 in raw units (validation accuracy from 0, each cost from the pool's largest)",
                f.objectives.join(" vs ")
            );
            println!("  {:<8}{:>8}  {:>25}", "method", "queries", "hypervolume");
        } else {
            println!(
                "  front: {} — the pool's true front holds {} architectures; per method, mean ± std over seeds of the \
                 normalised hypervolume (1: the true front's), the fraction of the true front queried and IGD",
                f.objectives.join(" vs "),
                f.true_front.len()
            );
            println!("  {:<8}{:>8}  {:>15}  {:>15}  {:>15}", "method", "queries", "hypervolume", "front found", "IGD");
        }
        for r in &f.table {
            for c in &r.cells {
                let ms = |(m, s): (f64, f64)| format!("{m:.3} ± {s:.3}");
                if f.raw {
                    let (m, sd) = c.hypervolume;
                    println!("  {:<8}{:>8}  {:>25}", r.method.name(), c.queries, format!("{m:.4e} ± {sd:.2e}"));
                } else {
                    println!(
                        "  {:<8}{:>8}  {:>15}  {:>15}  {:>15}",
                        r.method.name(),
                        c.queries,
                        ms(c.hypervolume),
                        ms(c.found),
                        ms(c.igd)
                    );
                }
            }
        }
    }
    if !s.failures.is_empty() {
        println!("  failed queries ({}; each spent its query, none is picked):", s.failures.len());
        for (m, seed, id, why) in &s.failures {
            println!("    {m} seed {seed} {id}: {}", why.lines().next().unwrap_or(""));
        }
    }
    let secs: Vec<String> = s.table.iter().map(|r| format!("{} {:.1}", r.method, r.seconds_per_seed)).collect();
    println!("  seconds per seed: {}", secs.join(", "));
}

pub(super) fn print_search(s: &SearchSummary) {
    println!(
        "{} {}: {} labelled architectures; accuracy reported = {} (optimum {:.2}); query budget {} (training + validation); {} seeds in {:.0} s",
        s.space,
        s.report_metric,
        s.labelled,
        s.report_metric,
        s.optimum,
        s.budget,
        s.results.len(),
        s.seconds
    );
    let line = |name: &str, v: Vec<(f64, usize)>| {
        let accs: Vec<f64> = v.iter().map(|x| x.0).collect();
        let mut ranks: Vec<usize> = v.iter().map(|x| x.1).collect();
        ranks.sort_unstable();
        let (m, sd) = mean_std(&accs);
        println!(
            "  {name:<46} {m:>7.2} ± {sd:<5.2}  median rank {:>6}",
            ranks.get(ranks.len() / 2).copied().unwrap_or(0)
        );
    };
    let results = &s.results;
    line(
        "honest: the ranker's own choice",
        results.iter().filter_map(|r| r.honest.as_ref().map(|f| (f.accuracy, f.rank))).collect(),
    );
    line(
        "random search, same budget (best validation)",
        results.iter().map(|r| (r.random.accuracy, r.random.rank)).collect(),
    );
    for k in [1, 5] {
        line(
            &format!("reference protocol, best-of-{} top-{k} (peeks)", s.iterations),
            results
                .iter()
                .filter_map(|r| r.reference.iter().find(|(kk, _)| *kk == k).map(|(_, f)| (f.accuracy, f.rank)))
                .collect(),
        );
    }
    println!("  per seed: seed  honest (acc, rank)  random (acc, rank)  reference top-1 (acc, rank)");
    for r in results {
        let h = r.honest.as_ref().map_or("-".to_string(), |f| format!("{:.2} #{}", f.accuracy, f.rank));
        let t1 = r
            .reference
            .iter()
            .find(|(k, _)| *k == 1)
            .map_or("-".to_string(), |(_, f)| format!("{:.2} #{}", f.accuracy, f.rank));
        println!(
            "            {:>4}  {h:>18}  {:>18}  {t1:>18}",
            r.seed,
            format!("{:.2} #{}", r.random.accuracy, r.random.rank)
        );
    }
}
