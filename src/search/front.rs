//! Several objectives at once (`nar search --objectives val,flops`): validation accuracy, maximised,
//! against costs, minimised — the cost model's `flops` and `params`, or any cost column of the dataset.
//! The true front of the pool is known where the table gives every architecture; each run's front is
//! the non-dominated set of the architectures it queried, and each budget of the table measures it
//! (docs/design.md §6, "Several objectives"):
//!
//! - the normalised hypervolume: objectives normalised by the true front's ideal and nadir points
//!   (EvoXBench's definition, reference point 1), the run's front's hypervolume divided by the true
//!   front's;
//! - the fraction of the true front's architectures queried (an equivalent cell counting, as for the
//!   single objective);
//! - IGD: the mean normalised distance of the true front's points to the nearest point found.
//!
//! Validation accuracy enters the front as the table has it (the oracle's answers are the table's);
//! the test accuracy of each true front member is kept for reporting.
//!
//! Where no true front is known (the user's oracle command, Python's `nar.search`), a run's front is
//! measured by its hypervolume in raw units ([`raw_measures`]): validation accuracy from 0 up, each
//! cost from the pool's dearest down; the fraction found and IGD are unknown there (NaN).

use serde::{Deserialize, Serialize};

use super::domain::{CostSource, cost_source};
use super::method::{Method, RunHistory};
use super::pareto::{Normalizer, hypervolume, igd, non_dominated};
use crate::benchmark::Benchmark;
use crate::data::Dataset;
use crate::stats::{MeanCurve, mean_std};

/// The costs named by `--objectives` (`val` first, then one or more costs: the cost model's `flops`
/// and `params` of `network`, or cost columns of `ds`), per dataset position; `pool` holds the
/// positions a search may query, each of which must have every cost, none negative. The message of an
/// error is the user's to read (the command line and Python wrap it).
pub fn objective_costs<S: Benchmark>(
    ds: &Dataset<S>,
    names: &[String],
    network: S::Network,
    pool: &[usize],
) -> Result<Vec<Vec<f64>>, String> {
    let given = names.join(",");
    if names.first().map(String::as_str) != Some("val") || names.len() < 2 {
        return Err(format!(
            "objectives {given}: give val first, then one or more costs (flops, params or a cost column), e.g. val,flops"
        ));
    }
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(format!("objectives {given}: {n} is given twice"));
        }
    }
    let mut sources = Vec::new();
    for n in &names[1..] {
        sources.push(cost_source(n, Some(ds)).map_err(|e| {
            if e.accuracy {
                format!("objectives {given}: {n} is an accuracy, not a cost (validation accuracy is `val`)")
            } else {
                format!("objectives {given}: {n} is not a cost of this space; costs: {}", e.known)
            }
        })?);
    }
    let model = sources.iter().any(CostSource::is_model);
    let costs: Vec<Vec<f64>> = (0..ds.len())
        .map(|p| {
            let cost = model.then(|| S::cost(&ds.archs()[p], network));
            sources.iter().map(|s| s.value(p, cost.as_ref())).collect()
        })
        .collect();
    for &p in pool {
        for (j, &c) in costs[p].iter().enumerate() {
            if !c.is_finite() || c < 0.0 {
                let why = if c.is_finite() { format!("is negative ({c})") } else { "has no value".to_string() };
                return Err(format!(
                    "objectives {given}: {} of architecture {} {why}; a cost to minimise needs a value ≥ 0 for every architecture searched",
                    names[j + 1],
                    ds.ids()[p]
                ));
            }
        }
    }
    Ok(costs)
}

/// The reference point of the raw hypervolume: validation accuracy 0 (negated, as minimised), and each
/// cost at its largest over `pool`.
pub fn raw_reference(costs: &[Vec<f64>], pool: &[usize]) -> Vec<f64> {
    let d = pool.first().map_or(0, |&p| costs[p].len());
    std::iter::once(0.0)
        .chain((0..d).map(|j| pool.iter().map(|&p| costs[p][j]).fold(f64::NEG_INFINITY, f64::max)))
        .collect()
}

/// A run's front after each answered query, where no true front is known: the hypervolume in raw
/// units (accuracy × each cost, against [`raw_reference`]); found and IGD NaN.
pub fn raw_measures(run: &RunHistory, costs: &[Vec<f64>], reference: &[f64]) -> Vec<Measures> {
    let mut front: Vec<Vec<f64>> = Vec::new();
    run.answered
        .iter()
        .map(|&(p, v)| {
            front.push(std::iter::once(-v).chain(costs[p].iter().copied()).collect());
            front = non_dominated(&front).into_iter().map(|i| front[i].clone()).collect();
            Measures { hypervolume: hypervolume(&front, reference), found: f64::NAN, igd: f64::NAN }
        })
        .collect()
}

/// The front of a run's answered queries: `(position, validation accuracy)`, in the order answered.
pub fn run_front(run: &RunHistory, costs: &[Vec<f64>]) -> Vec<(usize, f64)> {
    let points: Vec<Vec<f64>> =
        run.answered.iter().map(|&(p, v)| std::iter::once(-v).chain(costs[p].iter().copied()).collect()).collect();
    non_dominated(&points).into_iter().map(|i| run.answered[i]).collect()
}

/// The objectives of a multi-objective study: their names (`val` first) and each architecture's
/// values, minimised (validation accuracy negated), by dataset position (NaN where unknown).
pub struct Objectives {
    pub names: Vec<String>,
    /// `values[p]`: position `p`'s objective vector.
    pub values: Vec<Vec<f64>>,
}

/// The true front of a pool and what measuring a run against it needs.
pub struct TrueFront {
    /// Pool positions on the front, in increasing order.
    pub members: Vec<usize>,
    points: Vec<Vec<f64>>,
    normalizer: Normalizer,
    /// The true front's own normalised hypervolume.
    volume: f64,
    normed: Vec<Vec<f64>>,
}

impl TrueFront {
    /// The non-dominated architectures of `pool` (positions with every objective known).
    pub fn of(objectives: &Objectives, pool: &[usize]) -> Option<TrueFront> {
        let known: Vec<usize> =
            pool.iter().copied().filter(|&p| objectives.values[p].iter().all(|v| v.is_finite())).collect();
        let pts: Vec<Vec<f64>> = known.iter().map(|&p| objectives.values[p].clone()).collect();
        let mut members: Vec<usize> = non_dominated(&pts).into_iter().map(|i| known[i]).collect();
        members.sort_unstable();
        if members.is_empty() {
            return None;
        }
        let points: Vec<Vec<f64>> = members.iter().map(|&p| objectives.values[p].clone()).collect();
        let normalizer = Normalizer::of_front(&points);
        let volume = normalizer.hypervolume(&points);
        let normed = points.iter().map(|p| normalizer.apply(p)).collect();
        Some(TrueFront { members, points, normalizer, volume, normed })
    }

    /// The objective vectors of the front's members, in `members`' order.
    pub fn points(&self) -> &[Vec<f64>] {
        &self.points
    }

    /// The measures of the architectures at `queried` (positions): normalised hypervolume, fraction of
    /// the front's members queried (a member counts when an architecture of its class was, `class`
    /// per position), IGD.
    pub fn measure(&self, objectives: &Objectives, queried: &[usize], class: &[u32]) -> Measures {
        let pts: Vec<Vec<f64>> =
            queried.iter().map(|&p| objectives.values[p].clone()).filter(|v| v.iter().all(|x| x.is_finite())).collect();
        let front: Vec<Vec<f64>> = non_dominated(&pts).into_iter().map(|i| pts[i].clone()).collect();
        let hv = if self.volume > 0.0 { self.normalizer.hypervolume(&front) / self.volume } else { f64::NAN };
        let classes: std::collections::HashSet<u32> = queried.iter().map(|&p| class[p]).collect();
        let found =
            self.members.iter().filter(|&&m| classes.contains(&class[m])).count() as f64 / self.members.len() as f64;
        let normed: Vec<Vec<f64>> = front.iter().map(|p| self.normalizer.apply(p)).collect();
        Measures { hypervolume: hv, found, igd: igd(&normed, &self.normed) }
    }
}

/// One run's front measured at one budget.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measures {
    /// The normalised hypervolume, relative to the true front's (1: the whole front).
    pub hypervolume: f64,
    /// The fraction of the true front's architectures queried.
    pub found: f64,
    pub igd: f64,
}

/// One run's measures at each of `points` (query counts): the answered queries numbered up to each.
pub fn run_measures(
    front: &TrueFront,
    objectives: &Objectives,
    run: &RunHistory,
    class: &[u32],
    points: &[usize],
) -> Vec<Measures> {
    points
        .iter()
        .map(|&q| {
            let queried: Vec<usize> =
                run.answered.iter().zip(&run.numbers).filter(|(_, n)| **n <= q).map(|((p, _), _)| *p).collect();
            front.measure(objectives, &queried, class)
        })
        .collect()
}

/// Mean ± std over seeds of one method's measures at one budget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrontCell {
    pub queries: usize,
    pub hypervolume: (f64, f64),
    pub found: (f64, f64),
    pub igd: (f64, f64),
}

/// One method's row of the front table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrontRow {
    pub method: Method,
    pub cells: Vec<FrontCell>,
}

/// What a multi-objective study reports besides the single-objective table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrontSummary {
    /// The objectives, `val` first.
    pub objectives: Vec<String>,
    /// The true front: each member's id, its objective values as the table has them (validation
    /// accuracy, then each cost) and its test accuracy, for reporting. Empty where no table gives
    /// every accuracy (the user's oracle).
    pub true_front: Vec<FrontMember>,
    /// Whether the hypervolumes are in raw units ([`raw_measures`]: no true front to normalise by).
    #[serde(default)]
    pub raw: bool,
    pub table: Vec<FrontRow>,
    /// Mean ± std of the hypervolume per method at every query count from 10 (the page's bands).
    #[serde(default)]
    pub bands: Vec<(Method, MeanCurve)>,
    /// Each run's front at the end of its budget.
    #[serde(default)]
    pub fronts: Vec<RunFront>,
}

/// An architecture on a front: its id, its objective values (validation accuracy, then each cost) and
/// its test accuracy where known, for reporting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrontMember {
    pub id: String,
    pub values: Vec<f64>,
    pub test: Option<f64>,
}

/// The front of one run's queries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFront {
    pub method: Method,
    pub seed: u64,
    pub members: Vec<FrontMember>,
}

/// The front table: per method (in `methods`' order), per budget point, mean ± std over its runs.
pub fn table(runs: &[(Method, Vec<Measures>)], methods: &[Method], points: &[usize]) -> Vec<FrontRow> {
    methods
        .iter()
        .filter(|m| runs.iter().any(|(r, _)| r == *m))
        .map(|&m| FrontRow {
            method: m,
            cells: points
                .iter()
                .enumerate()
                .map(|(k, &q)| {
                    let of = |f: fn(&Measures) -> f64| {
                        let v: Vec<f64> = runs.iter().filter(|(r, _)| *r == m).map(|(_, ms)| f(&ms[k])).collect();
                        mean_std(&v)
                    };
                    FrontCell {
                        queries: q,
                        hypervolume: of(|x| x.hypervolume),
                        found: of(|x| x.found),
                        igd: of(|x| x.igd),
                    }
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five architectures, val and FLOPs: positions 0, 2, 4 are the front; 1 and 3 dominated.
    fn objectives() -> Objectives {
        let table = [(90.0, 100.0), (85.0, 100.0), (80.0, 50.0), (70.0, 60.0), (70.0, 10.0)];
        Objectives {
            names: vec!["val".into(), "flops".into()],
            values: table.iter().map(|&(v, f)| vec![-v, f]).collect(),
        }
    }

    #[test]
    fn a_run_that_queried_the_whole_front_measures_one() {
        let o = objectives();
        let front = TrueFront::of(&o, &[0, 1, 2, 3, 4]).unwrap();
        assert_eq!(front.members, vec![0, 2, 4]);
        let class: Vec<u32> = (0..5).collect();
        let all = front.measure(&o, &[1, 0, 3, 2, 4], &class);
        assert_eq!(all, Measures { hypervolume: 1.0, found: 1.0, igd: 0.0 });
        // Only the dominated ones and one member: a third of the front, a smaller volume, a distance.
        let part = front.measure(&o, &[1, 3, 4], &class);
        assert!((part.found - 1.0 / 3.0).abs() < 1e-12);
        assert!(part.hypervolume < 1.0 && part.igd > 0.0);
        // An equivalent cell of a member counts as that member (classes 0 and 1 the same here).
        let shared = vec![0, 0, 2, 3, 4];
        assert!((front.measure(&o, &[1], &shared).found - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn raw_measures_are_the_volume_under_the_reference() {
        let costs: Vec<Vec<f64>> = [100.0, 100.0, 50.0, 60.0, 10.0].iter().map(|&f| vec![f]).collect();
        let reference = raw_reference(&costs, &[0, 1, 2, 3, 4]);
        assert_eq!(reference, vec![0.0, 100.0]);
        let run = RunHistory::answered(vec![(2, 80.0), (3, 70.0), (4, 70.0)]);
        let m = raw_measures(&run, &costs, &reference);
        // (100 − 50) × 80; position 3 adds nothing (dominated by 2); position 4 adds (50 − 10) × 70.
        let hv: Vec<f64> = m.iter().map(|x| x.hypervolume).collect();
        assert_eq!(hv, vec![4000.0, 4000.0, 4000.0 + 2800.0]);
        assert!(m[0].found.is_nan() && m[0].igd.is_nan());
        assert_eq!(run_front(&run, &costs), vec![(2, 80.0), (4, 70.0)]);
    }

    #[test]
    fn measures_follow_the_query_numbers() {
        let o = objectives();
        let front = TrueFront::of(&o, &[0, 1, 2, 3, 4]).unwrap();
        let class: Vec<u32> = (0..5).collect();
        let run = RunHistory::answered(vec![(1, 85.0), (4, 70.0), (0, 90.0), (2, 80.0)]);
        let m = run_measures(&front, &o, &run, &class, &[1, 2, 4]);
        assert_eq!(m[0].found, 0.0);
        assert!((m[1].found - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(m[2], Measures { hypervolume: 1.0, found: 1.0, igd: 0.0 });
    }
}
