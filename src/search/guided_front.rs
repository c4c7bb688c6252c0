//! nar's guided search for the Pareto front (`mo-nar`): the costs are known exactly before any query,
//! so only validation accuracy has to be learnt — by the guided search's predictor, refitted on
//! everything queried each round (the rounds of `guided::rounds`).
//!
//! 1. Query `front_init` random architectures (20; `start=spread` spreads them over the first cost's
//!    values instead).
//! 2. Each round: fit the predictor on the queried architectures; map its scores onto the accuracy
//!    scale (`Calibration`: the isotonic regression of the queried accuracies on their scores — a
//!    score is a rank, an accuracy is what the front is drawn in); each candidate's **optimistic
//!    point** is the mapped score plus `kappa` times the predictor's spread, beside its exact costs.
//! 3. Normalise the objectives (accuracy by the queried front's ideal and nadir, each cost by its
//!    range over the pool, known without a query) and choose the round's queries **greedily**: the
//!    candidate whose optimistic point improves the current front's hypervolume most (reference point
//!    [`REFERENCE`] in every objective); a candidate whose point is dominated is ranked behind every
//!    improving one by how much accuracy it lacks to leave the dominated region. The chosen candidate
//!    then joins the front at its predicted (not optimistic) accuracy — the "believer" batch — so that
//!    the next choice looks for what that one does not already promise. One candidate per query class.
//!
//! The ablation of these choices is in docs/design.md §6 ("Several objectives").

use std::collections::HashSet;

use anyhow::Result;

use super::baselines::random_batch;
use super::domain::Domain;
use super::guided::{Acquisition, GuidedSettings, Round, rounds};
use super::inputs::FeatureCache;
use super::oracle::Oracle;
use super::pareto::{Normalizer, dominates, hypervolume, non_dominated};
use crate::benchmark::Benchmark;
use crate::features::Featurize;
use crate::progress::Quiet;
use crate::rng::{Rng, mix};
use crate::sampler::Propose;
use crate::space::SearchSpace;

/// The reference point of the acquisition's hypervolume, in every normalised objective: a little past
/// the worst, so the extreme points of the front still count.
pub const REFERENCE: f64 = 1.1;

/// How a round's batch is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Batching {
    /// One at a time, each joining the front at its predicted accuracy before the next is chosen.
    Greedy,
    /// The best hypervolume improvements against the queried front alone.
    Independent,
}

/// Runs the guided front search until the oracle's budget is spent. `costs[p]`: position `p`'s costs,
/// minimised.
pub fn guided_front<S: Benchmark + Propose + Featurize>(
    domain: &Domain<S>,
    features: &FeatureCache<'_, S>,
    network: S::Network,
    oracle: &mut Oracle<'_>,
    set: &GuidedSettings,
    costs: &[Vec<f64>],
    seed: u64,
) -> Result<()> {
    let mut rng = Rng::new(mix(seed, 0xf_207));
    let cost_spread = cost_ranges(domain.positions(), costs);
    let start = if set.front_spread_start {
        spread_start(domain, oracle, &mut rng, costs, set.front_start_size())
    } else {
        random_batch(domain, oracle, &mut rng, set.front_start_size())
    };
    // Candidates around the queried front.
    let parents = |queried: &[usize], y: &[f64]| -> Vec<usize> {
        let points: Vec<Vec<f64>> = queried.iter().zip(y).map(|(&p, &v)| point(costs, p, v)).collect();
        non_dominated(&points).into_iter().map(|i| queried[i]).collect()
    };
    let mut choose = |r: &Round<'_>, oracle: &Oracle<'_>| -> Result<Vec<usize>> {
        let (cands, y) = (r.cands, r.y);
        // Scores on the accuracy scale.
        let fitted = r.model.scores(&features.rows(r.queried), &Quiet)?;
        let calibration = Calibration::fit(&fitted, y);
        let (score, spread) = match set.acquisition {
            Acquisition::Mean => (r.model.scores(&features.rows(cands), &Quiet)?, None),
            Acquisition::Ucb => r.model.scores_and_spread(&features.rows(cands), &Quiet)?,
        };
        let mean: Vec<f64> = score.iter().map(|&s| calibration.apply(s)).collect();
        let optimistic: Vec<f64> = match &spread {
            Some(sp) => score.iter().zip(sp).map(|(s, d)| calibration.apply(s + set.kappa * d)).collect(),
            None => mean.clone(),
        };
        let k = set.round_size(oracle.spent()).min(oracle.left());
        let points: Vec<Vec<f64>> = r.queried.iter().zip(y).map(|(&p, &v)| point(costs, p, v)).collect();
        let queried_front: Vec<Vec<f64>> = non_dominated(&points).into_iter().map(|i| points[i].clone()).collect();
        let y_spread =
            y.iter().copied().fold(f64::NEG_INFINITY, f64::max) - y.iter().copied().fold(f64::INFINITY, f64::min);
        let scale = Scale::of(&queried_front, y_spread, &cost_spread);
        let norm = |p: usize, v: f64| scale.apply(&point(costs, p, v));
        let mut front: Vec<Vec<f64>> = queried_front.iter().map(|p| scale.apply(p)).collect();
        // `front_local` slots go to neighbours of the queried front's members (Pareto local search's
        // moves; none by default).
        let near: HashSet<u32> = if set.front_local > 0 {
            parents(r.queried, y).iter().flat_map(|&m| domain.neighbours(m)).map(|p| domain.class(p)).collect()
        } else {
            HashSet::new()
        };
        let mut local_left = set.front_local.min(k);
        let mut chosen: Vec<usize> = Vec::with_capacity(k);
        let mut classes = HashSet::new();
        let mut taken = vec![false; cands.len()];
        let mut values: Vec<f64> = Vec::new();
        while chosen.len() < k {
            if values.is_empty() || set.front_batching == Batching::Greedy {
                let base = hypervolume(&front, &vec![REFERENCE; front[0].len()]);
                values = cands.iter().zip(&optimistic).map(|(&c, &o)| improvement(&front, base, &norm(c, o))).collect();
            }
            let best = (0..cands.len())
                .filter(|&i| !taken[i] && (local_left == 0 || near.contains(&domain.class(cands[i]))))
                .max_by(|&i, &j| values[i].total_cmp(&values[j]).then(cands[j].cmp(&cands[i])));
            let Some(i) = best else {
                if local_left > 0 {
                    local_left = 0;
                    continue;
                }
                break;
            };
            taken[i] = true;
            if !classes.insert(domain.class(cands[i])) {
                continue;
            }
            local_left = local_left.saturating_sub(1);
            chosen.push(cands[i]);
            if set.front_batching == Batching::Greedy {
                front.push(norm(cands[i], mean[i]));
                front = non_dominated(&front).into_iter().map(|j| front[j].clone()).collect();
            }
        }
        Ok(chosen)
    };
    rounds(domain, features, network, oracle, set, seed, &mut rng, start, &parents, &mut choose)
}

/// The start, spread over the costs (known before any query): the distinct values of the first cost
/// over the pool's distinct queries, in order, cut into `k` runs of consecutive values as equal as
/// possible; from each, a random value, then a random distinct query of that value.
fn spread_start<S: SearchSpace>(
    domain: &Domain<S>,
    oracle: &Oracle<'_>,
    rng: &mut Rng,
    costs: &[Vec<f64>],
    k: usize,
) -> Vec<usize> {
    let first = |p: usize| costs[p].first().copied().unwrap_or(0.0);
    let mut levels: Vec<f64> = domain.representatives().iter().map(|&p| first(p)).collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    let k = k.min(oracle.left()).min(levels.len());
    let mut out = Vec::with_capacity(k);
    for g in 0..k {
        let (lo, hi) = (g * levels.len() / k, (g + 1) * levels.len() / k);
        let level = levels[lo + rng.below(hi - lo)];
        let members: Vec<usize> = domain
            .representatives()
            .iter()
            .copied()
            .filter(|&p| first(p) == level && !oracle.is_queried(p) && !out.contains(&p))
            .collect();
        if !members.is_empty() {
            out.push(members[rng.below(members.len())]);
        }
    }
    out
}

/// An answered architecture's point: the answer negated, then its costs (all minimised).
fn point(costs: &[Vec<f64>], position: usize, answer: f64) -> Vec<f64> {
    std::iter::once(-answer).chain(costs[position].iter().copied()).collect()
}

/// Scores mapped onto the accuracy scale: the isotonic (monotone least-squares) regression of the
/// queried architectures' accuracies on their scores, linear between its steps; past the highest
/// score, the least-squares slope of the upper half of the queried architectures (a score above every
/// queried one may promise more than the best accuracy seen, at the rate the best ones rise).
struct Calibration {
    /// (score, accuracy) at each step of the isotonic fit, increasing in both.
    knots: Vec<(f64, f64)>,
    /// Accuracy per score unit past the last knot.
    slope: f64,
}

impl Calibration {
    fn fit(score: &[f64], y: &[f64]) -> Calibration {
        let mut order: Vec<usize> = (0..score.len()).collect();
        order.sort_by(|&i, &j| score[i].total_cmp(&score[j]).then(y[i].total_cmp(&y[j])));
        // Pool adjacent violators: blocks of (score sum, accuracy sum, count).
        let mut blocks: Vec<(f64, f64, f64)> = Vec::new();
        for &i in &order {
            blocks.push((score[i], y[i], 1.0));
            while blocks.len() > 1 {
                let (s2, y2, n2) = blocks[blocks.len() - 1];
                let (s1, y1, n1) = blocks[blocks.len() - 2];
                if y1 / n1 < y2 / n2 {
                    break;
                }
                blocks.pop();
                *blocks.last_mut().expect("two blocks") = (s1 + s2, y1 + y2, n1 + n2);
            }
        }
        let knots = blocks.iter().map(|&(s, v, n)| (s / n, v / n)).collect();
        let upper = &order[order.len() / 2..];
        let top_s: Vec<f64> = upper.iter().map(|&i| score[i]).collect();
        let top_y: Vec<f64> = upper.iter().map(|&i| y[i]).collect();
        let n = top_s.len() as f64;
        let (ms, my) = (top_s.iter().sum::<f64>() / n, top_y.iter().sum::<f64>() / n);
        let cov: f64 = top_s.iter().zip(&top_y).map(|(s, v)| (s - ms) * (v - my)).sum();
        let var: f64 = top_s.iter().map(|s| (s - ms) * (s - ms)).sum();
        let slope = if var > 0.0 { (cov / var).max(0.0) } else { 0.0 };
        Calibration { knots, slope }
    }

    fn apply(&self, s: f64) -> f64 {
        let k = &self.knots;
        let (first, last) = (k[0], k[k.len() - 1]);
        if s <= first.0 {
            return first.1;
        }
        if s >= last.0 {
            return last.1 + self.slope * (s - last.0);
        }
        let i = k.partition_point(|&(x, _)| x <= s);
        let ((x0, y0), (x1, y1)) = (k[i - 1], k[i]);
        y0 + (y1 - y0) * (s - x0) / (x1 - x0)
    }
}

/// The acquisition's normalisation: validation accuracy as EvoXBench normalises it, with the queried
/// front standing in for the true one (its best accuracy 0, the accuracy of its cheapest member 1;
/// where the queried front does not spread, the queried range), each cost by its range over the pool
/// (known without a query). Not by the queried front's cost range: an architecture dearer than the
/// most accurate one queried would lie past the reference point, and the search could never look
/// for a more accurate one.
struct Scale {
    lo: Vec<f64>,
    range: Vec<f64>,
}

impl Scale {
    /// `front`: the queried front's points; `y_spread`: the queried accuracies' range; `costs`: each
    /// cost's (least, range) over the pool.
    fn of(front: &[Vec<f64>], y_spread: f64, costs: &[(f64, f64)]) -> Scale {
        let n = Normalizer::of_front(front);
        let acc_range = n.nadir[0] - n.ideal[0];
        let acc_range = if acc_range > 0.0 {
            acc_range
        } else if y_spread > 0.0 {
            y_spread
        } else {
            1.0
        };
        let lo = std::iter::once(n.ideal[0]).chain(costs.iter().map(|c| c.0)).collect();
        let range = std::iter::once(acc_range).chain(costs.iter().map(|c| if c.1 > 0.0 { c.1 } else { 1.0 })).collect();
        Scale { lo, range }
    }

    fn apply(&self, p: &[f64]) -> Vec<f64> {
        p.iter().zip(&self.lo).zip(&self.range).map(|((x, l), r)| (x - l) / r).collect()
    }
}

/// Each cost's least value and range over the pool.
fn cost_ranges(pool: &[usize], costs: &[Vec<f64>]) -> Vec<(f64, f64)> {
    let d = pool.first().map_or(0, |&p| costs[p].len());
    (0..d)
        .map(|j| {
            let (lo, hi) = pool
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &p| (l.min(costs[p][j]), h.max(costs[p][j])));
            (lo, hi - lo)
        })
        .collect()
}

/// How much `p` adds to `front`'s hypervolume (`base`), or, where a member of the front dominates `p`,
/// minus the accuracy `p` lacks to leave the region the front dominates (in normalised units).
fn improvement(front: &[Vec<f64>], base: f64, p: &[f64]) -> f64 {
    let mut lack: Option<f64> = None;
    for q in front {
        // q is no dearer than p in any cost and at least as accurate: p needs more than q's accuracy.
        if dominates(q, p) || q == p {
            let gap = p[0] - q[0];
            lack = Some(lack.map_or(gap, |l: f64| l.max(gap)));
        }
    }
    if let Some(gap) = lack {
        return -gap;
    }
    let mut with: Vec<Vec<f64>> = front.to_vec();
    with.push(p.to_vec());
    hypervolume(&with, &vec![REFERENCE; p.len()]) - base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn improvement_is_the_added_volume_or_the_accuracy_lacking() {
        // Front: (0.2 error, 0.5 cost) and (0.6, 0.1); reference 1.1.
        let front = vec![vec![0.2, 0.5], vec![0.6, 0.1]];
        let base = hypervolume(&front, &[REFERENCE, REFERENCE]);
        // A point between them adds the box it alone covers: (0.6 − 0.4) × (0.5 − 0.3).
        let added = improvement(&front, base, &[0.4, 0.3]);
        assert!((added - 0.2 * 0.2).abs() < 1e-12, "{added}");
        // Dominated by (0.2, 0.5): it lacks 0.3 of error to leave that member's region.
        assert!((improvement(&front, base, &[0.5, 0.6]) + 0.3).abs() < 1e-12);
        // Dominated by both: the larger lack counts (it must beat the cheaper member too).
        assert!((improvement(&front, base, &[0.9, 0.7]) + 0.7).abs() < 1e-12);
        // A point equal to a member adds nothing and lacks nothing.
        assert_eq!(improvement(&front, base, &[0.2, 0.5]), 0.0);
    }

    #[test]
    fn calibration_is_monotone_and_extends_past_the_best() {
        // Scores 0..4; accuracies with one violation (3 after 5) pooled into their mean 4.
        let c = Calibration::fit(&[0.0, 1.0, 2.0, 3.0, 4.0], &[1.0, 5.0, 3.0, 6.0, 8.0]);
        assert_eq!(c.knots, vec![(0.0, 1.0), (1.5, 4.0), (3.0, 6.0), (4.0, 8.0)]);
        assert_eq!(c.apply(-1.0), 1.0);
        assert!((c.apply(0.75) - 2.5).abs() < 1e-12);
        // Past the last knot: the upper half's (scores 2, 3, 4; accuracies 3, 6, 8) slope, 2.5.
        assert!((c.apply(5.0) - 10.5).abs() < 1e-12, "{}", c.apply(5.0));
    }
}
