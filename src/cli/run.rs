//! `nar run`: the main job in one command — dataset, training, evaluation, search, report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::config::Config;
use crate::pipeline::run::{RunOptions, Step, run as run_job};
use crate::pipeline::train::TrainOptions;
use crate::progress::Terminal;
use crate::space::{SpaceKind, Task};
use crate::spaces::DataSource;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The search space.
    #[arg(long, value_parser = super::space_arg(), default_value = "nb201")]
    space: SpaceKind,
    /// The task whose accuracies and network to use (the built-in spaces' tasks are image data sets:
    /// NB201 cifar10, cifar100, imagenet16; NB101 cifar10); default: the space's first. `--dataset`
    /// is its old name.
    #[arg(long, alias = "dataset", value_parser = super::task_arg())]
    task: Option<Task>,
    /// Metric files to build the dataset from (see `nar data build`) instead of the built-in NB201 table.
    #[arg(long = "metrics", short = 'm', conflicts_with = "data")]
    metrics: Vec<PathBuf>,
    /// An existing dataset (`.nar` or a space name in the data directory) instead of the built-in table.
    #[arg(long)]
    data: Option<String>,
    /// Data directory for dataset names.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Configuration (default: the space's reference configuration, configs/nb101.yaml or nb201.yaml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The run directory (default: runs/<space>-<dataset>); an existing run is refused unless --resume
    /// or --force.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Continue the run in the run directory from its last checkpoint, then evaluate, search, report.
    #[arg(long, conflicts_with = "force")]
    resume: bool,
    /// Replace the run in the run directory.
    #[arg(long)]
    force: bool,
    /// Training epochs (default: the configuration's).
    #[arg(long, value_parser = super::positive())]
    epochs: Option<usize>,
    /// Query budget: labelled architectures training and validation may see.
    #[arg(long, value_parser = super::positive())]
    budget: Option<usize>,
    /// Search seeds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    /// Search iterations per seed.
    #[arg(long, default_value_t = 50, value_parser = super::positive())]
    iterations: usize,
    /// Seeds of the budgeted comparison at the run's budget (nar's guided search, random search, REA,
    /// local search); 0 skips it.
    #[arg(long, default_value_t = 3)]
    compare_seeds: u64,
    /// Do not write the run's HTML report.
    #[arg(long)]
    no_report: bool,
    /// The comparison's objectives, comma-separated (as `nar search --objectives`: `val` first, then
    /// costs such as `flops`, `params` or a cost column): the multi-objective methods join it, and each
    /// run's front is measured and drawn in the report.
    #[arg(long, value_delimiter = ',')]
    objectives: Vec<String>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let data = match (&args.data, args.metrics.is_empty(), args.space) {
        (Some(d), _, _) => {
            DataSource::from_arg(d, &args.data_dir.clone().unwrap_or_else(crate::data::default_data_dir))?
        }
        (None, false, space) => DataSource::Metrics { space, files: args.metrics.clone() },
        (None, true, space) => match DataSource::built_in(space) {
            Some(built_in) => built_in,
            None => bail!(
                "{space} has no built-in table: give --metrics FILE (e.g. data/nb101/nb101_subset_1k.csv) or --data DATASET"
            ),
        },
    };
    let config = match &args.config {
        Some(c) => Config::load(c)?,
        None => Config::reference(args.space),
    };
    let task = super::task_of(args.space, args.task)?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("runs/{}-{task}", args.space)));
    let opts = RunOptions {
        train: TrainOptions {
            config,
            data,
            out,
            task: Some(task),
            epochs: args.epochs,
            budget: args.budget,
            replace: args.force,
        },
        iterations: args.iterations,
        seeds: args.seeds,
        compare_seeds: args.compare_seeds,
        report: !args.no_report,
        resume: args.resume,
        objectives: args.objectives.clone(),
    };
    let progress = Terminal::new();
    run_job(&opts, &progress, &mut |step| match step {
        Step::Trained(s) => {
            super::train::print_trained(s);
            println!("== evaluation on the held-out architectures");
        }
        Step::Evaluated(e) => {
            super::eval::print_evaluation(e);
            println!("== search");
        }
        Step::Searched(s) => super::search::print_search(s),
        Step::NotSearched(why) => println!("not run: {why}"),
        Step::Compared(s) => {
            println!("== budgeted search at the same budget (nar's guided search vs the baselines)");
            super::search::print_study(s);
        }
        Step::Reported(outcome) => super::report::print_outcome(&outcome),
    })?;
    println!("run directory: {}", opts.train.out.display());
    Ok(ExitCode::SUCCESS)
}
