//! `nar study predictors`: reference, improved and tree predictors against the labelled budget.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::config::Config;
use crate::config::Mode;
use crate::pipeline::predictor_study::{ModeConfig, PredictorStudyOptions, StudyBenchmark, Transfer, study};
use crate::progress::Terminal;
use crate::report::predictor_study::markdown;
use crate::space::{SpaceKind, Task};
use crate::spaces::DataSource;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand, Debug)]
enum What {
    /// Train and evaluate each predictor mode over labelled budgets, benchmarks and seeds; every
    /// figure on the held-out rest of the labelled architectures, beside the parameter-count floor.
    Predictors(PredictorArgs),
}

#[derive(clap::Args, Debug)]
struct PredictorArgs {
    /// Benchmarks, comma-separated [default: nb201-cifar10,nb201-cifar100,nb201-imagenet16,nb101; with
    /// --space FILE.yaml, the declared space's tasks: `declared` or `declared-TASK`].
    #[arg(long, value_delimiter = ',')]
    benchmarks: Option<Vec<String>>,
    /// A declared space (`FILE.yaml`) to study, on its tables (`--table`).
    #[arg(long, value_parser = super::space_arg(), requires = "tables")]
    space: Option<SpaceKind>,
    /// The declared space's dataset: a .nar file, or CSV tables joined onto the space (repeatable).
    #[arg(long = "table", requires = "space")]
    tables: Vec<PathBuf>,
    /// Predictor modes, comma-separated: NAR's reference transformer (`reference`), nar's improved
    /// one (`improved`), the trees on the ReNAS tensor (`gbdt`), the graph-feature forest (`forest`),
    /// nar's recommended predictor (`best`), one model on one feature set for the ablation
    /// (`forest-graph`, `gbdt-paths`, …), or any name given a configuration with `--config NAME=FILE`.
    #[arg(long, value_delimiter = ',', default_value = "reference,improved,gbdt,forest,best")]
    modes: Vec<String>,
    /// Labelled architectures per cell (training + validation), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,200,424,1000", value_parser = super::positive())]
    budgets: Vec<usize>,
    /// Seeds per cell (0, 1, …: each draws its own split and model initialisation).
    #[arg(long, default_value_t = 3, value_parser = super::positive())]
    seeds: usize,
    /// The first seed (tune on seeds you do not report: e.g. `--first-seed 100`).
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Train the transformer modes for this many epochs instead of their configurations' `ranker_epochs`.
    #[arg(long, value_parser = super::positive())]
    epochs: Option<usize>,
    /// Replace a mode's configuration for its space, or define a new mode, for ablations: `MODE=FILE`
    /// (repeatable), e.g. `--config improved=my-nb201.yaml --config mine=my-forest.yaml`.
    #[arg(long = "config", value_name = "MODE=FILE")]
    configs: Vec<String>,
    /// The NB201 dataset (a .nar file; default: the table built into nar).
    #[arg(long)]
    nb201: Option<PathBuf>,
    /// The NB101 dataset: a .nar file, or metric files (CSV, NAR JSON, tfrecord) joined onto the space.
    #[arg(long, default_value = "data/nb101/nb101_subset_1k.csv")]
    nb101: PathBuf,
    /// The CSV of every cell (rewritten after each one).
    #[arg(long, default_value = "predictor-study.csv")]
    csv: PathBuf,
    /// Also write the HTML page (τ and precision@50 against the budget, and the table).
    #[arg(long)]
    html: Option<PathBuf>,
    /// The transfer mode: every predictor also reads the score of a predictor fitted on this task's
    /// validation accuracies (another image data set of the space, e.g. `cifar10`); its rows are
    /// `MODE+TASK`. It uses labels the plain mode does not have.
    #[arg(long, value_name = "TASK")]
    transfer_from: Option<String>,
    /// How many of the source task's labels the transfer mode reads (default: every labelled architecture).
    #[arg(long, requires = "transfer_from", value_parser = super::positive())]
    transfer_labels: Option<usize>,
}

/// A `--benchmarks` entry: `nb101`, `nb201-cifar10`, … .
fn parse_benchmark(name: &str) -> Result<StudyBenchmark, String> {
    StudyBenchmark::from_name(name).ok_or_else(|| {
        let known: Vec<String> = StudyBenchmark::all().into_iter().map(StudyBenchmark::name).collect();
        format!("unknown benchmark {name:?}: expected one of {}", known.join(", "))
    })
}

pub fn run(args: Args) -> Result<ExitCode> {
    let What::Predictors(a) = args.what;
    if a.space.is_some_and(|s| !crate::spaces::is_declared(s)) {
        bail!(crate::usage::UsageError(
            "--space names a declared space (FILE.yaml) here; the built-in ones are --benchmarks".into()
        ));
    }
    let default = match a.space {
        Some(space) => crate::spaces::tasks(space).iter().map(|&task| StudyBenchmark { space, task }.name()).collect(),
        None => ["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16", "nb101"].map(String::from).to_vec(),
    };
    let benchmarks = a
        .benchmarks
        .clone()
        .unwrap_or(default)
        .iter()
        .map(|b| parse_benchmark(b).map_err(|e| crate::usage::UsageError(format!("--benchmarks: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    // Each space's dataset, read only where a benchmark is of that space.
    let store = a.nb101.extension().is_some_and(|e| e == "nar");
    let nb101 = match store {
        true => DataSource::Store(a.nb101.clone()),
        false => DataSource::Metrics { space: SpaceKind::Nb101, files: vec![a.nb101.clone()] },
    };
    let nb201 = a.nb201.map_or(DataSource::BuiltIn(SpaceKind::Nb201), DataSource::Store);
    let mut configs = Vec::new();
    for c in &a.configs {
        let Some((mode, file)) = c.split_once('=') else { bail!("--config {c}: expected MODE=FILE") };
        if mode.is_empty() || mode.contains(',') {
            bail!("--config {c}: a mode name is a word without commas");
        }
        let cfg = Config::load(std::path::Path::new(file))?;
        let mode = Mode::new(mode);
        if let Some(own) = mode.config(cfg.space)
            && own.model.has_tiers() != cfg.model.has_tiers()
        {
            bail!(
                "--config {c}: the {} mode is a `model: {}` predictor, and {file} is `model: {}`",
                mode.name(),
                own.model.name(),
                cfg.model.name()
            );
        }
        configs.push(ModeConfig { mode, config: cfg, file: Some(file.into()) });
    }
    let known = Mode::built_in();
    for m in &a.modes {
        if !known.contains(m) && !configs.iter().any(|c| c.mode.name() == m) {
            bail!(
                "--modes: unknown mode {m:?}: give it a configuration (--config {m}=FILE) or use one of {}",
                known.join(", ")
            );
        }
    }
    let transfer =
        a.transfer_from.as_deref().map(|from| Transfer { from: Task::named(from), labels: a.transfer_labels });
    let opts = PredictorStudyOptions {
        transfer,
        configs,
        benchmarks,
        modes: a.modes.iter().map(|m| Mode::new(m)).collect(),
        budgets: a.budgets,
        seeds: a.seeds as u64,
        first_seed: a.first_seed,
        epochs: a.epochs,
        datasets: {
            let mut d = vec![(SpaceKind::Nb201, nb201), (SpaceKind::Nb101, nb101)];
            if let Some(space) = a.space {
                let store = a.tables.len() == 1 && a.tables[0].extension().is_some_and(|e| e == "nar");
                d.push((
                    space,
                    if store {
                        DataSource::Store(a.tables[0].clone())
                    } else {
                        DataSource::Metrics { space, files: a.tables.clone() }
                    },
                ));
            }
            d
        },
        csv: a.csv.clone(),
        html: a.html.clone(),
    };
    let (_, summary) = study(&opts, &Terminal::new())?;
    print!("{}", markdown(&summary));
    eprintln!("cells: {}", a.csv.display());
    if let Some(h) = &a.html {
        eprintln!("page: {}", h.display());
    }
    Ok(ExitCode::SUCCESS)
}
