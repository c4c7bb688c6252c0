//! `nar bench`: the speed benchmarks of [`crate::speed`], printed. Figures, not pass/fail.

use std::process::ExitCode;

use anyhow::Result;

use crate::speed::{BenchOptions, Size, What};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to measure: `space` (enumeration — the built-in NB101 beside its declaration
    /// spaces/nb101.yaml —, cost model, encoding), `data` (store vs NAR JSON),
    /// `train` (a training step and full inference), `infer` (score-only and full inference) or
    /// `predictors` (the `best` predictor's fit and scoring of a whole space; the forest beside
    /// scikit-learn's with `--python`) or `search` (one guided-search seed to 300 queries on NB201
    /// CIFAR-10, beside the baselines, and one seed of the guided front search, `mo-nar`, val vs FLOPs).
    #[arg(default_value = "space", value_parser = super::EnumArg { all: &What::ALL, name: |w| w.name() })]
    what: What,
    /// How many times to repeat the NB201 measurements (the space is small).
    #[arg(long, default_value_t = 20, value_parser = super::positive())]
    nb201_repeats: usize,
    /// `data`: where to write the generated files (default: a temporary directory, removed after).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
    /// `train`: which reference size(s) to measure.
    #[arg(long, default_value = "both", value_parser = super::EnumArg { all: &Size::ALL, name: |s| s.name() })]
    size: Size,
    /// `train`: training steps to time (after one warm-up step).
    #[arg(long, default_value_t = 3, value_parser = super::positive())]
    steps: usize,
    /// `train`: batch size (default: the reference's, 256 for NB101 and 128 for NB201); `infer`: the
    /// inference batch (default: the one `nar rank` uses).
    #[arg(long, value_parser = super::positive())]
    batch: Option<usize>,
    /// `train`, `infer`: also run bench/torch_ranker.py with this Python (needs torch) and print the
    /// ratios; `predictors`: bench/sklearn_forest.py (needs scikit-learn) on the same features.
    #[arg(long)]
    python: Option<String>,
}

impl Args {
    /// Whether this benchmark runs the ranker.
    pub fn is_train(&self) -> bool {
        self.what.runs_the_ranker()
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let opts = BenchOptions {
        nb201_repeats: args.nb201_repeats,
        dir: args.dir,
        size: args.size,
        steps: args.steps,
        batch: args.batch,
        python: args.python,
    };
    crate::speed::run(args.what, &opts, &mut |line| println!("{line}"))?;
    Ok(ExitCode::SUCCESS)
}
