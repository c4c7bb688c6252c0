//! `nar train`: a new run (configuration, dataset, seeded split) trained to the end, or a stopped run
//! resumed from its last checkpoint.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};

use crate::config::Config;
use crate::data::{Dataset, store};
use crate::features::Featurize;
use crate::predictor::{ArchList, FitContext, Labelled};
use crate::progress::Progress;
use crate::rng::Rng;
use crate::run_dir::{RunDir, RunMeta};
use crate::space::{SearchSpace, Task};
use crate::spaces::DataSource;
use crate::with_dataset;

/// A new training run.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    pub config: Config,
    pub data: DataSource,
    /// The run directory to create.
    pub out: PathBuf,
    /// The task (overrides the configuration's `network_type`).
    pub task: Option<Task>,
    /// Epochs (overrides `ranker_epochs`).
    pub epochs: Option<usize>,
    /// Query budget: labelled architectures training and validation may see together, split in the
    /// configuration's train/validation proportion.
    pub budget: Option<usize>,
    /// Replace a run already in `out` (otherwise a non-empty `out` is refused).
    pub replace: bool,
}

/// What a finished training run reports.
#[derive(Clone, Debug)]
pub struct TrainSummary {
    pub run: RunDir,
    pub seconds: f64,
    /// What the predictor's fit reports (epochs and the best validation tier accuracy for the
    /// transformer; for tree models the τ on the architectures fitted on — how closely they fit, not
    /// how well they rank others: `nar eval` measures that).
    pub fit: crate::predictor::FitReport,
}

impl TrainOptions {
    /// The configuration with the options applied.
    pub fn effective_config(&self) -> Result<Config> {
        let mut cfg = self.config.clone();
        if let Some(e) = self.epochs {
            cfg.ranker_epochs = e;
        }
        if let Some(n) = self.task {
            cfg.network_type = Some(n);
        }
        if let Some(b) = self.budget {
            cfg.set_budget(b)?;
        }
        cfg.check()?;
        Ok(cfg)
    }
}

/// Trains a new run into `opts.out`: validates the configuration and the dataset, draws the split,
/// writes the run's configuration and description (and the dataset, when it was built here), then
/// trains with a checkpoint after every epoch.
pub fn train(opts: &TrainOptions, progress: &dyn Progress) -> Result<TrainSummary> {
    // The folder the path names (`newsub/..` is an existing one), before the never-overwrite rule.
    let out = crate::io::resolve_output_dir(&opts.out)?;
    check_out(&out, opts.replace)?;
    let cfg = opts.effective_config()?;
    if let Some(space) = opts.data.space()
        && space != cfg.space
    {
        bail!("the configuration is for {} but the dataset ({}) is {space}", cfg.space, opts.data);
    }
    progress.log(&format!("dataset: {}", opts.data));
    let ds = opts.data.load(&mut |line| progress.log(&line))?;
    if ds.space() != cfg.space {
        bail!("the configuration is for {} but {} holds {}", cfg.space, opts.data, ds.space());
    }
    // A declared space's dataset has just made its declaration known.
    let mut cfg = cfg;
    cfg.fit_to_space();
    cfg.check()?;
    let (run, meta) = with_dataset!(&ds, d => new_run(d, &cfg, &opts.data, &out, opts.replace))?;
    with_dataset!(&ds, d => train_loop(d, &cfg, &meta, &run, false, progress))
}

/// Continues the run in `root` from its `last` checkpoint to the configured number of epochs.
pub fn resume(root: &Path, progress: &dyn Progress) -> Result<TrainSummary> {
    let run = RunDir::open(root)?;
    let cfg = run.read_config()?;
    let meta = run.read_meta()?;
    let ds = run.open_dataset(&meta)?;
    with_dataset!(&ds, d => train_loop(d, &cfg, &meta, &run, true, progress))
}

/// Refuses an output folder that is a file, or that holds anything unless `replace` is asked and it
/// is a run directory (nar deletes run directories only).
fn check_out(out: &Path, replace: bool) -> Result<()> {
    if out.exists() && !out.is_dir() {
        bail!("{} exists and is not a directory", out.display());
    }
    let mut entries = match std::fs::read_dir(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", out.display())),
        Ok(entries) => entries,
    };
    if entries.next().is_none() {
        return Ok(());
    }
    let is_run = RunDir::open(out).is_ok();
    match (replace, is_run) {
        (false, true) => bail!("{} already holds a run: `--resume` continues it, `--force` replaces it", out.display()),
        (false, false) => bail!("{} is not empty: give a new or empty directory", out.display()),
        (true, false) => {
            bail!("{} is not empty and is not a run directory: nar replaces run directories only", out.display())
        }
        (true, true) => Ok(()),
    }
}

/// Positions of the architectures labelled with `metric`, permuted by the seed.
pub(crate) fn permuted_labelled<S: SearchSpace>(ds: &Dataset<S>, metric: &str, seed: u64) -> Vec<usize> {
    let col = ds.metric(metric).unwrap_or(&[]);
    let labelled: Vec<usize> = (0..col.len()).filter(|&i| !col[i].is_nan()).collect();
    let perm = Rng::new(seed).permutation(labelled.len());
    perm.into_iter().map(|i| labelled[i]).collect()
}

/// Draws the split and writes the new run's files (configuration, description, dataset).
fn new_run<S: SearchSpace>(
    ds: &Dataset<S>,
    cfg: &Config,
    source: &DataSource,
    out: &Path,
    replace: bool,
) -> Result<(RunDir, RunMeta)> {
    let task = cfg.task();
    S::network(task).map_err(|e| anyhow!(e))?;
    let candidates = crate::spaces::validation_metrics(S::KIND, task);
    let val_metric = ds.first_metric(&candidates).ok_or_else(|| {
        anyhow!("{source} has no validation accuracy for {task} (looked for {})", candidates.join(", "))
    })?;
    let test_metric = ds.first_metric(&crate::spaces::test_metrics(S::KIND, task));
    let perm = permuted_labelled(ds, &val_metric, cfg.seed);
    let need = cfg.train_size + cfg.val_size;
    if perm.len() < need {
        bail!("{source} has {} architectures with {val_metric}; the configuration needs {need}", perm.len());
    }
    if replace && RunDir::open(out).is_ok() {
        std::fs::remove_dir_all(out).with_context(|| format!("cannot remove the old run in {}", out.display()))?;
    }
    let run = RunDir::create(out)?;
    let dataset = match source {
        DataSource::Store(p) => std::fs::canonicalize(p).with_context(|| format!("cannot resolve {}", p.display()))?,
        _ => {
            store::write(ds, &run.dataset_path())?;
            PathBuf::from(run.dataset_path().file_name().expect("a file name"))
        }
    };
    let meta = RunMeta {
        space: S::KIND,
        dataset,
        task,
        val_metric,
        test_metric,
        seed: cfg.seed,
        train: perm[..cfg.train_size].to_vec(),
        val: perm[cfg.train_size..need].to_vec(),
    };
    run.write_config(cfg)?;
    run.write_meta(&meta)?;
    Ok((run, meta))
}

/// Fits the run's predictor on its training and validation architectures and saves it in the run
/// (a transformer checkpoints every epoch while it trains; resuming continues from the last one, and
/// fits a tree model again — to the same result).
fn train_loop<S: Featurize>(
    ds: &Dataset<S>,
    cfg: &Config,
    meta: &RunMeta,
    run: &RunDir,
    resume: bool,
    progress: &dyn Progress,
) -> Result<TrainSummary> {
    let network = S::network(meta.task).map_err(|e| anyhow!(e))?;
    let positions = [meta.train.as_slice(), &meta.val].concat();
    let (archs, y) = ds.labelled(&positions, &meta.val_metric)?;
    let x = ArchList::<S> { archs: &archs, network };
    progress.log(&format!(
        "{} on {} {}: {} train + {} validation architectures, by {}",
        cfg.model.name(),
        S::KIND,
        meta.task,
        meta.train.len(),
        meta.val.len(),
        meta.val_metric
    ));
    let start = Instant::now();
    let mut p = crate::predictor::build(&cfg.predictor()?)?;
    let ctx = FitContext { seed: cfg.seed, progress, run: Some(run.root()), resume };
    let fit = p.fit(&Labelled { x: &x, y: &y, n_train: meta.train.len() }, &ctx)?;
    p.save(run.root())?;
    Ok(TrainSummary { run: run.clone(), seconds: start.elapsed().as_secs_f64(), fit })
}
