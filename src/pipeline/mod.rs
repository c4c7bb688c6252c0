//! The pipeline steps, as library calls with typed arguments: build or open a dataset, train the
//! ranker, evaluate it on the held-out architectures, search, rank a whole space, and the main job
//! that chains them. Each step reads and writes a [`RunDir`]; the command line only parses arguments,
//! calls these and prints what they return.

pub mod eval;
pub mod loaded;
pub mod predictor_study;
pub mod rank;
pub mod run;
pub mod search;
pub mod search_study;
pub mod train;

use anyhow::{Context, Result, anyhow};

use crate::config::Config;
use crate::predictor::Predictor;
use crate::ranker::model::Ranker;
use std::path::Path;

use crate::ranker::checkpoint::Checkpoint;
use crate::run_dir::{RunDir, RunMeta};
use crate::spaces::AnyDataset;

/// The weights of one of a run's checkpoints, in a model of the run's configuration (a transformer
/// run; a run of another model is refused with what it can do).
pub fn load_ranker(run: &OpenRun, which: Checkpoint) -> Result<Ranker<f32>> {
    if !run.cfg.model.has_tiers() {
        return Err(scores_only(&run.cfg)).with_context(|| run.dir.root().display().to_string());
    }
    let mut model = Ranker::<f32>::new(&run.cfg.ranker, run.cfg.seed);
    crate::ranker::checkpoint::load_weights(&run.dir.checkpoint(which), &mut model)?;
    Ok(model)
}

/// Why a run of a score-only predictor cannot do what needs the transformer.
pub fn scores_only(cfg: &Config) -> anyhow::Error {
    anyhow!(
        "this run's model is `model: {}`, which predicts scores only: `nar eval` (without --tiers) and `nar rank` use it; tiers and NAR's search need the transformer",
        cfg.model.name()
    )
}

/// A run's predictor (checkpoint `which` of a transformer; the other models have one).
pub fn load_predictor(run: &OpenRun, which: Checkpoint) -> Result<Box<dyn Predictor>> {
    crate::predictor::load(&run.cfg.predictor()?, run.dir.root(), which)
}

/// The transformer of a predictor, for what only it can do (tiers, NAR's search).
pub fn transformer<'a>(p: &'a dyn Predictor, cfg: &Config) -> Result<&'a Ranker<f32>> {
    p.transformer().ok_or_else(|| scores_only(cfg))
}

/// Writes the run's report; a failure is returned as a warning, not an error (the step's own results
/// are already written).
pub fn write_report(run: &RunDir) -> std::result::Result<std::path::PathBuf, String> {
    crate::report::write(run, None, None).map_err(|e| format!("could not write the report: {e:#}"))
}

/// A run opened for use: its directory, configuration, description and dataset, checked to agree.
pub struct OpenRun {
    pub dir: RunDir,
    pub cfg: Config,
    pub meta: RunMeta,
    pub ds: AnyDataset,
}

impl OpenRun {
    pub fn open(root: &Path) -> Result<OpenRun> {
        let dir = RunDir::open(root)?;
        let cfg = dir.read_config()?;
        let meta = dir.read_meta()?;
        if cfg.space != meta.space {
            return Err(anyhow::anyhow!(
                "{}: the configuration is for {} but {} says {}",
                dir.config_path().display(),
                cfg.space,
                dir.meta_path().display(),
                meta.space
            ));
        }
        let ds = dir.open_dataset(&meta)?;
        Ok(OpenRun { dir, cfg, meta, ds })
    }
}
