//! `nar reference-search RUN_DIR`: NAR's reference search with a trained ranker, reported with the honest pick
//! and random search at the same query budget (see [`crate::search`]); saves the results in the run.

use std::path::Path;
use std::time::Instant;

use anyhow::{Result, anyhow};

use super::OpenRun;
use super::load_ranker;
use crate::benchmark::Benchmark;
use crate::config::Config;
use crate::data::Dataset;
use crate::progress::Progress;
use crate::ranker::checkpoint::Checkpoint;
use crate::ranker::checkpoint::TrainState;
use crate::ranker::model::Ranker;
use crate::run_dir::RunMeta;
use crate::sampler::Propose;
use crate::search::reference::{self, ReferenceTable, SeedResult, Settings};
use crate::space::SpaceKind;
use crate::with_dataset;

/// How to search.
#[derive(Clone, Copy, Debug)]
pub struct SearchOptions {
    /// Sampling iterations per seed (the reference runs 50).
    pub iterations: usize,
    /// Independent seeds `0..seeds`.
    pub seeds: u64,
    /// Whose ranker and sampler statistics.
    pub checkpoint: Checkpoint,
}

/// The results with what they are measured against.
#[derive(Clone, Debug)]
pub struct SearchSummary {
    pub space: SpaceKind,
    /// The accuracy reported (test where the dataset has it, else validation).
    pub report_metric: String,
    /// Labelled architectures of the space, and the best reporting accuracy among them.
    pub labelled: usize,
    pub optimum: f64,
    /// Queries the method spent (training + validation architectures).
    pub budget: usize,
    pub iterations: usize,
    pub seconds: f64,
    pub results: Vec<SeedResult>,
}

/// Searches with the run in `root`; saves the results in the run.
pub fn search(root: &Path, opts: SearchOptions, progress: &dyn Progress) -> Result<SearchSummary> {
    let run = OpenRun::open(root)?;
    let model = load_ranker(&run, opts.checkpoint)?;
    let state = run.dir.read_state(opts.checkpoint, run.cfg.ranker.n_tier)?;
    let summary = with_dataset!(&run.ds, d => seeds(d, &run.cfg, &run.meta, &model, &state, opts, progress))?;
    run.dir.write_search(&summary.results)?;
    Ok(summary)
}

fn seeds<S: Benchmark + Propose>(
    ds: &Dataset<S>,
    cfg: &Config,
    meta: &RunMeta,
    model: &Ranker<f32>,
    state: &TrainState,
    opts: SearchOptions,
    progress: &dyn Progress,
) -> Result<SearchSummary> {
    let network = S::network(meta.task).map_err(|e| anyhow!(e))?;
    let bench = ReferenceTable::new(ds, network, &meta.val_metric, meta.test_metric.as_deref());
    let settings = Settings::from_config(cfg, opts.iterations)?;
    let budget = meta.train.len() + meta.val.len();
    progress.start(opts.seeds * opts.iterations as u64, "searching");
    let start = Instant::now();
    let mut results = Vec::new();
    for seed in 0..opts.seeds {
        let done = seed * opts.iterations as u64;
        results.push(reference::search(model, &bench, &state.distri, &settings, budget, seed, &|i| {
            progress.set(done + i as u64)
        })?);
    }
    progress.finish();
    Ok(SearchSummary {
        space: S::KIND,
        report_metric: bench.card.metric.clone(),
        labelled: bench.labelled.len(),
        optimum: bench.card.optimum(),
        budget,
        iterations: opts.iterations,
        seconds: start.elapsed().as_secs_f64(),
        results,
    })
}
