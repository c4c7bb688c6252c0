//! `nar eval`: the held-out evaluation of a run's ranker.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::pipeline::eval::{Evaluation, evaluate};
use crate::progress::Terminal;
use crate::ranker::checkpoint::Checkpoint;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run directory of `nar train`.
    run_dir: PathBuf,
    /// Which checkpoint to evaluate.
    #[arg(long, value_parser = super::checkpoint_arg(), default_value = "best")]
    checkpoint: Checkpoint,
    /// Also predict tiers (the whole model, about six times the work) for the tier accuracy and
    /// confusion matrix; the ranking figures need the score alone.
    #[arg(long)]
    tiers: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let e = evaluate(&args.run_dir, args.checkpoint, args.tiers, &Terminal::new())?;
    print_evaluation(&e);
    Ok(ExitCode::SUCCESS)
}

pub(super) fn print_evaluation(e: &Evaluation) {
    let (r, m) = (&e.report, &e.meta);
    println!("held-out architectures   {}", r.held_out);
    match r.tier_acc {
        Some(acc) => println!("tier accuracy            {acc:.4}  (chance {:.2})", 1.0 / e.n_tier as f64),
        None if Checkpoint::from_name(&r.checkpoint).is_none() => {
            println!("tier accuracy            none (model: {} predicts a score only)", r.checkpoint)
        }
        None => println!("tier accuracy            not computed (--tiers)"),
    }
    println!(
        "Kendall τ / Spearman ρ   {:.4} / {:.4}  (predicted accuracy vs {})",
        r.kendall_val, r.spearman_val, m.val_metric
    );
    if let (Some(k), Some(s)) = (r.kendall_test, r.spearman_test) {
        println!("  vs test accuracy       {k:.4} / {s:.4}  (test accuracy read for reporting only)");
    }
    match r.kendall_params_baseline {
        Some(f) => println!("zero-cost floor          τ {f:.4}  (total parameters vs {})", m.val_metric),
        None => println!("zero-cost floor          none (the space has no cost model)"),
    }
    let floor_p = |k: usize| {
        r.precision_at_k_params_baseline
            .iter()
            .find(|(j, _)| *j == k)
            .map_or(String::new(), |(_, p)| format!("   floor {p:.3}"))
    };
    for (k, p) in &r.precision_at_k {
        println!("precision@{k:<5}          {p:.3}{}", floor_p(*k));
    }
    if let Some(t) = &r.top {
        let floor = r.top_params_baseline.as_ref();
        println!(
            "predicted best           true rank {} of {}, {} {:.4} (best {:.4}){}",
            t.rank_of_predicted_best,
            r.held_out,
            m.val_metric,
            t.value_of_predicted_best,
            t.best,
            floor.map_or(String::new(), |f| format!(
                "   floor: rank {}, {:.4}",
                f.rank_of_predicted_best, f.value_of_predicted_best
            ))
        );
        for (k, v) in &t.best_in_top {
            let f = floor.and_then(|f| f.best_in_top.iter().find(|(j, _)| j == k)).map(|(_, v)| *v);
            println!(
                "best of predicted top {k:<3} {v:.4} (regret {:.4}){}",
                t.best - v,
                f.map_or(String::new(), |f| format!("   floor {f:.4} (regret {:.4})", t.best - f))
            );
        }
    }
    println!("throughput               {:.0} archs/s", r.archs_per_second);
}
