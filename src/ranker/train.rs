//! Training and evaluating the ranker on a dataset: the reference's loop (SPEC §5) with seeded,
//! resumable state.
//!
//! - The labelled architectures are permuted with the seed; the first `train_size` train, the next
//!   `val_size` validate, the rest are held out for `nar eval`.
//! - Tier labels: within each of those sets, sorted by validation accuracy and cut into `n_tier` groups
//!   of ⌊n / n_tier⌋, the last taking the remainder.
//! - Each epoch: shuffled batches (the last partial one dropped), tier embeddings as running means of
//!   the encoder output by label, reset at the start of the epoch (the first batch sees zeros); soft
//!   cross-entropy + `loss_factor` × rank loss; AdamW with the Noam schedule; per-batch distribution
//!   statistics kept for the sampler. Validation does the same without dropout or updates.
//! - Dropout masks are a function of (seed, step), the shuffle RNG is checkpointed: a resumed run ends
//!   with the same weights as an uninterrupted one.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use super::checkpoint::{self, TrainState};
use super::config::Config;
use super::loss::{rank_loss, soft_cross_entropy};
use super::metrics::{kendall_tau, precision_at_k, spearman_rho};
use super::model::Ranker;
use super::ops::Dropout;
use super::optim::{AdamW, noam_lr};
use crate::data::Dataset;
use crate::io::write_atomic;
use crate::rng::Rng;
use crate::sampler::stats::{BatchStats, Shape, batch_stats};
use crate::space::{SearchSpace, SpaceKind};

/// The labelled architectures of a dataset, encoded for one network.
#[derive(Clone, Debug)]
pub struct Samples {
    /// Positions in the dataset.
    pub positions: Vec<usize>,
    /// Feature tensors, `feat_len` values each (`[P, d_patch²]`).
    pub features: Vec<f32>,
    pub feat_len: usize,
    pub val: Vec<f64>,
    /// Test accuracy where the dataset has it (NaN elsewhere); never used for training.
    pub test: Vec<f64>,
    pub params: Vec<f64>,
    pub flops: Vec<f64>,
    pub shapes: Vec<Shape>,
}

impl Samples {
    /// Encodes the architectures at `positions` (all must have a validation value).
    pub fn new<S: SearchSpace>(
        ds: &Dataset<S>,
        positions: Vec<usize>,
        network: S::Network,
        val_metric: &str,
        test_metric: Option<&str>,
    ) -> Result<Samples> {
        let val_col = ds.metric(val_metric).ok_or_else(|| anyhow!("the dataset has no metric {val_metric}"))?;
        let test_col = test_metric.and_then(|m| ds.metric(m));
        let mut s = Samples::unlabelled(ds, positions, network);
        s.val = s.positions.iter().map(|&i| val_col[i]).collect();
        s.test = s.positions.iter().map(|&i| test_col.map_or(f64::NAN, |t| t[i])).collect();
        if let Some(k) = s.val.iter().position(|v| v.is_nan()) {
            bail!("architecture {} has no {val_metric}", ds.ids()[s.positions[k]]);
        }
        Ok(s)
    }

    /// Encodes the architectures at `positions` whatever their labels (for ranking a whole space):
    /// validation and test accuracy are NaN.
    pub fn unlabelled<S: SearchSpace>(ds: &Dataset<S>, positions: Vec<usize>, network: S::Network) -> Samples {
        let (c, dim) = S::FEATURE_SHAPE;
        let feat_len = c * dim * dim;
        let n = positions.len();
        let mut s = Samples {
            features: Vec::with_capacity(n * feat_len),
            feat_len,
            val: vec![f64::NAN; n],
            test: vec![f64::NAN; n],
            params: Vec::with_capacity(n),
            flops: Vec::with_capacity(n),
            shapes: Vec::with_capacity(n),
            positions: Vec::new(),
        };
        for &i in &positions {
            let arch = &ds.archs()[i];
            let cost = S::cost(arch, network);
            s.features.extend(S::encode(arch, &cost).data);
            s.params.push(cost.total_params as f64);
            s.flops.push(cost.total_flops as f64);
            s.shapes.push(S::shape(arch));
        }
        s.positions = positions;
        s
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    fn gather(&self, idx: &[usize]) -> Vec<f32> {
        let mut x = Vec::with_capacity(idx.len() * self.feat_len);
        for &i in idx {
            x.extend_from_slice(&self.features[i * self.feat_len..][..self.feat_len]);
        }
        x
    }
}

/// Tier labels: sorted by value (best first), `n_tier` groups of ⌊n / n_tier⌋, the last taking the rest.
pub fn tier_labels(values: &[f64], n_tier: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let step = values.len() / n_tier;
    let mut labels = vec![0; values.len()];
    for (rank, &i) in idx.iter().enumerate() {
        labels[i] = rank.checked_div(step).map_or(n_tier - 1, |t| t.min(n_tier - 1));
    }
    labels
}

/// Running means of encoder outputs per tier.
#[derive(Clone, Debug)]
pub struct Buckets {
    n_tier: usize,
    len: usize,
    sums: Vec<f64>,
    counts: Vec<usize>,
}

impl Buckets {
    pub fn new(n_tier: usize, len: usize) -> Buckets {
        Buckets { n_tier, len, sums: vec![0.0; n_tier * len], counts: vec![0; n_tier] }
    }

    /// The current embeddings `[n_tier, P, d]` (zeros for an empty tier).
    pub fn embeddings(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.n_tier * self.len];
        for t in 0..self.n_tier {
            if self.counts[t] > 0 {
                let n = self.counts[t] as f64;
                for j in 0..self.len {
                    out[t * self.len + j] = (self.sums[t * self.len + j] / n) as f32;
                }
            }
        }
        out
    }

    /// Adds encoder outputs (`[B, P, d]`) to the tiers given per architecture.
    pub fn add(&mut self, enc_out: &[f32], tiers: &[usize]) {
        for (b, &t) in tiers.iter().enumerate() {
            let src = &enc_out[b * self.len..][..self.len];
            self.sums[t * self.len..][..self.len].iter_mut().zip(src).for_each(|(s, v)| *s += f64::from(*v));
            self.counts[t] += 1;
        }
    }
}

/// What a run directory records about its data (`run.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    pub space: SpaceKind,
    pub dataset: PathBuf,
    pub network: String,
    pub val_metric: String,
    pub test_metric: Option<String>,
    pub seed: u64,
    /// Dataset positions of the training and validation architectures.
    pub train: Vec<usize>,
    pub val: Vec<usize>,
}

impl RunMeta {
    pub fn load(run_dir: &Path) -> Result<RunMeta> {
        let p = run_dir.join("run.json");
        let text = std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{}: corrupted run description", p.display()))
    }
}

/// One epoch's figures (a line of `metrics.jsonl`).
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

fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().fold(0, |best, (i, x)| if *x > v[best] { i } else { best })
}

fn mix(a: u64, b: u64) -> u64 {
    let mut r = Rng::new(a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    r.next_u64()
}

/// A training run in progress.
pub struct Trainer {
    pub cfg: Config,
    pub model: Ranker<f32>,
    pub opt: AdamW,
    pub state: TrainState,
    grads: Vec<f32>,
}

impl Trainer {
    pub fn new(cfg: &Config) -> Trainer {
        let model = Ranker::<f32>::new(&cfg.ranker, cfg.seed);
        let n = model.params.numel();
        Trainer {
            cfg: cfg.clone(),
            opt: AdamW::new(&cfg.optimizer, n),
            model,
            state: TrainState {
                epochs_done: 0,
                step: 0,
                rng_state: mix(cfg.seed, 1),
                best_val_acc: f64::NEG_INFINITY,
                best_epoch: None,
                val_acc: f64::NAN,
                distri: Vec::new(),
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
        let drop = train.then(|| Dropout { p: self.cfg.ranker.dropout, seed: mix(self.cfg.seed, self.state.step + 1) });
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
            let shapes: Vec<Shape> = idx.iter().map(|&i| s.shapes[i]).collect();
            stats = Some(batch_stats(&pick(&s.params), &pick(&s.flops), &shapes, labels, nt, self.cfg.bins));
        }
        buckets.add(&out.enc_out, labels);
        stats
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
        let bs = self.cfg.val_batch();
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

/// Tier embeddings for inference: the mean encoder output of the training architectures per tier
/// label, computed without dropout.
pub fn reference_embeddings(model: &Ranker<f32>, train: &Samples, batch: usize) -> Vec<f32> {
    let nt = model.cfg.n_tier;
    let len = model.cfg.n_arch_patch * model.cfg.d_model;
    let labels = tier_labels(&train.val, nt);
    let mut buckets = Buckets::new(nt, len);
    let zeros = vec![0f32; nt * len];
    let idx: Vec<usize> = (0..train.len()).collect();
    for chunk in idx.chunks(batch) {
        let (out, _) = model.forward(&train.gather(chunk), chunk.len(), &zeros, None);
        let l: Vec<usize> = chunk.iter().map(|&i| labels[i]).collect();
        buckets.add(&out.enc_out, &l);
    }
    buckets.embeddings()
}

/// Predicted tier and score of every architecture in `s`, with fixed tier embeddings.
pub fn predict(
    model: &Ranker<f32>,
    s: &Samples,
    tiers: &[f32],
    batch: usize,
    progress: &dyn Fn(usize),
) -> (Vec<usize>, Vec<f64>) {
    let nt = model.cfg.n_tier;
    let mut tier = Vec::with_capacity(s.len());
    let mut score = Vec::with_capacity(s.len());
    let idx: Vec<usize> = (0..s.len()).collect();
    for chunk in idx.chunks(batch) {
        let (out, _) = model.forward(&s.gather(chunk), chunk.len(), tiers, None);
        for i in 0..chunk.len() {
            tier.push(argmax(&out.logits[i * nt..][..nt]));
        }
        score.extend(out.score.iter().map(|v| f64::from(*v)));
        progress(chunk.len());
    }
    (tier, score)
}

/// Held-out evaluation results (`eval.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub checkpoint: String,
    pub held_out: usize,
    pub tier_acc: f64,
    /// Confusion matrix: `[true tier][predicted tier]`.
    pub confusion: Vec<Vec<usize>>,
    pub kendall_val: f64,
    pub spearman_val: f64,
    pub kendall_test: Option<f64>,
    pub spearman_test: Option<f64>,
    /// `(K, precision@K against validation accuracy)`.
    pub precision_at_k: Vec<(usize, f64)>,
    /// Zero-cost floor: Kendall τ of total parameter count against validation accuracy.
    pub kendall_params_baseline: f64,
    pub archs_per_second: f64,
}

/// One held-out architecture's prediction (a row of `predictions.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub position: usize,
    pub score: f64,
    pub true_tier: usize,
    pub predicted_tier: usize,
    pub val: f64,
    pub test: f64,
}

/// Evaluates a ranker on held-out samples: the report and every architecture's prediction.
pub fn evaluate(
    model: &Ranker<f32>,
    train: &Samples,
    held: &Samples,
    batch: usize,
    checkpoint: &str,
    progress: &dyn Fn(usize),
) -> (EvalReport, Vec<Prediction>) {
    let nt = model.cfg.n_tier;
    let tiers = reference_embeddings(model, train, batch);
    let start = Instant::now();
    let (pred, score) = predict(model, held, &tiers, batch, progress);
    let secs = start.elapsed().as_secs_f64();
    let truth = tier_labels(&held.val, nt);
    let mut confusion = vec![vec![0; nt]; nt];
    for (t, p) in truth.iter().zip(&pred) {
        confusion[*t][*p] += 1;
    }
    let correct = truth.iter().zip(&pred).filter(|(a, b)| a == b).count();
    let has_test = held.test.iter().all(|v| !v.is_nan());
    let predictions = (0..held.len())
        .map(|i| Prediction {
            position: held.positions[i],
            score: score[i],
            true_tier: truth[i],
            predicted_tier: pred[i],
            val: held.val[i],
            test: held.test[i],
        })
        .collect();
    let report = EvalReport {
        checkpoint: checkpoint.to_string(),
        held_out: held.len(),
        tier_acc: correct as f64 / held.len().max(1) as f64,
        confusion,
        kendall_val: kendall_tau(&score, &held.val),
        spearman_val: spearman_rho(&score, &held.val),
        kendall_test: has_test.then(|| kendall_tau(&score, &held.test)),
        spearman_test: has_test.then(|| spearman_rho(&score, &held.test)),
        precision_at_k: [10, 50, 100, 500].iter().map(|&k| (k, precision_at_k(&score, &held.val, k))).collect(),
        kendall_params_baseline: kendall_tau(&held.params, &held.val),
        archs_per_second: held.len() as f64 / secs,
    };
    (report, predictions)
}

/// Appends a line to the metrics log, keeping only the first `keep` earlier lines (resume).
pub fn write_log(path: &Path, keep: usize, line: Option<&EpochLog>) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines: Vec<String> = old.lines().take(keep).map(str::to_string).collect();
    if let Some(l) = line {
        lines.push(serde_json::to_string(l)?);
    }
    write_atomic(path, |w| {
        for l in &lines {
            writeln!(w, "{l}")?;
        }
        Ok(())
    })
}

/// Saves `last` (and `best` when this epoch is the best so far).
pub fn save_checkpoints(run_dir: &Path, t: &mut Trainer) -> Result<()> {
    if t.state.val_acc > t.state.best_val_acc {
        t.state.best_val_acc = t.state.val_acc;
        t.state.best_epoch = Some(t.state.epochs_done - 1);
        checkpoint::save(run_dir, "best", &t.model, &t.opt, &t.state)?;
    }
    checkpoint::save(run_dir, "last", &t.model, &t.opt, &t.state)
}
