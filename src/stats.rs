//! Per-batch, per-tier distribution statistics, exactly as the reference bins them:
//! params as `ceil(params / 1e3)` and FLOPs as `ceil(flops / 1e6)`, each in `bins` equal-width bins over
//! the batch's range; plus the architecture shape (NB101: vertex counts over the batch's range; NB201:
//! how many edges carry each op).

use serde::{Deserialize, Serialize};

/// A histogram: bin keys (upper edges, in the reference's units) and counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hist {
    pub keys: Vec<i64>,
    pub counts: Vec<f64>,
}

impl Hist {
    pub fn total(&self) -> f64 {
        self.counts.iter().sum()
    }
}

/// The reference's `build_counts_dict`: `step = ceil((max − min) / bins)`; bin keys
/// `scale · (i·step + min)` for i = 1..=bins; a value equal to `min` counts in the first bin, any other
/// in the bin at `ceil((v − min) / step)·step + min`. (A batch whose values are all equal, where the
/// reference divides by zero, uses step 1.)
pub fn bin_counts(values: &[f64], batch_min: f64, batch_max: f64, bins: usize, scale: f64) -> Hist {
    let (min, max) = (batch_min.trunc(), batch_max.trunc());
    let step = ((max - min) / bins as f64).ceil().max(1.0);
    let keys: Vec<i64> = (1..=bins).map(|i| (scale * (i as f64 * step + min)) as i64).collect();
    let mut counts = vec![0.0; bins];
    for &v in values {
        let v = if v == min { v + step } else { v };
        let k = ((v - min) / step).ceil() as usize;
        counts[k.clamp(1, bins) - 1] += 1.0;
    }
    Hist { keys, counts }
}

/// The reference's vertex-count histogram over the batch's range `min..=max`.
pub fn vertex_counts(values: &[usize], batch_min: usize, batch_max: usize) -> Hist {
    let keys: Vec<i64> = (batch_min..=batch_max).map(|v| v as i64).collect();
    let mut counts = vec![0.0; keys.len()];
    for &v in values {
        counts[v - batch_min] += 1.0;
    }
    Hist { keys, counts }
}

/// Summed per-op edge counts (NB201), ops in code order (`n_ops` of them).
pub fn op_counts(values: &[&[usize]], n_ops: usize) -> Hist {
    let mut counts = vec![0.0; n_ops];
    for v in values {
        counts.iter_mut().zip(v.iter()).for_each(|(c, n)| *c += *n as f64);
    }
    Hist { keys: (0..n_ops as i64).collect(), counts }
}

/// The reference's divergence of a low tier from the top tier: `F.kl_div(log_softmax(low),
/// log_softmax(top), reduction='batchmean', log_target=True)` on 1-D tensors, i.e.
/// `KL(softmax(top) ‖ softmax(low)) / n_bins` — softmax over raw counts.
pub fn kl_div(low: &[f64], top: &[f64]) -> f64 {
    assert_eq!(low.len(), top.len());
    let log_softmax = |v: &[f64]| {
        let max = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = max + v.iter().map(|x| (x - max).exp()).sum::<f64>().ln();
        v.iter().map(|x| x - lse).collect::<Vec<f64>>()
    };
    let (lp, lq) = (log_softmax(top), log_softmax(low));
    lp.iter().zip(&lq).map(|(p, q)| p.exp() * (p - q)).sum::<f64>() / low.len() as f64
}

/// What the sampler needs of an architecture's shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Shape {
    /// Operations on vertices (NB101): number of vertices.
    Vertices(usize),
    /// Operations on edges (NB201): edges per op, in op-code order.
    OpCounts(Vec<usize>),
}

/// One tier's statistics within a batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TierStats {
    pub params: Hist,
    pub flops: Hist,
    /// NB101 `n_nodes`, NB201 `edges`.
    pub shape: Hist,
}

/// Statistics of one batch: per tier, from the best tier down.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchStats {
    pub tiers: Vec<TierStats>,
}

/// Builds a batch's statistics from each architecture's params, FLOPs, shape and tier (0 = best).
pub fn batch_stats(
    params: &[f64],
    flops: &[f64],
    shapes: &[Shape],
    tier: &[usize],
    n_tier: usize,
    bins: usize,
) -> BatchStats {
    let p: Vec<f64> = params.iter().map(|v| (v / 1e3).ceil()).collect();
    let f: Vec<f64> = flops.iter().map(|v| (v / 1e6).ceil()).collect();
    let range = |v: &[f64]| {
        (v.iter().cloned().fold(f64::INFINITY, f64::min), v.iter().cloned().fold(f64::NEG_INFINITY, f64::max))
    };
    let (pmin, pmax) = range(&p);
    let (fmin, fmax) = range(&f);
    let vertices: Vec<usize> =
        shapes.iter().filter_map(|s| if let Shape::Vertices(n) = s { Some(*n) } else { None }).collect();
    let (vmin, vmax) = (vertices.iter().copied().min().unwrap_or(0), vertices.iter().copied().max().unwrap_or(0));
    let n_ops = shapes.iter().find_map(|s| if let Shape::OpCounts(c) = s { Some(c.len()) } else { None }).unwrap_or(0);
    let tiers = (0..n_tier)
        .map(|t| {
            let members: Vec<usize> = (0..tier.len()).filter(|&i| tier[i] == t).collect();
            let pick = |v: &[f64]| members.iter().map(|&i| v[i]).collect::<Vec<f64>>();
            let shape = match shapes.first() {
                Some(Shape::Vertices(_)) => {
                    vertex_counts(&members.iter().map(|&i| vertices[i]).collect::<Vec<_>>(), vmin, vmax)
                }
                _ => op_counts(
                    &members
                        .iter()
                        .filter_map(|&i| if let Shape::OpCounts(c) = &shapes[i] { Some(c.as_slice()) } else { None })
                        .collect::<Vec<_>>(),
                    n_ops,
                ),
            };
            TierStats {
                params: bin_counts(&pick(&p), pmin, pmax, bins, 1e3),
                flops: bin_counts(&pick(&f), fmin, fmax, bins, 1e6),
                shape,
            }
        })
        .collect();
    BatchStats { tiers }
}

/// `(x, mean, std)` of a measure at each point of a curve (a band of a report's figure).
pub type MeanCurve = Vec<(f64, f64, f64)>;

/// Mean and sample standard deviation (n − 1; 0 for a single value), as every figure nar reports over
/// seeds uses them.
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (m, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binning_follows_the_reference() {
        // min 10, max 26, 4 bins → step 4, keys 14, 18, 22, 26 (× scale).
        let h = bin_counts(&[10.0, 11.0, 14.0, 15.0, 26.0], 10.0, 26.0, 4, 1e3);
        assert_eq!(h.keys, vec![14_000, 18_000, 22_000, 26_000]);
        assert_eq!(h.counts, vec![3.0, 1.0, 0.0, 1.0]);
    }

    #[test]
    fn kl_is_softmax_kl_over_bins() {
        // Equal counts → 0; KL of softmax([2,0]) from softmax([0,2]) / 2 by hand.
        assert_eq!(kl_div(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), 0.0);
        let p = [2f64.exp() / (2f64.exp() + 1.0), 1.0 / (2f64.exp() + 1.0)];
        let q = [p[1], p[0]];
        let expected = (p[0] * (p[0] / q[0]).ln() + p[1] * (p[1] / q[1]).ln()) / 2.0;
        assert!((kl_div(&[0.0, 2.0], &[2.0, 0.0]) - expected).abs() < 1e-12);
    }
}
