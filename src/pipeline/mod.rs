//! The pipeline steps, as library calls with typed arguments: build or open a dataset, train the
//! ranker, evaluate it on the held-out architectures, search, rank a whole space, and the main job
//! that chains them. Each step reads and writes a [`RunDir`]; the command line only parses arguments,
//! calls these and prints what they return.

pub mod eval;
pub mod predictor;
pub mod predictors;
pub mod rank;
pub mod run;
pub mod search;
pub mod study;
pub mod train;

use anyhow::{Context, Result, anyhow};

use crate::ranker::config::ModelKind;
use crate::ranker::gbdt::Gbdt;
use crate::ranker::infer::Workspace;
use crate::ranker::model::Ranker;
use crate::run_dir::{Checkpoint, OpenRun, RunDir};

/// The weights of one of a run's checkpoints, in a model of the run's configuration (a transformer
/// run; a `model: gbdt` run is refused with what it can do).
pub fn load_ranker(run: &OpenRun, which: Checkpoint) -> Result<Ranker<f32>> {
    match load_model(run, which)? {
        Model::Transformer(m) => Ok(m),
        Model::Gbdt(_) => Err(scores_only()).with_context(|| run.dir.root().display().to_string()),
    }
}

/// Why a tree run cannot do what needs the transformer.
fn scores_only() -> anyhow::Error {
    anyhow!(
        "this run's model is gradient-boosted trees (`model: gbdt`), which predict scores only: `nar eval` (without --tiers) and `nar rank` use it; tiers and NAR's search need the transformer"
    )
}

/// A run's trained predictor: NAR's transformer or the tree ensemble.
pub enum Model {
    Transformer(Ranker<f32>),
    Gbdt(Gbdt),
}

/// The predictor of one of a run's checkpoints (a `model: gbdt` run has one model, whichever is asked).
pub fn load_model(run: &OpenRun, which: Checkpoint) -> Result<Model> {
    match run.cfg.model {
        ModelKind::Transformer => {
            let mut model = Ranker::<f32>::new(&run.cfg.ranker, run.cfg.seed);
            crate::ranker::checkpoint::load_weights(&run.dir.checkpoint(which), &mut model)?;
            Ok(Model::Transformer(model))
        }
        ModelKind::Gbdt => {
            let trees = Gbdt::load(&run.dir.trees_path())?;
            Ok(Model::Gbdt(trees))
        }
    }
}

impl Model {
    /// Scores of `n` architectures given as row-major feature tensors (the transformer's score-only
    /// inference pass, or the trees).
    pub fn scores(&self, x: &[f32], n: usize, ws: &mut Workspace<f32>) -> Vec<f64> {
        match self {
            Model::Transformer(m) => m.infer_scores(x, n, ws).iter().map(|v| f64::from(*v)).collect(),
            Model::Gbdt(t) => t.scores(x, n),
        }
    }

    /// The transformer, for what only it can do (tiers, NAR's search).
    pub fn transformer(&self) -> Result<&Ranker<f32>> {
        match self {
            Model::Transformer(m) => Ok(m),
            Model::Gbdt(_) => Err(scores_only()),
        }
    }
}

/// Writes the run's report; a failure is returned as a warning, not an error (the step's own results
/// are already written).
pub fn write_report(run: &RunDir) -> std::result::Result<std::path::PathBuf, String> {
    crate::report::write(run, None, None).map_err(|e| format!("could not write the report: {e:#}"))
}
