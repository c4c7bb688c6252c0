//! Quality tiers: tier labels from accuracies, and the tier embeddings the decoder reads (running
//! means of the encoder output per tier).

use super::infer::Workspace;
use super::model::Ranker;
use super::samples::Samples;

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

/// Tier embeddings for inference: the mean encoder output of the training architectures per tier
/// label, computed without dropout.
pub fn reference_embeddings(model: &Ranker<f32>, train: &Samples, batch: usize) -> Vec<f32> {
    let nt = model.cfg.n_tier;
    let len = model.cfg.n_arch_patch * model.cfg.d_model;
    let labels = tier_labels(&train.val, nt);
    let mut buckets = Buckets::new(nt, len);
    let mut ws = Workspace::default();
    let idx: Vec<usize> = (0..train.len()).collect();
    for chunk in idx.chunks(batch) {
        let enc_out = model.infer_encoding(&train.gather(chunk), chunk.len(), &mut ws);
        let l: Vec<usize> = chunk.iter().map(|&i| labels[i]).collect();
        buckets.add(&enc_out, &l);
    }
    buckets.embeddings()
}
