//! A run's trained ranker, loaded to score architectures the caller names (the Python package's
//! `Ranker`): the score alone, or the predicted tier, computed by the inference passes in batches.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Result, anyhow, bail};

use super::{Model, load_model};
use crate::data::Dataset;
use crate::progress::{Cancelled, Progress};
use crate::ranker::infer::Workspace;
use crate::ranker::model::Ranker;
use crate::ranker::predict::{INFER_BATCH, argmax};
use crate::ranker::samples::{Samples, features};
use crate::ranker::tiers::reference_embeddings;
use crate::run_dir::{Checkpoint, OpenRun, RunMeta};
use crate::space::{SearchSpace, SpaceKind};
use crate::with_dataset;

/// A loaded run and the weights of one of its checkpoints.
pub struct Predictor {
    pub run: OpenRun,
    pub model: Model,
    /// The tier embeddings (mean encoder output per tier over the training set), made on first use.
    tiers: OnceLock<Vec<f32>>,
}

impl Predictor {
    pub fn load(root: &Path, which: Checkpoint) -> Result<Predictor> {
        let run = OpenRun::open(root)?;
        let model = load_model(&run, which)?;
        Ok(Predictor { run, model, tiers: OnceLock::new() })
    }

    pub fn space(&self) -> SpaceKind {
        self.run.meta.space
    }

    fn encode<S: SearchSpace>(&self, archs: &[S::Arch]) -> Result<Vec<f32>> {
        if S::KIND != self.space() {
            bail!("this ranker was trained on {}, not {}", self.space(), S::KIND);
        }
        let network = S::network(self.run.meta.network).map_err(|e| anyhow!(e))?;
        Ok(features::<S>(archs, network))
    }

    /// Predicted accuracy score of each architecture (encoder and accuracy head).
    pub fn scores<S: SearchSpace>(&self, archs: &[S::Arch], progress: &dyn Progress) -> Result<Vec<f64>> {
        let x = self.encode::<S>(archs)?;
        self.batches(&x, archs.len(), progress, |xb, n, ws| self.model.scores(xb, n, ws))
    }

    /// Predicted tier of each architecture, 1 = best (the whole model).
    pub fn tiers<S: SearchSpace>(&self, archs: &[S::Arch], progress: &dyn Progress) -> Result<Vec<usize>> {
        let x = self.encode::<S>(archs)?;
        let model = self.model.transformer()?;
        let emb = self.tier_embeddings(model)?;
        let nt = model.cfg.n_tier;
        self.batches(&x, archs.len(), progress, |xb, n, ws| {
            model.infer(xb, n, emb, ws).0.chunks(nt).map(|l| argmax(l) + 1).collect()
        })
    }

    fn tier_embeddings(&self, model: &Ranker<f32>) -> Result<&[f32]> {
        if let Some(t) = self.tiers.get() {
            return Ok(t);
        }
        let emb = with_dataset!(&self.run.ds, d => train_embeddings(d, &self.run.meta, model))?;
        Ok(self.tiers.get_or_init(|| emb))
    }

    /// Runs `f` over batches of [`INFER_BATCH`] feature tensors, asking `progress` between batches.
    fn batches<T>(
        &self,
        x: &[f32],
        n: usize,
        progress: &dyn Progress,
        f: impl Fn(&[f32], usize, &mut Workspace<f32>) -> Vec<T>,
    ) -> Result<Vec<T>> {
        let feat = x.len().checked_div(n).unwrap_or(0);
        let mut ws = Workspace::default();
        let mut out = Vec::with_capacity(n);
        progress.start(n as u64, "scoring");
        for start in (0..n).step_by(INFER_BATCH) {
            if progress.cancelled() {
                progress.finish();
                return Err(Cancelled.into());
            }
            let m = INFER_BATCH.min(n - start);
            out.extend(f(&x[start * feat..(start + m) * feat], m, &mut ws));
            progress.inc(m as u64);
        }
        progress.finish();
        Ok(out)
    }
}

/// The tier embeddings of a run's training architectures (what inference with tiers uses).
pub fn train_embeddings<S: SearchSpace>(ds: &Dataset<S>, meta: &RunMeta, model: &Ranker<f32>) -> Result<Vec<f32>> {
    let network = S::network(meta.network).map_err(|e| anyhow!(e))?;
    let train = Samples::new(ds, meta.train.clone(), network, &meta.val_metric, None)?;
    Ok(reference_embeddings(model, &train, INFER_BATCH))
}
