//! `nar run`: the main job in one command — build (or open) the dataset, train, evaluate, search.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use super::search::SearchArgs;
use super::train::{EvalArgs, TrainArgs};
use crate::data::{self, store};
use crate::io::write_atomic;
use crate::space::{Nb101, Nb201, SpaceKind};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The search space.
    #[arg(long, value_enum, default_value = "nb201")]
    space: SpaceKind,
    /// NB201: which dataset's accuracies (cifar10, cifar100, imagenet16).
    #[arg(long, default_value = "cifar10")]
    dataset: String,
    /// Metric files to build the dataset from (see `nar data build`); or give `--data`.
    #[arg(long = "metrics", short = 'm')]
    metrics: Vec<PathBuf>,
    /// An existing dataset (`.nar` or a space name in the data directory) instead of `--metrics`.
    #[arg(long)]
    data: Option<String>,
    /// Configuration (default: the reference configuration of the space, configs/nb101.yaml or nb201.yaml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The run directory.
    #[arg(long, short)]
    out: PathBuf,
    /// Training epochs (default: the configuration's).
    #[arg(long)]
    epochs: Option<usize>,
    /// Query budget: labelled architectures training and validation may see.
    #[arg(long)]
    budget: Option<usize>,
    /// Search seeds.
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// Search iterations per seed.
    #[arg(long, default_value_t = 50)]
    iterations: usize,
    /// Do not write RUN_DIR/report.html.
    #[arg(long)]
    no_report: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    std::fs::create_dir_all(&args.out)?;
    let data_path = match (&args.data, args.metrics.is_empty()) {
        (Some(d), _) => d.clone(),
        (None, false) => {
            let path = args.out.join("dataset.nar");
            eprintln!("building the {} dataset into {}", args.space, path.display());
            match args.space {
                SpaceKind::Nb101 => {
                    store::write(&data::build::<Nb101>(&args.metrics, &mut |l| eprintln!("{l}"))?, &path)?
                }
                SpaceKind::Nb201 => {
                    store::write(&data::build::<Nb201>(&args.metrics, &mut |l| eprintln!("{l}"))?, &path)?
                }
            }
            path.display().to_string()
        }
        (None, true) => bail!("give --metrics FILE (e.g. ../shared/data/nb201/nb201_accuracy.csv) or --data DATASET"),
    };
    let config = match &args.config {
        Some(c) => c.clone(),
        None => {
            let text = match args.space {
                SpaceKind::Nb101 => include_str!("../../configs/nb101.yaml"),
                SpaceKind::Nb201 => include_str!("../../configs/nb201.yaml"),
            };
            let p = args.out.join("reference-config.yaml");
            write_atomic(&p, |w| Ok(w.write_all(text.as_bytes())?))?;
            p
        }
    };
    super::train::train(TrainArgs {
        config: Some(config),
        data: Some(data_path),
        dataset: (args.space == SpaceKind::Nb201).then(|| args.dataset.clone()),
        out: args.out.clone(),
        resume: false,
        epochs: args.epochs,
        budget: args.budget,
        data_dir: None,
        no_report: true,
    })?;
    println!("== evaluation on the held-out architectures");
    super::train::eval(EvalArgs { run_dir: args.out.clone(), checkpoint: "best".into() })?;
    println!("== search");
    super::search::search(SearchArgs {
        run_dir: args.out.clone(),
        iterations: args.iterations,
        seeds: args.seeds,
        checkpoint: "best".into(),
        no_report: args.no_report,
    })?;
    println!("run directory: {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
