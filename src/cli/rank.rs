//! `nar rank`: every architecture of a run's space, scored by its ranker.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::pipeline::rank::{RankOptions, rank};
use crate::progress::Terminal;
use crate::run_dir::Checkpoint;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run directory of `nar train`.
    run_dir: PathBuf,
    /// How many of the best-ranked architectures to print.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Output CSV with every architecture's predicted tier and accuracy score (default: the run's ranking table).
    #[arg(short, long)]
    out: Option<PathBuf>,
    /// Which checkpoint's ranker.
    #[arg(long, value_parser = super::checkpoint_arg(), default_value = "best")]
    checkpoint: Checkpoint,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let opts = RankOptions { out: args.out, top: args.top, checkpoint: args.checkpoint };
    let s = rank(&args.run_dir, &opts, &Terminal::new())?;
    println!(
        "ranked {} architectures in {:.1} s ({:.0} archs/s); wrote {}",
        s.count,
        s.seconds,
        s.count as f64 / s.seconds,
        s.out.display()
    );
    println!("top {} by predicted accuracy (tier 1 = best):", s.top.len());
    for r in &s.top {
        let known = r.known.map_or(String::new(), |v| format!("  ({} {v:.4})", s.val_metric));
        println!("  {:<34} tier {}  score {:>9.4}{known}", r.id, r.tier, r.score);
    }
    Ok(ExitCode::SUCCESS)
}
