//! `nar rank`: the predicted tier and accuracy score of every architecture of the run's space,
//! streamed to CSV in chunks, with the best few kept for printing.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, anyhow};

use super::load_ranker;
use crate::data::Dataset;
use crate::io::write_atomic;
use crate::progress::Progress;
use crate::ranker::config::Config;
use crate::ranker::model::Ranker;
use crate::ranker::predict::predict;
use crate::ranker::samples::Samples;
use crate::ranker::tiers::reference_embeddings;
use crate::run_dir::{Checkpoint, OpenRun, RunMeta};
use crate::space::SearchSpace;
use crate::with_dataset;

/// What to rank with and where to write.
#[derive(Clone, Debug)]
pub struct RankOptions {
    /// The CSV to write (default: [`crate::run_dir::RunDir::ranking_path`]).
    pub out: Option<PathBuf>,
    /// How many of the best-scored architectures to return.
    pub top: usize,
    pub checkpoint: Checkpoint,
}

/// One architecture among the best scored.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    pub id: String,
    /// Predicted tier, 1 = best.
    pub tier: usize,
    pub score: f64,
    /// The validation accuracy, where the dataset has it.
    pub known: Option<f64>,
}

/// What `rank` did.
#[derive(Clone, Debug)]
pub struct RankSummary {
    pub out: PathBuf,
    pub count: usize,
    pub seconds: f64,
    pub val_metric: String,
    pub top: Vec<Ranked>,
}

/// Ranks every architecture of the run's space; writes the CSV.
pub fn rank(root: &Path, opts: &RankOptions, progress: &dyn Progress) -> Result<RankSummary> {
    let run = OpenRun::open(root)?;
    let model = load_ranker(&run, opts.checkpoint)?;
    let out = opts.out.clone().unwrap_or_else(|| run.dir.ranking_path());
    with_dataset!(&run.ds, d => rank_space(d, &run.cfg, &run.meta, &model, out, opts.top, progress))
}

fn rank_space<S: SearchSpace>(
    ds: &Dataset<S>,
    cfg: &Config,
    meta: &RunMeta,
    model: &Ranker<f32>,
    out: PathBuf,
    top: usize,
    progress: &dyn Progress,
) -> Result<RankSummary> {
    let network = S::network(meta.network).map_err(|e| anyhow!(e))?;
    let train = Samples::new(ds, meta.train.clone(), network, &meta.val_metric, None)?;
    let tiers = reference_embeddings(model, &train, cfg.val_batch());
    progress.start(ds.len() as u64, "ranking");
    let start = Instant::now();
    let mut best: Vec<(f64, usize, usize)> = Vec::new();
    let chunk = 4096;
    write_atomic(&out, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record([S::ID_COLUMN, "predicted_tier", "predicted_score"])?;
        for start_pos in (0..ds.len()).step_by(chunk) {
            let positions: Vec<usize> = (start_pos..(start_pos + chunk).min(ds.len())).collect();
            let s = Samples::unlabelled(ds, positions.clone(), network);
            let (tier, score) = predict(model, &s, &tiers, cfg.val_batch(), &|n| progress.inc(n as u64));
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
    progress.finish();
    let val = ds.metric(&meta.val_metric);
    Ok(RankSummary {
        out,
        count: ds.len(),
        seconds: start.elapsed().as_secs_f64(),
        val_metric: meta.val_metric.clone(),
        top: best
            .into_iter()
            .map(|(score, t, p)| Ranked {
                id: ds.ids()[p].to_string(),
                tier: t + 1,
                score,
                known: val.map(|v| v[p]).filter(|v| !v.is_nan()),
            })
            .collect(),
    })
}
