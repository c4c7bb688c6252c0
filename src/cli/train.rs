//! `nar train`: a new run, or `--resume` a stopped one.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::config::Config;
use crate::pipeline::train::{self, TrainOptions, TrainSummary};
use crate::progress::Terminal;
use crate::space::Task;
use crate::spaces::DataSource;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// YAML configuration (NAR's config.yml / config201.yml work as they are; see configs/).
    #[arg(long, required_unless_present = "resume")]
    config: Option<PathBuf>,
    /// The dataset: a `.nar` file or a space name (`nb201` falls back to the table built into nar).
    #[arg(long, required_unless_present = "resume")]
    data: Option<String>,
    /// The task whose accuracies and network to use (the built-in spaces' tasks are image data sets:
    /// NB201 cifar10, cifar100, imagenet16; NB101 cifar10); default from the config. `--dataset` is
    /// its old name.
    #[arg(long, alias = "dataset", value_parser = super::task_arg())]
    task: Option<Task>,
    /// The run directory (created; an existing one is refused unless --resume or --force).
    #[arg(long, short)]
    out: PathBuf,
    /// Continue the run in `--out` from its last checkpoint.
    #[arg(long, conflicts_with_all = ["config", "data", "task", "epochs", "budget", "force"])]
    resume: bool,
    /// Replace the run already in `--out` (a non-empty `--out` is refused otherwise).
    #[arg(long)]
    force: bool,
    /// Train for this many epochs instead of the config's `ranker_epochs`.
    #[arg(long, value_parser = super::positive())]
    epochs: Option<usize>,
    /// Query budget: how many labelled architectures training and validation may see together (split
    /// in the config's train/val proportion).
    #[arg(long, value_parser = super::positive())]
    budget: Option<usize>,
    /// Data directory for dataset names.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Do not write the run's HTML report at the end.
    #[arg(long)]
    no_report: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let progress = Terminal::new();
    let summary = if args.resume {
        train::resume(&args.out, &progress)?
    } else {
        let (Some(config), Some(data)) = (&args.config, &args.data) else { bail!("--config and --data are required") };
        let data_dir = args.data_dir.clone().unwrap_or_else(crate::data::default_data_dir);
        let opts = TrainOptions {
            config: Config::load(config)?,
            data: DataSource::from_arg(data, &data_dir)?,
            out: args.out.clone(),
            task: args.task,
            epochs: args.epochs,
            budget: args.budget,
            replace: args.force,
        };
        train::train(&opts, &progress)?
    };
    print_trained(&summary);
    if !args.no_report {
        super::report::announce(&summary.run);
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn print_trained(s: &TrainSummary) {
    match s.fit.fit_kendall {
        Some(tau) => eprintln!(
            "done in {:.1} s; Kendall τ {tau:.4} on the labelled architectures it fitted (`nar eval` ranks the others); run directory {}",
            s.seconds,
            s.run.root().display()
        ),
        None => eprintln!(
            "done in {:.1} s; best validation tier accuracy {:.4} (epoch {}); run directory {}",
            s.seconds,
            s.fit.best_val_acc.unwrap_or(f64::NAN),
            s.fit.best_epoch.map_or("-".to_string(), |e| e.to_string()),
            s.run.root().display()
        ),
    }
}
