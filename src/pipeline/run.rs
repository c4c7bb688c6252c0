//! `nar run`: the main job — dataset, training, held-out evaluation, search and report — in one run
//! directory, through the same steps as `nar train`, `nar eval`, `nar search` and `nar report`.

use std::path::PathBuf;

use anyhow::Result;

use super::eval::{Evaluation, evaluate};
use super::search::{SearchOptions, SearchSummary, search};
use super::search_study::{OracleSource, StudyOptions, study};
use super::train::{TrainOptions, TrainSummary, resume, train};
use crate::progress::Progress;
use crate::ranker::checkpoint::Checkpoint;
use crate::run_dir::RunDir;
use crate::search::budgeted::{Method, StudySummary};
use crate::search::domain::{Constraint, Equivalence};
use crate::search::guided::GuidedPredictor;
use crate::spaces::DataSource;

/// The main job's settings: a training run, then the search.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub train: TrainOptions,
    pub iterations: usize,
    pub seeds: u64,
    /// Seeds of the budgeted comparison at the run's budget (0: none).
    pub compare_seeds: u64,
    /// Write the run's report at the end.
    pub report: bool,
    /// Continue the run in `train.out` from its last checkpoint instead of starting one.
    pub resume: bool,
    /// The comparison's objectives (`nar search --objectives`; empty: validation accuracy alone).
    pub objectives: Vec<String>,
}

/// One finished step of the main job, as it finishes.
pub enum Step<'a> {
    Trained(&'a TrainSummary),
    Evaluated(&'a Evaluation),
    Searched(&'a SearchSummary),
    /// NAR's reference search was not run: the run's model predicts no tiers (the reason).
    NotSearched(String),
    /// The budgeted methods at the run's budget.
    Compared(&'a StudySummary),
    /// The report's path, or why it could not be written.
    Reported(std::result::Result<PathBuf, String>),
}

/// Runs the main job; `on_step` hears of each step when it ends. Every predictor runs it: the held-out
/// evaluation (with tiers where the model has them), NAR's tier-based reference search where the model
/// has tiers (otherwise [`Step::NotSearched`] says why), the budgeted comparison and the report.
pub fn run(opts: &RunOptions, progress: &dyn Progress, on_step: &mut dyn FnMut(Step<'_>)) -> Result<()> {
    // Objectives the comparison cannot measure are refused before anything is trained or written.
    if !opts.objectives.is_empty() && !opts.resume {
        check_objectives(&opts.train, &opts.objectives, progress)?;
    }
    let trained = match opts.resume {
        true => resume(&opts.train.out, progress)?,
        false => train(&opts.train, progress)?,
    };
    on_step(Step::Trained(&trained));
    let root = trained.run.root().to_path_buf();
    let cfg = trained.run.read_config()?;
    let tiers = cfg.model.has_tiers();
    let evaluation = evaluate(&root, Checkpoint::Best, tiers, progress)?;
    on_step(Step::Evaluated(&evaluation));
    // NAR's search spends the training and validation architectures; the comparison spends as many.
    let budget = evaluation.meta.train.len() + evaluation.meta.val.len();
    if tiers {
        let searched = search(
            &root,
            SearchOptions { iterations: opts.iterations, seeds: opts.seeds, checkpoint: Checkpoint::Best },
            progress,
        )?;
        on_step(Step::Searched(&searched));
    } else {
        on_step(Step::NotSearched(crate::search::reference::needs_tiers(cfg.model)));
    }
    if opts.compare_seeds > 0 {
        let compared = compare(&trained.run, budget, opts.compare_seeds, &opts.objectives, progress)?;
        on_step(Step::Compared(&compared));
    }
    if opts.report {
        on_step(Step::Reported(super::write_report(&trained.run)));
    }
    Ok(())
}

/// Past this budget the comparison's guided search queries `budget / COMPARISON_ROUNDS` per round
/// (its own rounds, 2 to 10 architectures, would make a thousand-query budget take 100 rounds more).
const ADAPTIVE_UP_TO: usize = 300;
const COMPARISON_ROUNDS: usize = 60;

/// Whether the comparison could weigh accuracy against `objectives` on the run's data: the names, and
/// that each cost exists (the cost model's, or a cost column).
fn check_objectives(train: &TrainOptions, objectives: &[String], progress: &dyn Progress) -> Result<()> {
    let ds = train.data.load(&mut |line| progress.log(&line))?;
    crate::with_dataset!(&ds, d => check_costs(d, train.task, objectives))
}

fn check_costs<S: crate::benchmark::Benchmark>(
    ds: &crate::data::Dataset<S>,
    task: Option<crate::space::Task>,
    objectives: &[String],
) -> Result<()> {
    let network = S::network(task.unwrap_or(S::tasks()[0])).map_err(crate::usage::UsageError)?;
    crate::search::front::objective_costs(ds, objectives, network, &[])
        .map_err(|e| crate::usage::UsageError(format!("--{e}")))?;
    Ok(())
}

/// nar's guided search, random search, REA and local search on the run's dataset with `budget`
/// queries (what NAR's search spent), `seeds` seeds — and with `objectives`, the multi-objective
/// methods, each run's front measured; saved in the run (`comparison.json`).
pub fn compare(
    run: &RunDir,
    budget: usize,
    seeds: u64,
    objectives: &[String],
    progress: &dyn Progress,
) -> Result<StudySummary> {
    let meta = run.read_meta()?;
    let cfg = run.read_config()?;
    let opts = StudyOptions {
        data: DataSource::Store(run.dataset_file(&meta)),
        space: Some(meta.space),
        cap_budget: true,
        task: meta.task,
        methods: if objectives.is_empty() {
            Method::ALL.to_vec()
        } else {
            Method::ALL.into_iter().chain(Method::MULTI_OBJECTIVE).collect()
        },
        budget,
        seeds,
        first_seed: 0,
        batch: None,
        constraint: Constraint::default(),
        equivalence: Equivalence::Canonical,
        oracle: OracleSource::Table,
        guided: (budget > ADAPTIVE_UP_TO).then(|| format!("per_round={}", budget.div_ceil(COMPARISON_ROUNDS))),
        predictor: Some(GuidedPredictor::for_run(&cfg)),
        objectives: objectives.to_vec(),
        curve: None,
        json: None,
        html: None,
    };
    let summary = study(&opts, progress)?;
    run.write_comparison(&summary)?;
    Ok(summary)
}
