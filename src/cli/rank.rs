//! `nar rank`: every architecture of a run's search space, scored by its ranker.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::pipeline::rank::{RankOptions, rank};
use crate::progress::Terminal;
use crate::ranker::checkpoint::Checkpoint;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run directory of `nar train`.
    run_dir: PathBuf,
    /// How many of the best-ranked architectures to print.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Output CSV with every architecture's predicted accuracy score (and tier with --tiers); default:
    /// the run's ranking table.
    #[arg(short, long)]
    out: Option<PathBuf>,
    /// Which checkpoint's ranker.
    #[arg(long, value_parser = super::checkpoint_arg(), default_value = "best")]
    checkpoint: Checkpoint,
    /// Also predict every architecture's tier (the whole model, about six times the work).
    #[arg(long)]
    tiers: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let opts = RankOptions { out: args.out, top: args.top, checkpoint: args.checkpoint, tiers: args.tiers };
    let s = rank(&args.run_dir, &opts, &Terminal::new())?;
    println!(
        "ranked {} architectures in {:.1} s ({:.0} archs/s); wrote {}",
        s.count,
        s.seconds,
        s.count as f64 / s.seconds,
        s.out.display()
    );
    println!("top {} by predicted accuracy{}:", s.top.len(), if args.tiers { " (tier 1 = best)" } else { "" });
    for r in &s.top {
        let known = r.known.map_or(String::new(), |v| format!("  ({} {v:.4})", s.val_metric));
        let tier = r.tier.map_or(String::new(), |t| format!("tier {t}  "));
        println!("  {:<34} {tier}score {:>9.4}{known}", r.id, r.score);
    }
    Ok(ExitCode::SUCCESS)
}
