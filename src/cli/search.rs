//! `nar search`, `nar rank` and `nar run`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Result, anyhow};

use super::train::open_run;
use crate::data::Dataset;
use crate::io::write_atomic;
use crate::ranker::checkpoint::TrainState;
use crate::ranker::config::Config;
use crate::ranker::model::Ranker;
use crate::ranker::train::{RunMeta, Samples, predict, reference_embeddings};
use crate::sampler::Propose;
use crate::search::{self, Benchmark, SeedResult, Settings, mean_std};
use crate::space::SearchSpace;
use crate::with_dataset;

#[derive(clap::Args, Debug)]
pub struct SearchArgs {
    /// The run directory of `nar train`.
    pub run_dir: PathBuf,
    /// Search iterations (the reference runs 50).
    #[arg(long, default_value_t = 50)]
    pub iterations: usize,
    /// Independent search seeds (0..K); results are reported per seed and as mean ± std.
    #[arg(long, default_value_t = 5)]
    pub seeds: u64,
    /// Which checkpoint's ranker and statistics to search with.
    #[arg(long, default_value = "best")]
    pub checkpoint: String,
    /// Do not write RUN_DIR/report.html at the end.
    #[arg(long)]
    pub no_report: bool,
}

#[derive(clap::Args, Debug)]
pub struct RankArgs {
    /// The run directory of `nar train`.
    run_dir: PathBuf,
    /// How many of the best-ranked architectures to print.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Output CSV with every architecture's predicted tier and accuracy score (default RUN_DIR/ranking.csv).
    #[arg(short, long)]
    out: Option<PathBuf>,
    #[arg(long, default_value = "best")]
    checkpoint: String,
}

pub fn search(args: SearchArgs) -> Result<ExitCode> {
    let (cfg, meta, ds, model) = open_run(&args.run_dir, &args.checkpoint)?;
    let state = crate::ranker::checkpoint::load_state(&args.run_dir, &args.checkpoint)?;
    let results = with_dataset!(&ds, d => run_search(d, &cfg, &meta, &model, &state, &args))?;
    let path = args.run_dir.join("search.json");
    let json = serde_json::to_string_pretty(&results)?;
    write_atomic(&path, |w| Ok(w.write_all(json.as_bytes())?))?;
    println!("wrote {}", path.display());
    if !args.no_report {
        super::report::announce(&args.run_dir);
    }
    Ok(ExitCode::SUCCESS)
}

fn run_search<S: SearchSpace + Propose>(
    ds: &Dataset<S>,
    cfg: &Config,
    meta: &RunMeta,
    model: &Ranker<f32>,
    state: &TrainState,
    args: &SearchArgs,
) -> Result<Vec<SeedResult>> {
    let network = S::network(Some(&meta.network)).map_err(|e| anyhow!(e))?;
    let bench = Benchmark::new(ds, network, &meta.val_metric, meta.test_metric.as_deref());
    let settings = Settings::from_config(cfg, args.iterations)?;
    let budget = meta.train.len() + meta.val.len();
    let bar = super::progress(args.seeds * args.iterations as u64, "searching");
    let start = Instant::now();
    let mut results = Vec::new();
    for seed in 0..args.seeds {
        let done = seed * args.iterations as u64;
        results.push(search::search(model, &bench, &state.distri, &settings, budget, seed, &|i| {
            bar.set_position(done + i as u64)
        })?);
    }
    bar.finish_and_clear();
    print_summary(&bench, &results, budget, args.iterations, start.elapsed().as_secs_f64());
    Ok(results)
}

fn print_summary<S: SearchSpace>(
    b: &Benchmark<'_, S>,
    results: &[SeedResult],
    budget: usize,
    iterations: usize,
    secs: f64,
) {
    let optimum = b.labelled.iter().map(|&i| b.report[i]).fold(f64::NEG_INFINITY, f64::max);
    println!(
        "{} {}: {} labelled architectures; accuracy reported = {} (optimum {optimum:.2}); query budget {budget} (training + validation); {} seeds in {secs:.0} s",
        S::KIND,
        b.report_metric,
        b.labelled.len(),
        b.report_metric,
        results.len()
    );
    let line = |name: &str, v: Vec<(f64, usize)>| {
        let accs: Vec<f64> = v.iter().map(|x| x.0).collect();
        let mut ranks: Vec<usize> = v.iter().map(|x| x.1).collect();
        ranks.sort_unstable();
        let (m, s) = mean_std(&accs);
        println!(
            "  {name:<46} {m:>7.2} ± {s:<5.2}  median rank {:>6}",
            ranks.get(ranks.len() / 2).copied().unwrap_or(0)
        );
    };
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
            &format!("reference protocol, best-of-{iterations} top-{k} (peeks)"),
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

pub fn rank(args: RankArgs) -> Result<ExitCode> {
    let (cfg, meta, ds, model) = open_run(&args.run_dir, &args.checkpoint)?;
    let out = args.out.clone().unwrap_or_else(|| args.run_dir.join("ranking.csv"));
    with_dataset!(&ds, d => rank_space(d, &cfg, &meta, &model, &out, args.top))?;
    Ok(ExitCode::SUCCESS)
}

fn rank_space<S: SearchSpace>(
    ds: &Dataset<S>,
    cfg: &Config,
    meta: &RunMeta,
    model: &Ranker<f32>,
    out: &Path,
    top: usize,
) -> Result<()> {
    let network = S::network(Some(&meta.network)).map_err(|e| anyhow!(e))?;
    let train = Samples::new(ds, meta.train.clone(), network, &meta.val_metric, None)?;
    let tiers = reference_embeddings(model, &train, cfg.val_batch());
    let bar = super::progress(ds.len() as u64, "ranking");
    let start = Instant::now();
    let mut best: Vec<(f64, usize, usize)> = Vec::new();
    let chunk = 4096;
    write_atomic(out, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record([S::ID_COLUMN, "predicted_tier", "predicted_score"])?;
        for start_pos in (0..ds.len()).step_by(chunk) {
            let positions: Vec<usize> = (start_pos..(start_pos + chunk).min(ds.len())).collect();
            let s = Samples::unlabelled(ds, positions.clone(), network);
            let (tier, score) = predict(model, &s, &tiers, cfg.val_batch(), &|n| bar.inc(n as u64));
            for ((p, t), sc) in positions.iter().zip(&tier).zip(&score) {
                csv.write_record([ds.ids()[*p].to_string(), (t + 1).to_string(), format!("{sc:.6}")])?;
                best.push((*sc, *t, *p));
            }
            best.sort_by(|a, b| b.0.total_cmp(&a.0));
            best.truncate(top);
        }
        csv.flush()?;
        Ok(())
    })?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "ranked {} architectures in {secs:.1} s ({:.0} archs/s); wrote {}",
        ds.len(),
        ds.len() as f64 / secs,
        out.display()
    );
    let val = ds.metric(&meta.val_metric);
    println!("top {top} by predicted accuracy (tier 1 = best):");
    for (s, t, p) in best {
        let known = val
            .map(|v| v[p])
            .filter(|v| !v.is_nan())
            .map_or(String::new(), |v| format!("  ({} {v:.4})", meta.val_metric));
        println!("  {:<34} tier {}  score {s:>9.4}{known}", ds.ids()[p].to_string(), t + 1);
    }
    Ok(())
}
