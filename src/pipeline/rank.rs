//! `nar rank`: every architecture of the run's search space (the whole space, not only the
//! dataset's), scored by the run's ranker and written to CSV with the best few kept for printing.
//!
//! A pipeline over chunks of the enumerated space: each chunk is encoded on all threads, scored in
//! batches of [`INFER_BATCH`] (the score alone, or with `tiers` the whole model) and written out
//! before the next is encoded; the space is held once (its architectures), features only per chunk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, anyhow};

use super::OpenRun;
use super::loaded::train_embeddings;
use super::{load_predictor, transformer};
use crate::data::Dataset;
use crate::features::Featurize;
use crate::io::write_atomic;
use crate::predictor::{ArchList, Predictor};
use crate::progress::{Progress, Quiet};
use crate::ranker::checkpoint::Checkpoint;
use crate::ranker::infer::Workspace;
use crate::ranker::model::Ranker;
use crate::ranker::predict::{INFER_BATCH, argmax};
use crate::ranker::samples::features;
use crate::run_dir::RunMeta;
use crate::with_dataset;

/// Architectures encoded and scored per pipeline step.
const CHUNK: usize = 8 * INFER_BATCH;

/// What to rank with and where to write.
#[derive(Clone, Debug)]
pub struct RankOptions {
    /// The CSV to write (default: [`crate::run_dir::RunDir::ranking_path`]).
    pub out: Option<PathBuf>,
    /// How many of the best-scored architectures to return.
    pub top: usize,
    pub checkpoint: Checkpoint,
    /// Also predict every architecture's tier (the whole model, about six times the work).
    pub tiers: bool,
}

/// One architecture among the best scored.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    pub id: String,
    /// Predicted tier, 1 = best (when tiers were asked for).
    pub tier: Option<usize>,
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

/// Ranks every architecture of the run's space; writes the CSV (`id, predicted_score[, predicted_tier]`,
/// in the space's canonical order).
pub fn rank(root: &Path, opts: &RankOptions, progress: &dyn Progress) -> Result<RankSummary> {
    let run = OpenRun::open(root)?;
    let model = load_predictor(&run, opts.checkpoint)?;
    let tier_model = opts.tiers.then(|| transformer(model.as_ref(), &run.cfg)).transpose()?;
    let out = opts.out.clone().unwrap_or_else(|| run.dir.ranking_path());
    run.dir.refuse_output(&out, &run.dir.ranking_path(), &run.meta)?;
    with_dataset!(&run.ds, d => rank_space(d, &run.meta, model.as_ref(), tier_model, out, opts, progress))
}

fn rank_space<S: Featurize + crate::space::Enumerable>(
    ds: &Dataset<S>,
    meta: &RunMeta,
    model: &dyn Predictor,
    tier_model: Option<&Ranker<f32>>,
    out: PathBuf,
    opts: &RankOptions,
    progress: &dyn Progress,
) -> Result<RankSummary> {
    let network = S::network(meta.task).map_err(|e| anyhow!(e))?;
    let tiers = tier_model.map(|m| train_embeddings(ds, meta, m).map(|emb| (m, emb))).transpose()?;
    let start = Instant::now();
    let space = S::all();
    let position: HashMap<S::Id, usize> = ds.ids().iter().enumerate().map(|(i, id)| (*id, i)).collect();
    progress.start(space.len() as u64, "ranking");
    let mut best: Vec<(f64, Option<usize>, usize)> = Vec::new();
    let mut ws = Workspace::default();
    write_atomic(&out, |w| {
        let mut csv = csv::Writer::from_writer(w);
        let mut header = vec![S::id_column(), "predicted_score"];
        header.extend(opts.tiers.then_some("predicted_tier"));
        csv.write_record(&header)?;
        for (c, chunk) in space.chunks(CHUNK).enumerate() {
            let archs: Vec<S::Arch> = chunk.iter().map(|(a, _)| *a).collect();
            // The chunk's scores (and tiers): the whole model in batches, or the predictor's scores.
            let (score, tier): (Vec<f64>, Vec<Option<usize>>) = match &tiers {
                Some((m, emb)) => {
                    let x = features::<S>(&archs, network);
                    let feat = x.len() / chunk.len();
                    let (mut score, mut tier) = (Vec::with_capacity(chunk.len()), Vec::with_capacity(chunk.len()));
                    for start in (0..chunk.len()).step_by(INFER_BATCH) {
                        let n = INFER_BATCH.min(chunk.len() - start);
                        let (logits, s) = m.infer(&x[start * feat..(start + n) * feat], n, emb, &mut ws);
                        score.extend(s.iter().map(|v| f64::from(*v)));
                        tier.extend(logits.chunks(m.cfg.n_tier).map(|l| Some(argmax(l))));
                    }
                    (score, tier)
                }
                None => (model.scores(&ArchList::<S> { archs: &archs, network }, &Quiet)?, vec![None; chunk.len()]),
            };
            if progress.cancelled() {
                return Err(crate::progress::Cancelled.into());
            }
            for (i, ((_, id), (&s, t))) in chunk.iter().zip(score.iter().zip(&tier)).enumerate() {
                let mut rec = vec![id.to_string(), format!("{s:.6}")];
                rec.extend(t.map(|t| (t + 1).to_string()));
                csv.write_record(&rec)?;
                best.push((s, *t, c * CHUNK + i));
            }
            progress.inc(chunk.len() as u64);
            best.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2)));
            best.truncate(opts.top);
        }
        csv.flush()?;
        Ok(())
    })?;
    progress.finish();
    let val = ds.metric(&meta.val_metric);
    let known = |id: &S::Id| Some(val?[*position.get(id)?]).filter(|v| !v.is_nan());
    Ok(RankSummary {
        out,
        count: space.len(),
        seconds: start.elapsed().as_secs_f64(),
        val_metric: meta.val_metric.clone(),
        top: best
            .into_iter()
            .map(|(score, t, i)| {
                let id = &space[i].1;
                Ranked { id: id.to_string(), tier: t.map(|t| t + 1), score, known: known(id) }
            })
            .collect(),
    })
}
