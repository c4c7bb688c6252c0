//! `nar search`: NAR's reference search with a trained run, next to the honest pick and random search.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::pipeline::search::{SearchOptions, SearchSummary, search};
use crate::progress::Terminal;
use crate::run_dir::Checkpoint;
use crate::search::mean_std;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run directory of `nar train`.
    run_dir: PathBuf,
    /// Search iterations (the reference runs 50).
    #[arg(long, default_value_t = 50)]
    iterations: usize,
    /// Independent search seeds (0..K); results are reported per seed and as mean ± std.
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// Which checkpoint's ranker and statistics to search with.
    #[arg(long, value_parser = super::checkpoint_arg(), default_value = "best")]
    checkpoint: Checkpoint,
    /// Do not write the run's HTML report at the end.
    #[arg(long)]
    no_report: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let opts = SearchOptions { iterations: args.iterations, seeds: args.seeds, checkpoint: args.checkpoint };
    let summary = search(&args.run_dir, opts, &Terminal::new())?;
    print_search(&summary);
    if !args.no_report {
        super::report::announce(&crate::run_dir::RunDir::open(&args.run_dir)?);
    }
    Ok(ExitCode::SUCCESS)
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
