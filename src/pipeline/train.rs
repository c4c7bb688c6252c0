//! `nar train`: a new run (configuration, dataset, seeded split) trained to the end, or a stopped run
//! resumed from its last checkpoint.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};

use crate::data::{self, DataSource, Dataset, store};
use crate::progress::{Cancelled, Progress};
use crate::ranker::checkpoint;
use crate::ranker::config::{Config, ModelKind};
use crate::ranker::gbdt::Gbdt;
use crate::ranker::metrics::kendall_tau;
use crate::ranker::samples::Samples;
use crate::ranker::trainer::Trainer;
use crate::rng::Rng;
use crate::run_dir::{RunDir, RunMeta};
use crate::space::{ImageDataset, SearchSpace};
use crate::with_dataset;

/// A new training run.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    pub config: Config,
    pub data: DataSource,
    /// The run directory to create.
    pub out: PathBuf,
    /// The image dataset (overrides the configuration's `network_type`).
    pub network: Option<ImageDataset>,
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
    pub epochs_done: usize,
    pub best_val_acc: f64,
    pub best_epoch: Option<usize>,
    /// Kendall τ of the trees' scores on the architectures they were fitted on (`model: gbdt` runs,
    /// which have no epochs, tiers or validation set): how closely they fit, not how well they rank
    /// others — `nar eval` measures that.
    pub fit_kendall: Option<f64>,
}

impl TrainOptions {
    /// The configuration with the options applied.
    pub fn effective_config(&self) -> Result<Config> {
        let mut cfg = self.config.clone();
        if let Some(e) = self.epochs {
            cfg.ranker_epochs = e;
        }
        if let Some(n) = self.network {
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
    check_out(&opts.out, opts.replace)?;
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
    let (run, meta) = with_dataset!(&ds, d => new_run(d, &cfg, &opts.data, &opts.out, opts.replace))?;
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
    let network = cfg.network();
    S::network(network).map_err(|e| anyhow!(e))?;
    let candidates = data::validation_metrics(S::KIND, network);
    let val_metric = ds.first_metric(&candidates).ok_or_else(|| {
        anyhow!("{source} has no validation accuracy for {network} (looked for {})", candidates.join(", "))
    })?;
    let test_metric = ds.first_metric(&data::test_metrics(S::KIND, network));
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
        network,
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

fn train_loop<S: SearchSpace>(
    ds: &Dataset<S>,
    cfg: &Config,
    meta: &RunMeta,
    run: &RunDir,
    resume: bool,
    progress: &dyn Progress,
) -> Result<TrainSummary> {
    let network = S::network(meta.network).map_err(|e| anyhow!(e))?;
    if cfg.model == ModelKind::Gbdt {
        let labelled = [meta.train.as_slice(), &meta.val].concat();
        let all = Samples::new(ds, labelled, network, &meta.val_metric, None)?;
        return fit_trees(cfg, meta, run, &all, progress);
    }
    let train_s = Samples::new(ds, meta.train.clone(), network, &meta.val_metric, None)?;
    let val_s = Samples::new(ds, meta.val.clone(), network, &meta.val_metric, None)?;
    let mut t = Trainer::new(cfg);
    if resume {
        t.state = checkpoint::load(&run.checkpoint(crate::run_dir::Checkpoint::Last), &mut t.model, &mut t.opt)?;
        progress.log(&format!("resuming after epoch {} (step {})", t.state.epochs_done, t.state.step));
    }
    run.write_log(t.state.epochs_done, None)?;
    progress.log(&format!(
        "training on {} {} ({} train / {} validation by {}), {} parameters, {} threads",
        S::KIND,
        meta.network,
        train_s.len(),
        val_s.len(),
        meta.val_metric,
        t.model.params.numel(),
        rayon::current_num_threads()
    ));
    let start = Instant::now();
    let per_epoch = (train_s.len() / cfg.train_batch_size) as u64;
    progress.start(cfg.ranker_epochs as u64 * per_epoch, "training");
    progress.set(t.state.epochs_done as u64 * per_epoch);
    let checkpoints = run.checkpoints();
    while t.state.epochs_done < cfg.ranker_epochs {
        let line = t.epoch(&train_s, &val_s, &|_, _, _| progress.inc(1));
        t.save(&checkpoints)?;
        run.write_log(t.state.epochs_done - 1, Some(&line))?;
        progress.log(&format!(
            "epoch {:>3}  loss {:.4}  tier acc {:.3}  | val loss {:.4}  tier acc {:.3}  τ {:.3}  ρ {:.3}  ({:.1} s)",
            line.epoch,
            line.train_loss,
            line.train_tier_acc,
            line.val_loss,
            line.val_tier_acc,
            line.val_kendall,
            line.val_spearman,
            line.seconds
        ));
        if progress.cancelled() && t.state.epochs_done < cfg.ranker_epochs {
            progress.finish();
            return Err(anyhow::Error::new(Cancelled).context(format!(
                "training stopped after epoch {} of {}; `nar train --resume --out {}` continues it",
                t.state.epochs_done,
                cfg.ranker_epochs,
                run.root().display()
            )));
        }
    }
    progress.finish();
    Ok(TrainSummary {
        run: run.clone(),
        seconds: start.elapsed().as_secs_f64(),
        epochs_done: t.state.epochs_done,
        best_val_acc: t.state.best_val_acc,
        best_epoch: t.state.best_epoch,
        fit_kendall: None,
    })
}

/// A `model: gbdt` run: fits the trees on every labelled architecture of the budget (training and
/// validation splits together: the trees choose no checkpoint, so they need no validation set) and
/// saves them. Resuming fits again (the result is the same).
fn fit_trees(
    cfg: &Config,
    meta: &RunMeta,
    run: &RunDir,
    labelled: &Samples,
    progress: &dyn Progress,
) -> Result<TrainSummary> {
    let g = cfg.gbdt();
    progress.log(&format!(
        "fitting {} gradient-boosted trees on {} {} ({} labelled architectures: {} train + {} validation, by {})",
        g.iterations,
        meta.space,
        meta.network,
        labelled.len(),
        meta.train.len(),
        meta.val.len(),
        meta.val_metric
    ));
    let start = Instant::now();
    let trees = Gbdt::fit(&g, labelled, cfg.seed)?;
    trees.save(&run.trees_path())?;
    let fit_kendall = kendall_tau(&trees.scores(&labelled.features, labelled.len()), &labelled.val);
    Ok(TrainSummary {
        run: run.clone(),
        seconds: start.elapsed().as_secs_f64(),
        epochs_done: 0,
        best_val_acc: f64::NAN,
        best_epoch: None,
        fit_kendall: Some(fit_kendall),
    })
}
