//! `nar study predictors`: how well each predictor ranks the architectures it never saw, against the
//! number of labelled architectures it was given — NAR's reference transformer, nar's improved
//! transformer and the gradient-boosted-trees baseline, on each benchmark, over several seeds, every
//! figure beside the parameter-count floor.
//!
//! One cell = (benchmark, mode, budget, seed): the labelled architectures are permuted by the seed;
//! the first `budget` are the labelled sample, split into training and validation in the mode's
//! configured proportion ([`Config::set_budget`]); every other labelled architecture is held out and
//! ranked. The transformer is trained as `nar train` trains it and scored from its best epoch (by
//! validation tier accuracy, as `nar eval` does); the trees as `nar train` fits them. Test accuracy is
//! never read.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;

use crate::config::Config;
use crate::config::Mode;
use crate::data::Dataset;
use crate::features::Featurize;
use crate::io::write_atomic;
use crate::predictor::{ArchList, FitContext, Inputs, Labelled};
use crate::progress::{Cancelled, Muted, Progress};
use crate::ranker::metrics::{kendall_tau, precision_at_k, spearman_rho, top_figures};
use crate::ranker::samples::Samples;
use crate::report::predictor_study::{MeanStd, SummaryRow};
use crate::space::{SearchSpace, SpaceKind, Task};
use crate::spaces::{self, DataSource};
use crate::usage::UsageError;
use crate::with_dataset;

/// A benchmark of the study: a space and the task whose validation accuracy is ranked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StudyBenchmark {
    pub space: SpaceKind,
    pub task: Task,
}

impl StudyBenchmark {
    /// Every space's every task: `nb101`, `nb201-cifar10`, …, and the declared space's in use
    /// (`declared`, or `declared-{task}` with several tasks).
    pub fn all() -> Vec<StudyBenchmark> {
        SpaceKind::EVERY
            .into_iter()
            .filter(|&space| spaces::is_known(space))
            .flat_map(|space| spaces::tasks(space).iter().map(move |&task| StudyBenchmark { space, task }))
            .collect()
    }

    /// `{space}-{task}`, or `{space}` for a space of one task (`nb101`, `nb201-cifar10`, …).
    pub fn name(self) -> String {
        if spaces::tasks(self.space).len() == 1 {
            self.space.to_string()
        } else {
            format!("{}-{}", self.space, self.task)
        }
    }

    pub fn from_name(name: &str) -> Option<StudyBenchmark> {
        StudyBenchmark::all().into_iter().find(|b| b.name() == name)
    }
}

/// A mode's configuration for one space, and the file it was read from (an input no output may replace).
#[derive(Clone, Debug)]
pub struct ModeConfig {
    pub mode: Mode,
    pub config: Config,
    pub file: Option<PathBuf>,
}

/// A predictor study.
#[derive(Clone, Debug)]
pub struct PredictorStudyOptions {
    pub benchmarks: Vec<StudyBenchmark>,
    pub modes: Vec<Mode>,
    /// Labelled architectures per cell (training + validation).
    pub budgets: Vec<usize>,
    /// Seeds first_seed..first_seed + seeds: each permutes the labelled architectures and seeds the
    /// model. Tune on seeds you then do not report (the README's figures are seeds 0, 1, 2).
    pub seeds: u64,
    pub first_seed: u64,
    /// Epochs for the transformer modes (overrides the configurations' `ranker_epochs`).
    pub epochs: Option<usize>,
    /// Configurations that replace a built-in mode's own for a space, or define a new mode
    /// (ablations).
    pub configs: Vec<ModeConfig>,
    /// Each space's dataset (a store, metric files, or the table built into nar), read only where a
    /// benchmark of the study is of that space.
    pub datasets: Vec<(SpaceKind, DataSource)>,
    /// The CSV of every cell, rewritten after each (an interrupted study keeps what it finished).
    pub csv: PathBuf,
    pub html: Option<PathBuf>,
    /// The transfer mode: every predictor also reads a source predictor's score of each architecture
    /// (`None`: the plain mode, from the benchmark's own labels only).
    pub transfer: Option<Transfer>,
}

/// The transfer mode (FLAN's setting): the labels of another task of the same space — another image
/// data set — are known. A predictor of the mode's configuration is fitted on `labels` of the source
/// task's validation accuracies (every labelled architecture when `None`; drawn by the cell's seed,
/// held-out architectures included: they are another data set's labels), and its standardised score
/// of each architecture is one more column of every table the cell's predictor reads. The cell's mode
/// is reported as `{mode}+{from}`: it uses labels the plain mode does not have. The cell's score is the
/// mean of the predictor's and the source predictor's, each standardised on the labelled architectures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub from: Task,
    pub labels: Option<usize>,
}

impl Transfer {
    /// The name of `mode` in the transfer mode.
    pub fn mode(&self, mode: &Mode) -> Mode {
        Mode::new(&format!("{}+{}", mode.name(), self.from))
    }
}

/// One trained and evaluated predictor.
#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    pub benchmark: String,
    pub mode: Mode,
    pub budget: usize,
    pub seed: u64,
    pub train: usize,
    pub val: usize,
    pub held_out: usize,
    /// Training epochs (transformer modes; 0 for the trees).
    pub epochs: usize,
    pub kendall: f64,
    pub spearman: f64,
    pub precision_at_10: f64,
    pub precision_at_50: f64,
    pub precision_at_100: f64,
    /// 1-based rank among the held-out architectures of the one predicted best.
    pub predicted_best_rank: usize,
    pub top10_regret: f64,
    pub top50_regret: f64,
    /// The parameter-count floor on the same held-out architectures.
    pub floor_kendall: f64,
    pub floor_precision_at_50: f64,
    pub seconds: f64,
}

/// The most seeds a study runs per cell.
pub const MAX_SEEDS: u64 = 10_000;

/// Runs the study; returns every cell and the summary. Everything the options can get wrong (repeats,
/// a configuration no benchmark uses, a budget a mode cannot split) is refused before the first cell.
pub fn study(opts: &PredictorStudyOptions, progress: &dyn Progress) -> Result<(Vec<Cell>, Vec<SummaryRow>)> {
    if opts.benchmarks.is_empty() || opts.modes.is_empty() || opts.budgets.is_empty() {
        bail!("a study needs at least one benchmark, mode and budget");
    }
    // A repeated benchmark, mode or budget would run its cells twice and report them as more seeds.
    fn repeated<T: PartialEq>(v: &[T]) -> Option<&T> {
        v.iter().enumerate().find(|(i, x)| v[..*i].contains(x)).map(|(_, x)| x)
    }
    if let Some(b) = repeated(&opts.benchmarks) {
        bail!("--benchmarks: {} is listed twice", b.name());
    }
    if let Some(m) = repeated(&opts.modes) {
        bail!("--modes: {} is listed twice", m.name());
    }
    if let Some(b) = repeated(&opts.budgets) {
        bail!("--budgets: {b} is listed twice");
    }
    if opts.seeds == 0 || opts.seeds > MAX_SEEDS || opts.first_seed.checked_add(opts.seeds - 1).is_none() {
        bail!("--seeds must be between 1 and {MAX_SEEDS}, and --first-seed + --seeds within 64 bits");
    }
    for ModeConfig { mode: m, config: c, .. } in &opts.configs {
        if !opts.benchmarks.iter().any(|b| b.space == c.space) {
            bail!(
                "--config {}: a configuration for {}, but no benchmark of the study is of {}",
                m.name(),
                c.space,
                c.space
            );
        }
    }
    // No output may replace an input: a configuration, a dataset's files, or the other output.
    let outputs: Vec<&std::path::Path> = std::iter::once(opts.csv.as_path()).chain(opts.html.as_deref()).collect();
    let mut inputs: Vec<&std::path::Path> = opts.configs.iter().filter_map(|c| c.file.as_deref()).collect();
    inputs.extend(opts.datasets.iter().flat_map(|(_, d)| d.files()));
    crate::io::refuse_clobbering(&outputs, &inputs)?;
    let mut cells = Vec::new();
    let mut datasets: Vec<(SpaceKind, spaces::AnyDataset)> = Vec::new();
    for &b in &opts.benchmarks {
        if !datasets.iter().any(|(s, _)| *s == b.space) {
            let source =
                opts.datasets.iter().find(|(s, _)| *s == b.space).map(|(_, d)| d.clone()).ok_or_else(|| {
                    anyhow!("the {} benchmark needs a dataset (a .nar store or {} metric files)", b.name(), b.space)
                })?;
            progress.log(&format!("dataset for {}: {source}", b.name()));
            let ds = source.load(&mut |l| progress.log(&l))?;
            if ds.space() != b.space {
                bail!("{source} holds {}, not {}", ds.space(), b.space);
            }
            datasets.push((b.space, ds));
        }
    }
    // The cells to run: a budget that leaves no labelled architecture to hold out is skipped, and said.
    let mut plan = Vec::new();
    for &b in &opts.benchmarks {
        let ds = &datasets.iter().find(|(s, _)| *s == b.space).expect("loaded above").1;
        let labelled = with_dataset!(ds, d => labelled_count(d, b))?;
        for &budget in &opts.budgets {
            if budget >= labelled {
                progress.log(&format!(
                    "skipped: {} has {labelled} labelled architectures: a budget of {budget} leaves none to hold out",
                    b.name()
                ));
                continue;
            }
            for mode in &opts.modes {
                let cfg = match opts.configs.iter().find(|c| &c.mode == mode && c.config.space == b.space) {
                    Some(c) => c.config.clone(),
                    None => mode.config(b.space).ok_or_else(|| {
                        anyhow!(
                            "mode {}: no configuration for {} (give one with --config {}=FILE)",
                            mode.name(),
                            b.space,
                            mode.name()
                        )
                    })?,
                };
                // Every cell's budget is checked before the first one runs.
                cfg.clone()
                    .set_budget(budget)
                    .with_context(|| format!("mode {} on {}, budget {budget}", mode.name(), b.name()))?;
                for seed in (0..opts.seeds).map(|k| opts.first_seed + k) {
                    plan.push((b, ds, budget, mode.clone(), cfg.clone(), seed));
                }
            }
        }
    }
    if plan.is_empty() {
        bail!("no cell of the study leaves architectures to hold out: give smaller budgets");
    }
    if let Some(t) = opts.transfer {
        for &b in &opts.benchmarks {
            if !spaces::tasks(b.space).contains(&t.from) {
                bail!(UsageError(format!(
                    "--transfer-from: {} has no task {}; its tasks: {}",
                    b.space,
                    t.from,
                    spaces::tasks(b.space).iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
                )));
            }
            if b.task == t.from {
                bail!(UsageError(format!(
                    "--transfer-from {}: the {} benchmark ranks that task itself; transfer ranks another task of the space",
                    t.from,
                    b.name()
                )));
            }
            let ds = &datasets.iter().find(|(s, _)| *s == b.space).expect("loaded above").1;
            let found = with_dataset!(ds, d => labelled_count(d, StudyBenchmark { space: b.space, task: t.from }))
                .map_err(|e| {
                    UsageError(format!(
                        "--transfer-from {}: the transfer mode needs the source data set's labels: {e}",
                        t.from
                    ))
                })?;
            if found < 2 || t.labels.is_some_and(|n| n > found || n < 2) {
                bail!(UsageError(format!(
                    "--transfer-labels: the {} dataset has {found} architectures labelled for {}; give between 2 and {found}",
                    b.space, t.from
                )));
            }
        }
    }
    let total = plan.len();
    for (done, (b, ds, budget, mode, cfg, seed)) in plan.into_iter().enumerate() {
        if progress.cancelled() {
            return Err(Cancelled.into());
        }
        progress.log(&format!("[{}/{total}] {} {} budget {budget} seed {seed}", done + 1, b.name(), mode.name()));
        let cell =
            with_dataset!(ds, d => run_cell(d, b, &mode, cfg, budget, seed, opts.epochs, opts.transfer, progress))?;
        progress.log(&format!(
            "    τ {:.4} (floor {})  precision@50 {:.3} (floor {})  predicted best: rank {} of {}  ({:.1} s)",
            cell.kendall,
            crate::report::predictor_study::floor_text(cell.floor_kendall, 4),
            cell.precision_at_50,
            crate::report::predictor_study::floor_text(cell.floor_precision_at_50, 3),
            cell.predicted_best_rank,
            cell.held_out,
            cell.seconds
        ));
        cells.push(cell);
        write_csv(&opts.csv, &cells)?;
    }
    let summary = summarize(&cells);
    if let Some(html_path) = &opts.html {
        // The page's bands are the cells' modes (`MODE+TASK` in the transfer mode).
        let modes: Vec<Mode> = match opts.transfer {
            Some(t) => opts.modes.iter().map(|m| t.mode(m)).collect(),
            None => opts.modes.clone(),
        };
        let page = crate::report::predictor_study::page(&summary, &modes, opts.seeds, opts.epochs);
        write_atomic(html_path, |w| Ok(w.write_all(page.as_bytes())?))?;
    }
    Ok((cells, summary))
}

/// The number of architectures labelled with the benchmark's validation accuracy.
fn labelled_count<S: SearchSpace>(ds: &Dataset<S>, b: StudyBenchmark) -> Result<usize> {
    let val_metric = ds
        .first_metric(&crate::spaces::validation_metrics(S::KIND, b.task))
        .ok_or_else(|| anyhow!("the {} dataset has no validation accuracy for {}", S::KIND, b.task))?;
    Ok(ds.metric(&val_metric).map_or(0, |c| c.iter().filter(|v| !v.is_nan()).count()))
}

/// Trains and evaluates one predictor.
#[allow(clippy::too_many_arguments)]
fn run_cell<S: Featurize>(
    ds: &Dataset<S>,
    b: StudyBenchmark,
    mode: &Mode,
    mut cfg: Config,
    budget: usize,
    seed: u64,
    epochs: Option<usize>,
    transfer: Option<Transfer>,
    progress: &dyn Progress,
) -> Result<Cell> {
    cfg.network_type = Some(b.task);
    cfg.seed = cfg.seed.wrapping_add(seed);
    cfg.set_budget(budget)?;
    let transformer = cfg.model.holds_out_validation()
        || cfg.ensemble.as_ref().is_some_and(|e| e.members.iter().any(|m| m.model.holds_out_validation()));
    if let (Some(e), true) = (epochs, transformer) {
        cfg.ranker_epochs = e;
    }
    let network = S::network(b.task).map_err(|e| anyhow!(e))?;
    let val_metric = ds
        .first_metric(&crate::spaces::validation_metrics(S::KIND, b.task))
        .ok_or_else(|| anyhow!("the {} dataset has no validation accuracy for {}", S::KIND, b.task))?;
    let perm = super::train::permuted_labelled(ds, &val_metric, cfg.seed);
    if perm.len() <= budget {
        bail!("{} has {} labelled architectures: a budget of {budget} leaves none to hold out", b.name(), perm.len());
    }
    let mut held_pos = perm[budget..].to_vec();
    held_pos.sort_unstable();
    let held = Samples::new(ds, held_pos, network, &val_metric, None)?;
    let (labelled, y) = ds.labelled(&perm[..budget], &val_metric)?;
    let held_archs = ds.archs_at(&held.positions);
    let start = Instant::now();
    let mut p = crate::predictor::build(&cfg.predictor()?)?;
    let quiet = Muted(progress);
    let ctx = FitContext { seed: cfg.seed, progress: &quiet, run: None, resume: false };
    let (labelled_in, held_in) =
        (ArchList::<S> { archs: &labelled, network }, ArchList::<S> { archs: &held_archs, network });
    let score = match transfer {
        None => {
            p.fit(&Labelled { x: &labelled_in, y: &y, n_train: cfg.train_size }, &ctx)?;
            p.scores(&held_in, &quiet)?
        }
        Some(t) => {
            let prior = source_scores(ds, &cfg, t, &[&labelled, &held_archs], progress)?;
            let (lab, held) =
                (WithPrior { inner: &labelled_in, prior: &prior[0] }, WithPrior { inner: &held_in, prior: &prior[1] });
            p.fit(&Labelled { x: &lab, y: &y, n_train: cfg.train_size }, &ctx)?;
            // The predictor's score and the source's, each standardised on the labelled architectures,
            // averaged: trees on a hundred labels keep only a coarse copy of the source's order.
            let own = MeanStd::of(&p.scores(&lab, &quiet)?);
            let src = MeanStd::of(&prior[0]);
            p.scores(&held, &quiet)?
                .iter()
                .zip(&prior[1])
                .map(|(&a, &b)| standardised(a, &own) + standardised(b, &src))
                .collect()
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let top = top_figures(&score, &held.val, &[10, 50]).context("no held-out architectures")?;
    Ok(Cell {
        benchmark: b.name().to_string(),
        mode: transfer.map_or_else(|| mode.clone(), |t| t.mode(mode)),
        budget,
        seed,
        train: cfg.train_size,
        val: budget - cfg.train_size,
        held_out: held.len(),
        epochs: if transformer { cfg.ranker_epochs } else { 0 },
        kendall: kendall_tau(&score, &held.val),
        spearman: spearman_rho(&score, &held.val),
        precision_at_10: precision_at_k(&score, &held.val, 10),
        precision_at_50: precision_at_k(&score, &held.val, 50),
        precision_at_100: precision_at_k(&score, &held.val, 100),
        predicted_best_rank: top.rank_of_predicted_best,
        top10_regret: top.best - top.best_in_top[0].1,
        top50_regret: top.best - top.best_in_top[1].1,
        // No floor (NaN) where the space has no cost model (a declared space: every count is 0).
        floor_kendall: if S::has_cost_model() { kendall_tau(&held.params, &held.val) } else { f64::NAN },
        floor_precision_at_50: if S::has_cost_model() { precision_at_k(&held.params, &held.val, 50) } else { f64::NAN },
        seconds,
    })
}

/// The transfer mode's source predictor — the cell's configuration on the source task's network,
/// fitted on the source task's labels — and its standardised scores of each list of `archs` (by its
/// mean and deviation over the architectures it was fitted on).
fn source_scores<S: Featurize>(
    ds: &Dataset<S>,
    cfg: &Config,
    t: Transfer,
    archs: &[&[S::Arch]],
    progress: &dyn Progress,
) -> Result<Vec<Vec<f64>>> {
    let network = S::network(t.from).map_err(|e| anyhow!(e))?;
    let metric = ds.first_metric(&crate::spaces::validation_metrics(S::KIND, t.from)).ok_or_else(|| {
        UsageError(format!(
            "the transfer mode needs the source data set's labels: the {} dataset has no validation accuracy for {}",
            S::KIND,
            t.from
        ))
    })?;
    // Its own draw of the source labels: another stream of the cell's seed.
    let seed = cfg.seed ^ 0x7472_616e_7366_6572;
    let mut perm = super::train::permuted_labelled(ds, &metric, seed);
    perm.truncate(t.labels.unwrap_or(perm.len()));
    let (src, y) = ds.labelled(&perm, &metric)?;
    let mut p = crate::predictor::build(&cfg.predictor()?)?;
    let quiet = Muted(progress);
    let ctx = FitContext { seed, progress: &quiet, run: None, resume: false };
    // The configuration's training share (only a transformer member holds validation out).
    let n_train = (src.len() * cfg.train_size / (cfg.train_size + cfg.val_size).max(1)).clamp(1, src.len() - 1);
    p.fit(&Labelled { x: &ArchList::<S> { archs: &src, network }, y: &y, n_train }, &ctx)?;
    let scale = MeanStd::of(&p.scores(&ArchList::<S> { archs: &src, network }, &quiet)?);
    archs
        .iter()
        .map(|a| {
            Ok(p.scores(&ArchList::<S> { archs: a, network }, &quiet)?
                .iter()
                .map(|&v| standardised(v, &scale))
                .collect())
        })
        .collect()
}

/// `v` in units of `s`: minus its mean, divided by its deviation (by 1 where that is 0).
fn standardised(v: f64, s: &MeanStd) -> f64 {
    (v - s.mean) / if s.std > 0.0 { s.std } else { 1.0 }
}

/// Predictor inputs with one more column in every feature table: the transfer mode's source score.
struct WithPrior<'a> {
    inner: &'a dyn Inputs,
    prior: &'a [f64],
}

impl Inputs for WithPrior<'_> {
    fn space(&self) -> SpaceKind {
        self.inner.space()
    }
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn table(&self, sets: &[crate::features::FeatureSet]) -> Result<crate::features::Table> {
        let t = self.inner.table(sets)?;
        let cols = t.cols + 1;
        let mut data = Vec::with_capacity(t.rows * cols);
        for (r, &p) in self.prior.iter().enumerate().take(t.rows) {
            data.extend_from_slice(t.row(r));
            data.push(p);
        }
        Ok(crate::features::Table { rows: t.rows, cols, data })
    }
    fn samples(&self, rows: std::ops::Range<usize>, y: &[f64]) -> Samples {
        self.inner.samples(rows, y)
    }
}

/// Writes every cell as a CSV row (replacing the file).
fn write_csv(path: &std::path::Path, cells: &[Cell]) -> Result<()> {
    write_atomic(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        for c in cells {
            csv.serialize(c)?;
        }
        csv.flush()?;
        Ok(())
    })
}

/// Mean ± std over seeds per (benchmark, mode, budget), in the order the cells ran.
pub fn summarize(cells: &[Cell]) -> Vec<SummaryRow> {
    let mut keys: Vec<(String, Mode, usize)> = Vec::new();
    for c in cells {
        let k = (c.benchmark.clone(), c.mode.clone(), c.budget);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.into_iter()
        .map(|(benchmark, mode, budget)| {
            let group: Vec<&Cell> =
                cells.iter().filter(|c| c.benchmark == benchmark && c.mode == mode && c.budget == budget).collect();
            let f = |g: fn(&Cell) -> f64| MeanStd::of(&group.iter().map(|c| g(c)).collect::<Vec<_>>());
            SummaryRow {
                seeds: group.len(),
                kendall: f(|c| c.kendall),
                precision_at_50: f(|c| c.precision_at_50),
                predicted_best_rank: f(|c| c.predicted_best_rank as f64),
                floor_kendall: f(|c| c.floor_kendall),
                floor_precision_at_50: f(|c| c.floor_precision_at_50),
                seconds: f(|c| c.seconds),
                benchmark,
                mode,
                budget,
            }
        })
        .collect()
}
