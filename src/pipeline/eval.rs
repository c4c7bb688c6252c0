//! `nar eval`: the ranker of a run on every labelled architecture outside its training and
//! validation sets; writes the report and every prediction into the run.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Result, anyhow};

use super::load_ranker;
use crate::data::Dataset;
use crate::progress::Progress;
use crate::ranker::evaluate::{EvalReport, Prediction, evaluate as evaluate_held_out};
use crate::ranker::model::Ranker;
use crate::ranker::samples::Samples;
use crate::run_dir::{Checkpoint, OpenRun, RunMeta};
use crate::space::SearchSpace;
use crate::with_dataset;

/// A held-out evaluation and what it was measured against.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub report: EvalReport,
    pub meta: RunMeta,
    pub n_tier: usize,
}

/// Evaluates checkpoint `which` of the run in `root` (with `tiers`, the tier figures too); saves the
/// report and every prediction in the run.
pub fn evaluate(root: &Path, which: Checkpoint, tiers: bool, progress: &dyn Progress) -> Result<Evaluation> {
    let run = OpenRun::open(root)?;
    let model = load_ranker(&run, which)?;
    let (report, predictions) = with_dataset!(&run.ds, d => held_out(d, &run.meta, &model, which, tiers, progress))?;
    run.dir.write_eval(&report, &predictions)?;
    Ok(Evaluation { report, n_tier: run.cfg.ranker.n_tier, meta: run.meta })
}

fn held_out<S: SearchSpace>(
    ds: &Dataset<S>,
    meta: &RunMeta,
    model: &Ranker<f32>,
    which: Checkpoint,
    tiers: bool,
    progress: &dyn Progress,
) -> Result<(EvalReport, Vec<Prediction>)> {
    let network = S::network(meta.network).map_err(|e| anyhow!(e))?;
    let seen: HashSet<usize> = meta.train.iter().chain(&meta.val).copied().collect();
    let col = ds.metric(&meta.val_metric).ok_or_else(|| anyhow!("the dataset lost metric {}", meta.val_metric))?;
    let held: Vec<usize> = (0..ds.len()).filter(|i| !col[*i].is_nan() && !seen.contains(i)).collect();
    let train_s = Samples::new(ds, meta.train.clone(), network, &meta.val_metric, None)?;
    let held_s = Samples::new(ds, held, network, &meta.val_metric, meta.test_metric.as_deref())?;
    progress.start(held_s.len() as u64, "ranking");
    let batch = crate::ranker::predict::INFER_BATCH;
    let r = evaluate_held_out(model, &train_s, &held_s, batch, which.name(), tiers, &|n| progress.inc(n as u64));
    progress.finish();
    Ok(r)
}
