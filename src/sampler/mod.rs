//! What the top tier looks like, and sampling architectures that look like it (`docs/design.md` §6);
//! each space proposes its own architectures (`spaces/<name>/sampler.rs`).

use crate::rng::Rng;
use crate::space::SearchSpace;
use crate::stats::{Hist, kl_div};

/// The reference's `select_distri`: the top tier's histogram (as probabilities) when it holds at least
/// `batch_factor` of the batch and its divergence from every tier from `last_tier` (1-based) down is at
/// least `threshold`; otherwise `None` (draw uniformly).
pub fn select_target(
    tiers: &[Hist],
    top_tier: usize,
    last_tier: usize,
    threshold: f64,
    batch_factor: f64,
) -> Option<Vec<f64>> {
    let batch: f64 = tiers.iter().map(Hist::total).sum();
    for candidate in tiers.iter().take(top_tier) {
        if candidate.total() < batch_factor * batch {
            continue;
        }
        for low in tiers.iter().skip(last_tier.saturating_sub(1)) {
            if kl_div(&low.counts, &candidate.counts) < threshold {
                return None;
            }
        }
        let total = candidate.total();
        return Some(candidate.counts.iter().map(|c| c / total).collect());
    }
    None
}

/// Draws a bin key: weighted by the selected target, or uniformly over the top tier's keys.
pub fn draw_key(rng: &mut Rng, tiers: &[Hist], target: Option<&[f64]>) -> i64 {
    let keys = &tiers[0].keys;
    match target {
        Some(p) => keys[draw_weighted(rng, p)],
        None => keys[rng.below(keys.len())],
    }
}

/// An index drawn with probability proportional to `weights`.
pub fn draw_weighted(rng: &mut Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.uniform() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

/// How a space proposes architectures for the sampler.
pub trait Propose: SearchSpace {
    /// One random architecture. `shape_keys`/`shape_target` are the shape histogram's keys and, when
    /// selected, its target probabilities (NB101 draws the vertex count uniformly over the keys, as the
    /// reference does; NB201 draws each edge's op from the target or uniformly). `None` if the draw is
    /// not a valid architecture.
    fn propose(rng: &mut Rng, shape_keys: &[i64], shape_target: Option<&[f64]>) -> Option<Self::Arch>;
}
