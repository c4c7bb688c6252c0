//! `nar eval`: the ranker of a run on every labelled architecture outside its training and
//! validation sets; writes the report and every prediction into the run.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Result, anyhow};

use super::{Model, load_model};
use crate::data::Dataset;
use crate::progress::Progress;
use crate::ranker::evaluate::{EvalReport, Prediction, evaluate as evaluate_held_out, evaluate_scores};
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
    let model = load_model(&run, which)?;
    if tiers {
        model.transformer()?;
    }
    let nt = run.cfg.ranker.n_tier;
    let (report, predictions) =
        with_dataset!(&run.ds, d => held_out(d, &run.meta, &model, nt, which, tiers, progress))?;
    run.dir.write_eval(&report, &predictions)?;
    Ok(Evaluation { report, n_tier: run.cfg.ranker.n_tier, meta: run.meta })
}

fn held_out<S: SearchSpace>(
    ds: &Dataset<S>,
    meta: &RunMeta,
    model: &Model,
    nt: usize,
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
    let r = match model {
        Model::Transformer(m) => {
            evaluate_held_out(m, &train_s, &held_s, batch, which.name(), tiers, &|n| progress.inc(n as u64))
        }
        Model::Gbdt(trees) => {
            let start = std::time::Instant::now();
            let score = trees.scores(&held_s.features, held_s.len());
            progress.inc(held_s.len() as u64);
            evaluate_scores(&held_s, &score, None, nt, crate::ranker::gbdt::EVAL_NAME, start.elapsed().as_secs_f64())
        }
    };
    progress.finish();
    Ok(r)
}
