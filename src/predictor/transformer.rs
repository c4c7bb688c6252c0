//! NAR's transformer ranker as a [`Predictor`]: trained epoch by epoch on the training rows, the
//! checkpoint chosen by validation tier accuracy on the validation rows (docs/design.md §5); scores
//! from the encoder and accuracy head, tiers from the whole model.
//!
//! Fitted with a run directory ([`FitContext::run`]), every epoch is checkpointed (`best`, `last`) and
//! logged, and a stopped run resumes to the same weights; fitted in memory, the best epoch's weights
//! are kept and [`Predictor::save`] writes them as both checkpoints.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::ModelKind;
use super::{FitContext, FitReport, Inputs, Labelled, Predictor};
use crate::progress::{Cancelled, Progress};
use crate::ranker::checkpoint::{self, Checkpoint};
use crate::ranker::config::TransformerConfig;
use crate::ranker::model::Ranker;
use crate::ranker::predict::batched;
use crate::ranker::trainer::{self, CheckpointPair, Trainer};

/// The transformer and its settings.
pub struct Transformer {
    cfg: TransformerConfig,
    seed: u64,
    model: Option<Ranker<f32>>,
    /// What [`Predictor::save`] writes after an in-memory fit (the trainer holding the best weights).
    trained: Option<Trainer>,
    /// The folder whose checkpoints the fit wrote (nothing left to save there).
    saved_in: Option<PathBuf>,
}

impl Transformer {
    pub fn new(cfg: TransformerConfig, seed: u64) -> Transformer {
        Transformer { cfg, seed, model: None, trained: None, saved_in: None }
    }

    /// The weights of checkpoint `which` in `dir`.
    pub fn load(cfg: &TransformerConfig, seed: u64, dir: &Path, which: Checkpoint) -> Result<Transformer> {
        let mut model = Ranker::<f32>::new(&cfg.ranker, seed);
        checkpoint::load_weights(&checkpoint::paths(dir, which), &mut model)?;
        Ok(Transformer { cfg: cfg.clone(), seed, model: Some(model), trained: None, saved_in: Some(dir.to_path_buf()) })
    }

    fn model(&self) -> Result<&Ranker<f32>> {
        match &self.model {
            Some(m) => Ok(m),
            None => bail!("the transformer has not been trained"),
        }
    }
}

/// One line of the epoch log, as `nar train` prints it.
fn epoch_line(line: &crate::ranker::trainer::EpochLog) -> String {
    format!(
        "epoch {:>3}  loss {:.4}  tier acc {:.3}  | val loss {:.4}  tier acc {:.3}  τ {:.3}  ρ {:.3}  ({:.1} s)",
        line.epoch,
        line.train_loss,
        line.train_tier_acc,
        line.val_loss,
        line.val_tier_acc,
        line.val_kendall,
        line.val_spearman,
        line.seconds
    )
}

impl Predictor for Transformer {
    fn kind(&self) -> ModelKind {
        ModelKind::Transformer
    }

    fn fit(&mut self, data: &Labelled<'_>, ctx: &FitContext<'_>) -> Result<FitReport> {
        data.check()?;
        let n = data.y.len();
        if data.n_train == n {
            bail!("the transformer needs validation architectures to choose its checkpoint: all {n} are training");
        }
        let mut cfg = self.cfg.clone();
        let seed = ctx.seed;
        // Batches no larger than the splits (as `Config::set_budget` sizes them).
        cfg.train_batch_size = cfg.train_batch_size.min(data.n_train);
        cfg.val_batch_size = cfg.val_batch_size.min(n - data.n_train);
        let nt = cfg.ranker.n_tier;
        if n - data.n_train < nt {
            bail!("the transformer needs at least n_tier ({nt}) validation architectures, found {}", n - data.n_train);
        }
        if data.n_train < nt.max(cfg.train_batch_size) {
            bail!(
                "the transformer needs at least one training batch ({} architectures) and n_tier ({nt}), found {}",
                cfg.train_batch_size,
                data.n_train
            );
        }
        let train = data.x.samples(0..data.n_train, &data.y[..data.n_train]);
        let val = data.x.samples(data.n_train..n, &data.y[data.n_train..]);
        let mut t = Trainer::new(&cfg, seed);
        let progress = ctx.progress;
        if let (Some(run), true) = (ctx.run, ctx.resume) {
            t.state = checkpoint::load(&checkpoint::paths(run, Checkpoint::Last), &mut t.model, &mut t.opt)?;
            progress.log(&format!("resuming after epoch {} (step {})", t.state.epochs_done, t.state.step));
        }
        if let Some(run) = ctx.run {
            trainer::write_log(&run.join(trainer::METRICS_LOG), t.state.epochs_done, None)?;
        }
        progress.log(&format!(
            "training on {} architectures ({} train / {} validation), {} parameters, {} threads",
            n,
            train.len(),
            val.len(),
            t.model.params.numel(),
            rayon::current_num_threads()
        ));
        let per_epoch = (train.len() / cfg.train_batch_size) as u64;
        progress.start(cfg.ranker_epochs as u64 * per_epoch, "training");
        progress.set(t.state.epochs_done as u64 * per_epoch);
        // In memory, the best epoch's weights (a run keeps them in its `best` checkpoint).
        let mut best: Option<Vec<f32>> = None;
        while t.state.epochs_done < cfg.ranker_epochs {
            let line = t.epoch(&train, &val, &|_, _, _| progress.inc(1));
            match ctx.run {
                Some(run) => {
                    t.save(&CheckpointPair::in_dir(run))?;
                    trainer::write_log(&run.join(trainer::METRICS_LOG), t.state.epochs_done - 1, Some(&line))?;
                }
                None => {
                    if t.mark_best() {
                        best = Some(t.model.params.data.clone());
                    }
                }
            }
            progress.log(&epoch_line(&line));
            if progress.cancelled() && t.state.epochs_done < cfg.ranker_epochs {
                progress.finish();
                let err = anyhow::Error::new(Cancelled);
                return Err(match ctx.run {
                    Some(run) => err.context(format!(
                        "training stopped after epoch {} of {}; `nar train --resume --out {}` continues it",
                        t.state.epochs_done,
                        cfg.ranker_epochs,
                        run.display()
                    )),
                    None => err,
                });
            }
        }
        progress.finish();
        let report = FitReport {
            epochs_done: t.state.epochs_done,
            best_val_acc: Some(t.state.best_val_acc).filter(|v| v.is_finite()),
            best_epoch: t.state.best_epoch,
            fit_kendall: None,
        };
        let mut model = Ranker::<f32>::new(&cfg.ranker, seed);
        match (ctx.run, best) {
            (Some(run), _) => {
                checkpoint::load_weights(&checkpoint::paths(run, Checkpoint::Best), &mut model)?;
                self.saved_in = Some(run.to_path_buf());
            }
            (None, Some(w)) => {
                model.params.data = w.clone();
                t.model.params.data = w;
                self.saved_in = None;
            }
            (None, None) => model.params.data = t.model.params.data.clone(),
        }
        self.model = Some(model);
        self.trained = Some(t);
        self.cfg = cfg;
        self.seed = seed;
        Ok(report)
    }

    fn scores(&self, x: &dyn Inputs, progress: &dyn Progress) -> Result<Vec<f64>> {
        let model = self.model()?;
        batched(x.len(), progress, |rows, ws| {
            let m = rows.len();
            let s = x.samples(rows, &vec![f64::NAN; m]);
            model.infer_scores(&s.features, m, ws).iter().map(|v| f64::from(*v)).collect()
        })
    }

    fn save(&self, dir: &Path) -> Result<()> {
        if self.saved_in.as_deref() == Some(dir) {
            return Ok(());
        }
        let Some(t) = &self.trained else {
            bail!("the transformer has not been trained in this session: nothing to save");
        };
        let pair = CheckpointPair::in_dir(dir);
        if let Some(parent) = pair.best.weights.parent() {
            std::fs::create_dir_all(parent)?;
        }
        checkpoint::save(&pair.last, &t.model, &t.opt, &t.state)?;
        checkpoint::save(&pair.best, &t.model, &t.opt, &t.state)
    }

    fn transformer(&self) -> Option<&Ranker<f32>> {
        self.model.as_ref()
    }
}
