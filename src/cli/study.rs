//! `nar study predictors`: reference, improved and tree predictors against the labelled budget.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};

use crate::data::{DataSource, default_data_dir};
use crate::pipeline::predictors::{Benchmark, Mode, PredictorStudyOptions, markdown, study};
use crate::progress::Terminal;
use crate::ranker::config::{Config, ModelKind};
use crate::space::SpaceKind;

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
    /// Benchmarks, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "nb201-cifar10,nb201-cifar100,nb201-imagenet16,nb101",
          value_parser = clap::builder::PossibleValuesParser::new(["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16", "nb101"]))]
    benchmarks: Vec<String>,
    /// Predictor modes, comma-separated: NAR's reference transformer, nar's improved one, the trees.
    #[arg(long, value_delimiter = ',', default_value = "reference,improved,gbdt",
          value_parser = clap::builder::PossibleValuesParser::new(["reference", "improved", "gbdt"]))]
    modes: Vec<String>,
    /// Labelled architectures per cell (training + validation), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,200,424,1000", value_parser = super::positive())]
    budgets: Vec<usize>,
    /// Seeds per cell (0, 1, …: each draws its own split and model initialisation).
    #[arg(long, default_value_t = 3, value_parser = super::positive())]
    seeds: usize,
    /// Train the transformer modes for this many epochs instead of their configurations' `ranker_epochs`.
    #[arg(long, value_parser = super::positive())]
    epochs: Option<usize>,
    /// Replace a mode's configuration for its space, for ablations: `MODE=FILE` (repeatable), e.g.
    /// `--config improved=my-nb201.yaml`.
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
}

pub fn run(args: Args) -> Result<ExitCode> {
    let What::Predictors(a) = args.what;
    let benchmarks: Vec<Benchmark> =
        a.benchmarks.iter().map(|b| Benchmark::from_name(b).expect("a possible value")).collect();
    let nb101 = if benchmarks.iter().any(|b| b.space == SpaceKind::Nb101) {
        let store = a.nb101.extension().is_some_and(|e| e == "nar");
        Some(match store {
            true => DataSource::from_arg(&a.nb101.to_string_lossy(), &default_data_dir())?,
            false => DataSource::Metrics { space: SpaceKind::Nb101, files: vec![a.nb101.clone()] },
        })
    } else {
        None
    };
    let mut configs = Vec::new();
    for c in &a.configs {
        let Some((mode, file)) = c.split_once('=') else {
            bail!("--config {c}: expected MODE=FILE (reference, improved or gbdt)")
        };
        let mode = Mode::from_name(mode)
            .ok_or_else(|| anyhow!("--config {c}: unknown mode {mode:?} (reference, improved or gbdt)"))?;
        let cfg = Config::load(std::path::Path::new(file))?;
        let is_trees = cfg.model == ModelKind::Gbdt;
        if is_trees != (mode == Mode::Gbdt) {
            bail!(
                "--config {c}: the {} mode takes a {} configuration",
                mode.name(),
                if is_trees { "transformer" } else { "`model: gbdt`" }
            );
        }
        configs.push((mode, cfg));
    }
    let opts = PredictorStudyOptions {
        configs,
        benchmarks,
        modes: a.modes.iter().map(|m| Mode::from_name(m).expect("a possible value")).collect(),
        budgets: a.budgets,
        seeds: a.seeds as u64,
        epochs: a.epochs,
        nb201: a.nb201.map_or(DataSource::EmbeddedNb201, DataSource::Store),
        nb101,
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
