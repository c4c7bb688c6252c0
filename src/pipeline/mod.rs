//! The pipeline steps, as library calls with typed arguments: build or open a dataset, train the
//! ranker, evaluate it on the held-out architectures, search, rank a whole space, and the main job
//! that chains them. Each step reads and writes a [`RunDir`]; the command line only parses arguments,
//! calls these and prints what they return.

pub mod eval;
pub mod predictor;
pub mod rank;
pub mod run;
pub mod search;
pub mod study;
pub mod train;

use anyhow::Result;

use crate::ranker::model::Ranker;
use crate::run_dir::{Checkpoint, OpenRun, RunDir};

/// The weights of one of a run's checkpoints, in a model of the run's configuration.
pub fn load_ranker(run: &OpenRun, which: Checkpoint) -> Result<Ranker<f32>> {
    let mut model = Ranker::<f32>::new(&run.cfg.ranker, run.cfg.seed);
    crate::ranker::checkpoint::load_weights(&run.dir.checkpoint(which), &mut model)?;
    Ok(model)
}

/// Writes the run's report; a failure is returned as a warning, not an error (the step's own results
/// are already written).
pub fn write_report(run: &RunDir) -> std::result::Result<std::path::PathBuf, String> {
    crate::report::write(run, None, None).map_err(|e| format!("could not write the report: {e:#}"))
}
