//! A search study: methods × seeds at one query budget, each run through its own [`Oracle`], scored
//! afterwards by the [`Scorecard`] (the only code here that reads test accuracy).
//!
//! The curve of a run is its incumbent after each query: the queried architecture with the best
//! validation accuracy so far, and that architecture's reporting (test) accuracy.

use std::fmt;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::baselines;
use super::domain::Domain;
use super::guided::{GuidedSettings, guided};
use super::oracle::{Evaluator, Oracle, Scorecard};
use super::reference::mean_std;
use crate::rng::Rng;
use crate::sampler::Propose;
use crate::space::SearchSpace;

/// A budgeted search method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// nar's ranker-guided search ([`guided`]).
    Nar,
    Random,
    /// Regularized evolution.
    Rea,
    /// Local search.
    Ls,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::Nar, Method::Random, Method::Rea, Method::Ls];

    pub fn name(self) -> &'static str {
        match self {
            Method::Nar => "nar",
            Method::Random => "random",
            Method::Rea => "rea",
            Method::Ls => "ls",
        }
    }

    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }

    /// A seed of its own per method, so that methods do not share random draws.
    fn rng(self, seed: u64) -> Rng {
        Rng::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (self as u64 + 1).wrapping_mul(0xc2b2_ae3d_27d4_eb4f))
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs one method with one seed until the oracle's budget is spent; returns the query history
/// `(position, validation accuracy)` in order.
pub fn run_method<S: SearchSpace + Propose>(
    method: Method,
    domain: &Domain<S>,
    network: S::Network,
    eval: &mut dyn Evaluator,
    budget: usize,
    seed: u64,
    guided_settings: &GuidedSettings,
) -> Result<Vec<(usize, f64)>> {
    let mut oracle = Oracle::new(eval, budget);
    let mut rng = method.rng(seed);
    match method {
        Method::Random => baselines::random(domain, &mut oracle, &mut rng)?,
        Method::Rea => baselines::rea(domain, &mut oracle, &mut rng)?,
        Method::Ls => baselines::local_search(domain, &mut oracle, &mut rng)?,
        Method::Nar => guided(domain, network, &mut oracle, guided_settings, seed)?,
    }
    Ok(oracle.history().to_vec())
}

/// One run's incumbent after each query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    pub method: Method,
    pub seed: u64,
    /// `best_val[q]`, `best_test[q]`, `incumbent[q]`: after q + 1 queries.
    pub best_val: Vec<f64>,
    pub best_test: Vec<f64>,
    pub incumbent: Vec<usize>,
    pub seconds: f64,
}

impl Curve {
    /// The curve of a query history, scored by `card` (NaN test accuracy where there is no card).
    pub fn new(method: Method, seed: u64, history: &[(usize, f64)], card: Option<&Scorecard>, seconds: f64) -> Curve {
        let (mut best_val, mut best_test, mut incumbent) = (Vec::new(), Vec::new(), Vec::new());
        let mut best: Option<(usize, f64)> = None;
        for &(p, v) in history {
            if best.is_none_or(|(_, bv)| v > bv) {
                best = Some((p, v));
            }
            let (bp, bv) = best.expect("set above");
            best_val.push(bv);
            best_test.push(card.map_or(f64::NAN, |c| c.accuracy(bp)));
            incumbent.push(bp);
        }
        Curve { method, seed, best_val, best_test, incumbent, seconds }
    }

    /// Test accuracy of the incumbent after `queries` (the last one if the run stopped earlier).
    pub fn test_at(&self, queries: usize) -> f64 {
        self.best_test.get(queries.min(self.best_test.len()).saturating_sub(1)).copied().unwrap_or(f64::NAN)
    }
}

/// The query counts the study's table reports (those within the budget, and the budget itself).
pub fn table_points(budget: usize) -> Vec<usize> {
    let mut v: Vec<usize> = [25, 50, 100, 150, 200, 300].into_iter().filter(|&q| q < budget).collect();
    v.push(budget);
    v
}

/// Mean ± std of the incumbent's test accuracy per method at the table's query counts, and the share of
/// seeds whose incumbent is the optimum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub method: Method,
    /// `(queries, mean, std, fraction of seeds at the optimum)`.
    pub cells: Vec<(usize, f64, f64, f64)>,
    pub seconds_per_seed: f64,
}

/// The study's table.
pub fn table(curves: &[Curve], budget: usize, optimum: f64) -> Vec<Row> {
    let mut rows = Vec::new();
    for m in Method::ALL {
        let mine: Vec<&Curve> = curves.iter().filter(|c| c.method == m).collect();
        if mine.is_empty() {
            continue;
        }
        let cells = table_points(budget)
            .into_iter()
            .map(|q| {
                let v: Vec<f64> = mine.iter().map(|c| c.test_at(q)).collect();
                let (mean, std) = mean_std(&v);
                let at_opt = v.iter().filter(|&&x| x >= optimum - 1e-9).count() as f64 / v.len() as f64;
                (q, mean, std, at_opt)
            })
            .collect();
        let seconds = mine.iter().map(|c| c.seconds).sum::<f64>() / mine.len() as f64;
        rows.push(Row { method: m, cells, seconds_per_seed: seconds });
    }
    rows
}

/// `(queries, mean, std)` of the incumbent's test accuracy at every query count.
pub type MeanCurve = Vec<(f64, f64, f64)>;

/// Mean and std of the incumbent's test accuracy at every query count from 10 (or the budget, if
/// smaller) to the budget, per method (for the report's bands; the first few random queries would
/// stretch the scale).
pub fn bands(curves: &[Curve], budget: usize) -> Vec<(Method, MeanCurve)> {
    Method::ALL
        .into_iter()
        .filter_map(|m| {
            let mine: Vec<&Curve> = curves.iter().filter(|c| c.method == m).collect();
            (!mine.is_empty()).then(|| {
                let pts = (budget.min(10)..=budget)
                    .map(|q| {
                        let v: Vec<f64> = mine.iter().map(|c| c.test_at(q)).collect();
                        let (mean, std) = mean_std(&v);
                        (q as f64, mean, std)
                    })
                    .collect();
                (m, pts)
            })
        })
        .collect()
}
