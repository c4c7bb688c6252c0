//! Training the ranker: the reference's loop with seeded, resumable state.
//!
//! - Tier labels: within the training set (and, separately, the validation set), sorted by validation
//!   accuracy and cut into `n_tier` groups ([`super::tiers::tier_labels`]).
//! - Each epoch: shuffled batches (the last partial one dropped), tier embeddings as running means of
//!   the encoder output by label, reset at the start of the epoch (the first batch sees zeros); soft
//!   cross-entropy + `loss_factor` × rank loss; AdamW with the Noam schedule; per-batch distribution
//!   statistics kept for the sampler. Validation does the same without dropout or updates.
//! - Dropout masks are a function of (seed, step), the shuffle RNG is checkpointed: a resumed run ends
//!   with the same weights as an uninterrupted one.
//!
//! `docs/design.md` ("The ranker") states the layers, losses and schedule this follows.

use std::time::Instant;

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::checkpoint::{self, CheckpointPaths, TrainState};
use super::config::TransformerConfig;
use super::loss::{rank_loss, soft_cross_entropy};
use super::metrics::{kendall_tau, spearman_rho};
use super::model::Ranker;
use super::ops::Dropout;
use super::optim::{AdamW, noam_lr};
use super::predict::argmax;
use super::samples::Samples;
use super::tiers::{Buckets, tier_labels};
use crate::rng::{Rng, mix};
use crate::stats::{BatchStats, Shape, batch_stats};

/// One epoch's figures (a line of the run's metrics log).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    pub epoch: usize,
    pub lr: f64,
    pub seconds: f64,
    pub train_loss: f64,
    pub train_ce: f64,
    pub train_rank_loss: f64,
    pub train_tier_acc: f64,
    pub train_kendall: f64,
    pub train_spearman: f64,
    pub val_loss: f64,
    pub val_ce: f64,
    pub val_rank_loss: f64,
    pub val_tier_acc: f64,
    pub val_kendall: f64,
    pub val_spearman: f64,
}

#[derive(Default)]
struct Pass {
    loss: f64,
    ce: f64,
    rank: f64,
    correct: usize,
    seen: usize,
    batches: usize,
    scores: Vec<f64>,
    truth: Vec<f64>,
}

impl Pass {
    fn kendall(&self) -> f64 {
        kendall_tau(&self.scores, &self.truth)
    }
    fn spearman(&self) -> f64 {
        spearman_rho(&self.scores, &self.truth)
    }
    fn mean(&self, v: f64) -> f64 {
        v / self.batches.max(1) as f64
    }
}

/// A training run in progress.
pub struct Trainer {
    pub cfg: TransformerConfig,
    /// The run's seed: initialisation, shuffling and dropout masks.
    pub seed: u64,
    pub model: Ranker<f32>,
    pub opt: AdamW,
    pub state: TrainState,
    grads: Vec<f32>,
}

impl Trainer {
    pub fn new(cfg: &TransformerConfig, seed: u64) -> Trainer {
        let model = Ranker::<f32>::new(&cfg.ranker, seed);
        let n = model.params.numel();
        Trainer {
            cfg: cfg.clone(),
            seed,
            opt: AdamW::new(&cfg.optimizer, n),
            model,
            state: TrainState {
                epochs_done: 0,
                step: 0,
                rng_state: mix(seed, 1),
                best_val_acc: f64::NEG_INFINITY,
                best_epoch: None,
                val_acc: f64::NAN,
                distri: Vec::new(),
                weights_sha256: None,
                optim_sha256: None,
            },
            grads: vec![0.0; n],
        }
    }

    fn emb_len(&self) -> usize {
        self.cfg.ranker.n_arch_patch * self.cfg.ranker.d_model
    }

    /// One batch: forward, losses, and (when training) backward and an optimiser step.
    fn batch(
        &mut self,
        s: &Samples,
        idx: &[usize],
        labels: &[usize],
        buckets: &mut Buckets,
        train: bool,
        pass: &mut Pass,
    ) -> Option<BatchStats> {
        let nt = self.cfg.ranker.n_tier;
        let b = idx.len();
        let x = s.gather(idx);
        let tiers = buckets.embeddings();
        let drop = train.then(|| Dropout { p: self.cfg.ranker.dropout, seed: mix(self.seed, self.state.step + 1) });
        let (out, cache) = self.model.forward(&x, b, &tiers, drop);
        let mut target = vec![0f32; b * nt];
        labels.iter().enumerate().for_each(|(i, &t)| target[i * nt + t] = 1.0);
        let (ce, dlogits) = soft_cross_entropy(&out.logits, &target, nt);
        let vals: Vec<f64> = idx.iter().map(|&i| s.val[i]).collect();
        let (rank, dscore) = if self.cfg.aux_loss { rank_loss(&out.score, &vals) } else { (0.0, vec![0.0; b]) };
        let factor = self.cfg.loss_factor;
        pass.loss += ce + factor * rank;
        pass.ce += ce;
        pass.rank += rank;
        pass.batches += 1;
        pass.seen += b;
        pass.correct += (0..b).filter(|&i| argmax(&out.logits[i * nt..][..nt]) == labels[i]).count();
        pass.scores.extend(out.score.iter().map(|v| f64::from(*v)));
        pass.truth.extend(&vals);
        let mut stats = None;
        if train {
            let dscore: Vec<f32> = dscore.iter().map(|v| v * factor as f32).collect();
            self.grads.iter_mut().for_each(|g| *g = 0.0);
            self.model.backward(&cache, &dlogits, &dscore, &mut self.grads);
            self.state.step += 1;
            let lr = noam_lr(&self.cfg.lr_scheduler, self.cfg.ranker.d_model, self.state.step);
            self.opt.step(&mut self.model.params.data, &self.grads, lr);
            let pick = |v: &[f64]| idx.iter().map(|&i| v[i]).collect::<Vec<f64>>();
            let shapes: Vec<Shape> = idx.iter().map(|&i| s.shapes[i].clone()).collect();
            stats = Some(batch_stats(&pick(&s.params), &pick(&s.flops), &shapes, labels, nt, self.cfg.bins));
        }
        buckets.add(&out.enc_out, labels);
        stats
    }

    /// One training step on the architectures `idx` of `s` with tier labels `labels` (forward, losses,
    /// backward, AdamW), the tier embeddings taken from and added to `buckets`: what [`Trainer::epoch`]
    /// runs per batch. Returns the batch's loss.
    pub fn train_step(&mut self, s: &Samples, idx: &[usize], labels: &[usize], buckets: &mut Buckets) -> f64 {
        let mut pass = Pass::default();
        self.batch(s, idx, labels, buckets, true, &mut pass);
        pass.loss
    }

    /// One epoch of training and validation; returns its log line.
    pub fn epoch(&mut self, train: &Samples, val: &Samples, progress: &dyn Fn(usize, usize, f64)) -> EpochLog {
        let start = Instant::now();
        let nt = self.cfg.ranker.n_tier;
        let bs = self.cfg.train_batch_size;
        let train_labels = tier_labels(&train.val, nt);
        let mut order: Vec<usize> = (0..train.len()).collect();
        let mut rng = Rng::new(self.state.rng_state);
        rng.shuffle(&mut order);
        self.state.rng_state = rng.state;
        let mut buckets = Buckets::new(nt, self.emb_len());
        let mut tp = Pass::default();
        let mut distri = Vec::new();
        let n_batches = train.len() / bs;
        for k in 0..n_batches {
            let idx = &order[k * bs..(k + 1) * bs];
            let labels: Vec<usize> = idx.iter().map(|&i| train_labels[i]).collect();
            if let Some(st) = self.batch(train, idx, &labels, &mut buckets, true, &mut tp) {
                distri.push(st);
            }
            progress(k + 1, n_batches, tp.mean(tp.loss));
        }
        self.state.distri = distri;
        let vp = self.validate(val);
        self.state.epochs_done += 1;
        self.state.val_acc = vp.correct as f64 / vp.seen.max(1) as f64;
        EpochLog {
            epoch: self.state.epochs_done - 1,
            lr: noam_lr(&self.cfg.lr_scheduler, self.cfg.ranker.d_model, self.state.step),
            seconds: start.elapsed().as_secs_f64(),
            train_loss: tp.mean(tp.loss),
            train_ce: tp.mean(tp.ce),
            train_rank_loss: tp.mean(tp.rank),
            train_tier_acc: tp.correct as f64 / tp.seen.max(1) as f64,
            train_kendall: tp.kendall(),
            train_spearman: tp.spearman(),
            val_loss: vp.mean(vp.loss),
            val_ce: vp.mean(vp.ce),
            val_rank_loss: vp.mean(vp.rank),
            val_tier_acc: self.state.val_acc,
            val_kendall: vp.kendall(),
            val_spearman: vp.spearman(),
        }
    }

    fn validate(&mut self, val: &Samples) -> Pass {
        let nt = self.cfg.ranker.n_tier;
        let bs = self.cfg.val_batch_size;
        let labels = tier_labels(&val.val, nt);
        let mut buckets = Buckets::new(nt, self.emb_len());
        let mut vp = Pass::default();
        let order: Vec<usize> = (0..val.len()).collect();
        for k in 0..val.len() / bs {
            let idx = &order[k * bs..(k + 1) * bs];
            let l: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
            self.batch(val, idx, &l, &mut buckets, false, &mut vp);
        }
        vp
    }
}

/// Where a trainer saves its checkpoints: `best` (the best validation tier accuracy so far) and `last`.
pub struct CheckpointPair {
    pub best: CheckpointPaths,
    pub last: CheckpointPaths,
}

impl CheckpointPair {
    /// Both checkpoints of the transformer whose files are in `dir`.
    pub fn in_dir(dir: &Path) -> CheckpointPair {
        CheckpointPair {
            best: checkpoint::paths(dir, checkpoint::Checkpoint::Best),
            last: checkpoint::paths(dir, checkpoint::Checkpoint::Last),
        }
    }
}

impl Trainer {
    /// Records the epoch just finished as the best so far when its validation tier accuracy is higher
    /// than the best's; says whether it was.
    pub fn mark_best(&mut self) -> bool {
        let better = self.state.val_acc > self.state.best_val_acc;
        if better {
            self.state.best_val_acc = self.state.val_acc;
            self.state.best_epoch = Some(self.state.epochs_done - 1);
        }
        better
    }

    /// Saves `last`, and `best` when the epoch just finished is the best so far.
    pub fn save(&mut self, to: &CheckpointPair) -> Result<()> {
        if self.mark_best() {
            checkpoint::save(&to.best, &self.model, &self.opt, &self.state)?;
        }
        checkpoint::save(&to.last, &self.model, &self.opt, &self.state)
    }
}

/// The epoch log's file, in the transformer's folder: one JSON [`EpochLog`] a line.
pub const METRICS_LOG: &str = "metrics.jsonl";

/// The epochs logged in `path` so far.
pub fn read_log(path: &Path) -> Result<Vec<EpochLog>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{}: line {}", path.display(), i + 1)))
        .collect()
}

/// Rewrites the epoch log in `path` with its first `keep` lines and then `line` (resuming drops the
/// epochs logged after the checkpoint it resumes from).
pub fn write_log(path: &Path, keep: usize, line: Option<&EpochLog>) -> Result<()> {
    let old = if path.exists() {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
    } else {
        String::new()
    };
    let mut lines: Vec<String> = old.lines().take(keep).map(str::to_string).collect();
    if let Some(l) = line {
        lines.push(serde_json::to_string(l)?);
    }
    crate::io::write_atomic(path, |w| {
        for l in &lines {
            writeln!(w, "{l}")?;
        }
        Ok(())
    })
}

/// A run's epoch log.
impl crate::run_dir::RunDir {
    /// Where the epochs are logged.
    pub fn metrics_log_path(&self) -> std::path::PathBuf {
        self.file(METRICS_LOG)
    }

    /// The epochs logged so far.
    pub fn read_log(&self) -> anyhow::Result<Vec<EpochLog>> {
        read_log(&self.metrics_log_path())
    }
}
