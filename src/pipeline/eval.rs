//! `nar eval`: the ranker of a run on every labelled architecture outside its training and
//! validation sets; writes the report and every prediction into the run.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Result, anyhow, bail};

use super::OpenRun;
use super::{load_predictor, transformer};
use crate::config::Config;
use crate::data::Dataset;
use crate::features::Featurize;
use crate::predictor::{ArchList, Predictor};
use crate::progress::Progress;
use crate::ranker::checkpoint::Checkpoint;
use crate::ranker::evaluate::{EvalReport, Prediction, evaluate as evaluate_held_out, evaluate_scores};
use crate::ranker::samples::Samples;
use crate::run_dir::RunMeta;
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
    let model = load_predictor(&run, which)?;
    if tiers {
        transformer(model.as_ref(), &run.cfg)?;
    }
    let (report, predictions) =
        with_dataset!(&run.ds, d => held_out(d, &run.meta, &run.cfg, model.as_ref(), which, tiers, progress))?;
    run.dir.write_eval(&report, &predictions)?;
    Ok(Evaluation { report, n_tier: run.cfg.ranker.n_tier, meta: run.meta })
}

/// What an evaluation names as its model: the checkpoint of a transformer, else the model.
pub fn eval_name(cfg: &Config, which: Checkpoint) -> &'static str {
    if cfg.model.holds_out_validation() { which.name() } else { cfg.model.name() }
}

#[allow(clippy::too_many_arguments)]
fn held_out<S: Featurize>(
    ds: &Dataset<S>,
    meta: &RunMeta,
    cfg: &Config,
    model: &dyn Predictor,
    which: Checkpoint,
    tiers: bool,
    progress: &dyn Progress,
) -> Result<(EvalReport, Vec<Prediction>)> {
    let network = S::network(meta.task).map_err(|e| anyhow!(e))?;
    let seen: HashSet<usize> = meta.train.iter().chain(&meta.val).copied().collect();
    let col = ds.metric(&meta.val_metric).ok_or_else(|| anyhow!("the dataset lost metric {}", meta.val_metric))?;
    let held: Vec<usize> = (0..ds.len()).filter(|i| !col[*i].is_nan() && !seen.contains(i)).collect();
    if held.is_empty() {
        bail!(
            "every architecture labelled with {} is in the run's training or validation set: nothing is held out to evaluate on (a smaller --budget leaves some)",
            meta.val_metric
        );
    }
    let held_s = Samples::new(ds, held.clone(), network, &meta.val_metric, meta.test_metric.as_deref())?;
    let batch = crate::ranker::predict::INFER_BATCH;
    let nt = cfg.ranker.n_tier;
    if tiers {
        let m = transformer(model, cfg)?;
        let train_s = Samples::new(ds, meta.train.clone(), network, &meta.val_metric, None)?;
        progress.start(held_s.len() as u64, "ranking");
        let r = evaluate_held_out(m, &train_s, &held_s, batch, which.name(), true, &|n| progress.inc(n as u64));
        progress.finish();
        return Ok(r);
    }
    let start = std::time::Instant::now();
    let archs = ds.archs_at(&held);
    let score = model.scores(&ArchList::<S> { archs: &archs, network }, progress)?;
    Ok(evaluate_scores(&held_s, &score, None, nt, eval_name(cfg, which), start.elapsed().as_secs_f64()))
}
