//! `nar reference-search RUN_DIR`: NAR's tier-based reference search with a trained run's ranker, next
//! to the honest pick and random search at the same query budget (`nar search RUN_DIR`, its old
//! spelling, runs the same). The budgeted comparison of search methods on a space is `nar search
//! --space`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

use crate::pipeline::search::{SearchOptions, search};
use crate::progress::Terminal;
use crate::ranker::checkpoint::Checkpoint;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A run directory of `nar train` or `nar run` whose predictor has tiers (NAR's transformer).
    run_dir: PathBuf,
    /// Iterations per seed (the reference runs 50).
    #[arg(long, default_value_t = 50, value_parser = super::positive())]
    iterations: usize,
    /// Independent seeds; results per seed and as mean ± std (at most 10,000).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    seeds: u64,
    /// Which checkpoint's ranker and statistics.
    #[arg(long, value_parser = super::checkpoint_arg(), default_value = "best")]
    checkpoint: Checkpoint,
    /// Do not write the run's HTML report at the end.
    #[arg(long)]
    no_report: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    run_in(
        &args.run_dir,
        SearchOptions { iterations: args.iterations, seeds: args.seeds, checkpoint: args.checkpoint },
        args.no_report,
    )
}

/// Runs the reference search in `run_dir`, prints it and announces the report.
pub(super) fn run_in(run_dir: &Path, opts: SearchOptions, no_report: bool) -> Result<ExitCode> {
    let summary = search(run_dir, opts, &Terminal::new())?;
    super::search::print_search(&summary);
    if !no_report {
        super::report::announce(&crate::run_dir::RunDir::open(run_dir)?);
    }
    Ok(ExitCode::SUCCESS)
}
