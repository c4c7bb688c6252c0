//! The ranker's speed figures (`nar bench train`): the library's own training step
//! ([`Trainer::train_step`], what training runs per batch) and its inference pass, on synthetic inputs of
//! a configuration's sizes. The command line prints them beside PyTorch's.

use std::hint::black_box;
use std::time::Instant;

use super::config::TransformerConfig;
use super::samples::Samples;
use super::tiers::{Buckets, tier_labels};
use super::trainer::Trainer;
use crate::rng::Rng;
use crate::space::SpaceKind;
use crate::stats::Shape;

/// What one model size measures.
#[derive(Clone, Copy, Debug)]
pub struct TrainFigures {
    /// Median wall time of a training step (forward, losses, backward, AdamW), after one warm-up step.
    pub step_ms: f64,
    /// Architectures per second of the inference pass (score and tiers) on batches of the same size.
    pub infer_per_s: f64,
    /// The model's parameter count.
    pub params: usize,
}

/// `batch` architectures of random features, accuracies and costs, sized for `cfg`'s feature tensor in
/// `space`.
fn synthetic(cfg: &TransformerConfig, space: SpaceKind, batch: usize, rng: &mut Rng) -> Samples {
    let r = &cfg.ranker;
    let feat_len = r.n_arch_patch * r.d_patch * r.d_patch;
    let uniform = |rng: &mut Rng, n: usize| (0..n).map(|_| rng.uniform()).collect::<Vec<f64>>();
    let shape: Shape = crate::with_space!(space, S => <S as crate::benchmark::Benchmark>::shape(&<S as crate::space::SearchSpace>::example()));
    Samples {
        positions: (0..batch).collect(),
        features: (0..batch * feat_len).map(|_| rng.uniform() as f32).collect(),
        feat_len,
        val: uniform(rng, batch),
        test: vec![f64::NAN; batch],
        params: uniform(rng, batch).into_iter().map(|u| 1e5 + 1e6 * u).collect(),
        flops: uniform(rng, batch).into_iter().map(|u| 1e7 + 1e8 * u).collect(),
        shapes: vec![shape; batch],
    }
}

/// Times `steps` training steps (after one warm-up) of the configuration's model (initialised from
/// `seed`) on one batch of `batch` architectures of `space`, then its inference pass for about three
/// seconds.
pub fn train_figures(cfg: &TransformerConfig, space: SpaceKind, seed: u64, batch: usize, steps: usize) -> TrainFigures {
    let mut cfg = cfg.clone();
    cfg.train_batch_size = batch;
    let mut trainer = Trainer::new(&cfg, seed);
    let samples = synthetic(&cfg, space, batch, &mut Rng::new(2));
    let nt = cfg.ranker.n_tier;
    let labels = tier_labels(&samples.val, nt);
    let idx: Vec<usize> = (0..batch).collect();
    let mut buckets = Buckets::new(nt, cfg.ranker.n_arch_patch * cfg.ranker.d_model);
    let mut times = Vec::new();
    for step in 0..=steps {
        let t = Instant::now();
        black_box(trainer.train_step(&samples, &idx, &labels, &mut buckets));
        if step > 0 {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    let step_ms = times.get(times.len() / 2).map_or(f64::NAN, |t| t * 1e3);
    let tiers = buckets.embeddings();
    let t = Instant::now();
    let mut n = 0;
    while t.elapsed().as_secs_f64() < 3.0 || n < 2 * batch {
        let (out, _) = trainer.model.forward(&samples.features, batch, &tiers, None);
        black_box(out.logits[0]);
        n += batch;
    }
    TrainFigures { step_ms, infer_per_s: n as f64 / t.elapsed().as_secs_f64(), params: trainer.model.params.numel() }
}
