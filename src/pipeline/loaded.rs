//! A saved predictor, loaded to score architectures the caller names (the Python package's `Ranker`):
//! the predictor of a `nar train` run (with its dataset: tiers need the run's training architectures),
//! or one fitted and saved by the Python package's `Predictor` (configuration, `fitted.json` and the
//! predictor's files; scores only).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use super::OpenRun;
use super::transformer;
use crate::benchmark::Benchmark;
use crate::config::Config;
use crate::data::Dataset;
use crate::features::Featurize;
use crate::io::write_atomic;
use crate::predictor::{ArchList, Predictor};
use crate::progress::Progress;
use crate::ranker::checkpoint::Checkpoint;
use crate::ranker::model::Ranker;
use crate::ranker::predict::{INFER_BATCH, argmax, batched};
use crate::ranker::samples::{Samples, features};
use crate::ranker::tiers::reference_embeddings;
use crate::run_dir::{RunDir, RunMeta};
use crate::space::{SearchSpace, SpaceKind, Task};
use crate::with_dataset;

/// What a folder saved by [`save_fitted`] says of its predictor (`fitted.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedMeta {
    pub space: SpaceKind,
    /// The task the predictor was fitted on (written `network`, its name before tasks).
    #[serde(rename = "network")]
    pub task: Task,
    /// Labelled architectures it was fitted on.
    pub labelled: usize,
}

/// A loaded predictor and where it came from.
pub struct LoadedPredictor {
    pub root: PathBuf,
    pub space: SpaceKind,
    pub task: Task,
    pub cfg: Config,
    pub model: Box<dyn Predictor>,
    /// The run, when the folder is a whole `nar train` run.
    pub run: Option<OpenRun>,
    /// The tier embeddings (mean encoder output per tier over the training set), made on first use.
    tiers: OnceLock<Vec<f32>>,
}

/// Saves a predictor fitted outside a run (configuration, `fitted.json`, the predictor's files) into
/// `dir`, which must be new or empty.
pub fn save_fitted(dir: &Path, cfg: &Config, meta: &FittedMeta, model: &dyn Predictor) -> Result<()> {
    // The folder the path names (`sub/../` is an existing one), before the never-overwrite rule.
    let resolved = crate::io::resolve_output_dir(dir)?;
    let dir = resolved.as_path();
    if dir.exists() && !dir.is_dir() {
        bail!("{} exists and is not a directory", dir.display());
    }
    if dir.exists()
        && std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?.next().is_some()
    {
        bail!("{} is not empty: give a new or empty directory", dir.display());
    }
    let run = RunDir::create(dir)?;
    model.save(dir)?;
    run.write_config(cfg)?;
    let json = serde_json::to_string_pretty(meta)?;
    write_atomic(&run.fitted_path(), |w| Ok(w.write_all(json.as_bytes())?))
}

impl LoadedPredictor {
    /// Loads the predictor in `root`: a run directory, or a folder of [`save_fitted`].
    pub fn load(root: &Path, which: Checkpoint) -> Result<LoadedPredictor> {
        let dir = RunDir::at(root);
        if !dir.meta_path().exists() && dir.fitted_path().exists() {
            let cfg = dir.read_config()?;
            let path = dir.fitted_path();
            let text = crate::io::read_to_string_capped(&path, 1 << 16, "a predictor description")?;
            let meta: FittedMeta =
                serde_json::from_str(&text).with_context(|| format!("{}: not nar's description", path.display()))?;
            if meta.space != cfg.space {
                bail!("{}: says {}, but the configuration is for {}", path.display(), meta.space, cfg.space);
            }
            let model = crate::predictor::load(&cfg.predictor()?, root, which)?;
            return Ok(LoadedPredictor {
                root: root.to_path_buf(),
                space: meta.space,
                task: meta.task,
                cfg,
                model,
                run: None,
                tiers: OnceLock::new(),
            });
        }
        let run = OpenRun::open(root)?;
        let model = super::load_predictor(&run, which)?;
        Ok(LoadedPredictor {
            root: root.to_path_buf(),
            space: run.meta.space,
            task: run.meta.task,
            cfg: run.cfg.clone(),
            model,
            run: Some(run),
            tiers: OnceLock::new(),
        })
    }

    pub fn space(&self) -> SpaceKind {
        self.space
    }

    fn check_space<S: SearchSpace>(&self) -> Result<S::Network> {
        if S::KIND != self.space {
            bail!("this predictor was fitted on {}, not {}", self.space, S::KIND);
        }
        S::network(self.task).map_err(|e| anyhow!(e))
    }

    /// Predicted accuracy score of each architecture.
    pub fn scores<S: Featurize>(&self, archs: &[S::Arch], progress: &dyn Progress) -> Result<Vec<f64>> {
        let network = self.check_space::<S>()?;
        self.model.scores(&ArchList::<S> { archs, network }, progress)
    }

    /// Predicted tier of each architecture, 1 = best (the whole model).
    pub fn tiers<S: Benchmark>(&self, archs: &[S::Arch], progress: &dyn Progress) -> Result<Vec<usize>> {
        let network = self.check_space::<S>()?;
        let model = transformer(self.model.as_ref(), &self.cfg)?;
        let emb = self.tier_embeddings(model)?;
        let x = features::<S>(archs, network);
        let nt = model.cfg.n_tier;
        let feat = x.len().checked_div(archs.len()).unwrap_or(0);
        batched(archs.len(), progress, |rows, ws| {
            let m = rows.len();
            let logits = model.infer(&x[rows.start * feat..rows.end * feat], m, emb, ws).0;
            logits.chunks(nt).map(|l| argmax(l) + 1).collect()
        })
    }

    fn tier_embeddings(&self, model: &Ranker<f32>) -> Result<&[f32]> {
        if let Some(t) = self.tiers.get() {
            return Ok(t);
        }
        let run = self.run.as_ref().ok_or_else(|| {
            anyhow!(
                "{}: tiers need the training architectures of a `nar train` run; this folder holds a predictor alone",
                self.root.display()
            )
        })?;
        let emb = with_dataset!(&run.ds, d => train_embeddings(d, &run.meta, model))?;
        Ok(self.tiers.get_or_init(|| emb))
    }
}

/// The tier embeddings of a run's training architectures (what inference with tiers uses).
pub fn train_embeddings<S: Benchmark>(ds: &Dataset<S>, meta: &RunMeta, model: &Ranker<f32>) -> Result<Vec<f32>> {
    let network = S::network(meta.task).map_err(|e| anyhow!(e))?;
    let train = Samples::new(ds, meta.train.clone(), network, &meta.val_metric, None)?;
    Ok(reference_embeddings(model, &train, INFER_BATCH))
}
