//! A search study: methods × seeds at one query budget, each run through its own [`Oracle`], scored
//! afterwards by the [`Scorecard`] (the only code here that reads test accuracy).
//!
//! The curve of a run is its incumbent after each query: the queried architecture with the best
//! validation accuracy so far, and that architecture's reporting (test) accuracy.

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::baselines;
use super::domain::{Constraint, Domain, Equivalence};
use super::guided::{GuidedSettings, guided};
use super::guided_front::guided_front;
use super::inputs::FeatureCache;
pub use super::method::{Method, RunHistory};
use super::multi;
use super::oracle::{Evaluator, Oracle, Scorecard};
use crate::features::Featurize;
use crate::sampler::Propose;
use crate::space::{SearchSpace, SpaceKind, Task};
use crate::stats::mean_std;

/// What every run of a study shares: where it may go, the features of its architectures, the budget.
pub struct Setup<'a, 'f, S: Featurize> {
    pub domain: &'a Domain<S>,
    pub features: &'a FeatureCache<'f, S>,
    pub network: S::Network,
    /// Distinct queries each run may make.
    pub budget: usize,
    /// Architectures proposed at a time (`None`: each method's own — one for the baselines, the guided
    /// search's `per_round`).
    pub batch: Option<usize>,
    pub guided: &'a GuidedSettings,
    /// Each position's costs, minimised (the multi-objective methods weigh them against the answers;
    /// never an accuracy), where the study has several objectives.
    pub costs: Option<&'a [Vec<f64>]>,
}

impl<S: Featurize> Setup<'_, '_, S> {
    /// The guided searches' settings, `--batch` setting the round size.
    fn guided_settings(&self) -> GuidedSettings {
        let mut settings = self.guided.clone();
        if let Some(b) = self.batch {
            settings.per_round = b;
        }
        settings
    }
}

/// Runs one method with one seed until the oracle's budget is spent; returns what it queried.
/// Equivalent architectures are one query where the domain says so ([`Domain::with_equivalence`]).
pub fn run_method<S: SearchSpace + Propose + Featurize>(
    method: Method,
    setup: &Setup<'_, '_, S>,
    eval: &mut dyn Evaluator,
    seed: u64,
) -> Result<RunHistory> {
    let domain = setup.domain;
    let mut oracle = Oracle::with_classes(eval, setup.budget, domain.classes(), domain.stand_ins());
    let mut rng = method.rng(seed);
    let batch = setup.batch.unwrap_or(1);
    match method {
        Method::Random => baselines::random(domain, &mut oracle, &mut rng, batch)?,
        Method::Rea => baselines::rea(domain, &mut oracle, &mut rng, batch)?,
        Method::Ls => baselines::local_search(domain, &mut oracle, &mut rng)?,
        Method::MoRea | Method::MoLs | Method::MoNar => {
            let costs = setup.costs.ok_or_else(|| {
                anyhow::anyhow!("{method} weighs accuracy against costs: give --objectives (e.g. val,flops)")
            })?;
            match method {
                Method::MoRea => multi::mo_rea(domain, &mut oracle, &mut rng, costs, batch)?,
                Method::MoLs => multi::mo_local_search(domain, &mut oracle, &mut rng, costs)?,
                _ => {
                    let settings = setup.guided_settings();
                    guided_front(domain, setup.features, setup.network, &mut oracle, &settings, costs, seed)?
                }
            }
        }
        Method::Nar => {
            let settings = setup.guided_settings();
            guided(domain, setup.features, setup.network, &mut oracle, &settings, seed)?
        }
    }
    let numbers = oracle.history_numbers();
    Ok(RunHistory { answered: oracle.history(), failed: oracle.failures().to_vec(), numbers })
}

/// One run's incumbent after each query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    pub method: Method,
    pub seed: u64,
    /// `best_val[i]`, `best_test[i]`, `incumbent[i]`: after query number `queries[i]`, the i + 1-th
    /// answered one (`queries[i]` = i + 1 where no query failed).
    pub queries: Vec<usize>,
    pub best_val: Vec<f64>,
    pub best_test: Vec<f64>,
    pub incumbent: Vec<usize>,
    /// After how many queries the target (the best-validation architecture of the pool, or one
    /// equivalent to it) was first queried, if it was.
    pub hit: Option<usize>,
    pub seconds: f64,
    /// The failed queries `(position, reason)`: each spent one of the budget and is not in the curve
    /// (whose points are the answered queries).
    pub failed: Vec<(usize, String)>,
    /// With several objectives: the run's front measured after each answered query, per point of the
    /// curve.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub front: Vec<super::front::Measures>,
}

impl Curve {
    /// The curve of a run's answered queries, scored by `card` (NaN test accuracy where there is no
    /// card); its failed queries are kept beside it.
    pub fn new(method: Method, seed: u64, run: &RunHistory, card: Option<&Scorecard>, seconds: f64) -> Curve {
        let (mut best_val, mut best_test, mut incumbent) = (Vec::new(), Vec::new(), Vec::new());
        let mut best: Option<(usize, f64)> = None;
        for &(p, v) in &run.answered {
            if best.is_none_or(|(_, bv)| v > bv) {
                best = Some((p, v));
            }
            let (bp, bv) = best.expect("set above");
            best_val.push(bv);
            best_test.push(card.map_or(f64::NAN, |c| c.accuracy(bp)));
            incumbent.push(bp);
        }
        let queries = run.numbers.clone();
        Curve {
            method,
            seed,
            queries,
            best_val,
            best_test,
            incumbent,
            hit: None,
            seconds,
            failed: run.failed.clone(),
            front: Vec::new(),
        }
    }

    /// Records when the first architecture `is_target` accepts was queried.
    pub fn with_hit(mut self, run: &RunHistory, is_target: impl Fn(usize) -> bool) -> Curve {
        self.hit = run.answered.iter().position(|&(p, _)| is_target(p)).map(|i| run.numbers[i]);
        self
    }

    /// The point of the curve after `queries` queries (the last one if the run stopped earlier; `None`
    /// before its first answer).
    fn point_at(&self, queries: usize) -> Option<usize> {
        self.queries.partition_point(|&q| q <= queries).checked_sub(1)
    }

    /// Best validation accuracy after `queries` (the last one if the run stopped earlier).
    pub fn val_at(&self, queries: usize) -> f64 {
        self.point_at(queries).map_or(f64::NAN, |i| self.best_val[i])
    }

    /// Test accuracy of the incumbent after `queries` (the last one if the run stopped earlier).
    pub fn test_at(&self, queries: usize) -> f64 {
        self.point_at(queries).map_or(f64::NAN, |i| self.best_test[i])
    }

    /// The run's front measures after `queries` (the last ones if the run stopped earlier; `None`
    /// before its first answer or without several objectives).
    pub fn front_at(&self, queries: usize) -> Option<super::front::Measures> {
        self.point_at(queries).and_then(|i| self.front.get(i).copied())
    }
}

/// The query counts the study's table reports (those within the budget, and the budget itself).
pub fn table_points(budget: usize) -> Vec<usize> {
    let mut v: Vec<usize> = [10, 25, 50, 64, 100, 150, 200, 300].into_iter().filter(|&q| q < budget).collect();
    v.push(budget);
    v
}

/// One method at one query count, over the seeds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub queries: usize,
    /// Best validation accuracy found: mean, std.
    pub val: (f64, f64),
    /// The incumbent's test (reporting) accuracy: mean, std.
    pub test: (f64, f64),
    /// Seeds that have queried the target (the best-validation architecture, or one equivalent).
    pub hits: usize,
}

/// A method's row of the study's table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub method: Method,
    pub cells: Vec<Cell>,
    pub seeds: usize,
    pub seconds_per_seed: f64,
}

/// The study's table.
pub fn table(curves: &[Curve], budget: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    for m in Method::EVERY {
        let mine: Vec<&Curve> = curves.iter().filter(|c| c.method == m).collect();
        if mine.is_empty() {
            continue;
        }
        let cells = table_points(budget)
            .into_iter()
            .map(|q| {
                let val: Vec<f64> = mine.iter().map(|c| c.val_at(q)).collect();
                let test: Vec<f64> = mine.iter().map(|c| c.test_at(q)).collect();
                let hits = mine.iter().filter(|c| c.hit.is_some_and(|h| h <= q)).count();
                Cell { queries: q, val: mean_std(&val), test: mean_std(&test), hits }
            })
            .collect();
        let seconds = mine.iter().map(|c| c.seconds).sum::<f64>() / mine.len() as f64;
        rows.push(Row { method: m, cells, seeds: mine.len(), seconds_per_seed: seconds });
    }
    rows
}

/// `(queries, mean, std)` of the incumbent's test accuracy at every query count.
pub use crate::stats::MeanCurve;

/// Mean and std of the incumbent's test accuracy (`by_test`; otherwise its validation accuracy, all a
/// user's oracle gives) at every query count from 10 (or the budget, if smaller) to the budget, per
/// method (for the report's bands; the first few random queries would stretch the scale).
pub fn bands(curves: &[Curve], budget: usize, by_test: bool) -> Vec<(Method, MeanCurve)> {
    bands_of(curves, budget, |c, q| if by_test { c.test_at(q) } else { c.val_at(q) })
}

/// Mean and std over each method's runs of `value(curve, queries)` at every query count from 10 (or
/// the budget, if smaller) to the budget.
pub fn bands_of(curves: &[Curve], budget: usize, value: impl Fn(&Curve, usize) -> f64) -> Vec<(Method, MeanCurve)> {
    Method::EVERY
        .into_iter()
        .filter_map(|m| {
            let mine: Vec<&Curve> = curves.iter().filter(|c| c.method == m).collect();
            (!mine.is_empty()).then(|| {
                let pts = (budget.min(10)..=budget)
                    .map(|q| {
                        let v: Vec<f64> = mine.iter().map(|c| value(c, q)).collect();
                        let (mean, std) = mean_std(&v);
                        (q as f64, mean, std)
                    })
                    .collect();
                (m, pts)
            })
        })
        .collect()
}

/// What a study found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StudySummary {
    pub space: SpaceKind,
    /// The task whose accuracies were searched (written `network`, its name before tasks).
    #[serde(rename = "network")]
    pub task: Task,
    pub val_metric: String,
    /// The accuracy picks are scored by (none with the user's oracle).
    pub report_metric: Option<String>,
    /// The best reporting accuracy in the pool.
    pub optimum: Option<f64>,
    /// The target of the hit counts: the pool's best-validation architecture and its validation
    /// accuracy (with the table's oracle).
    pub target: Option<(String, f64)>,
    /// Architectures the methods could query, and whether that is the whole space.
    pub pool: usize,
    /// Distinct queries among them (equivalent architectures counted once, where they are one query).
    pub distinct: usize,
    pub whole_space: bool,
    pub constraint: Constraint,
    pub equivalence: Equivalence,
    pub budget: usize,
    pub batch: Option<usize>,
    pub seeds: u64,
    pub first_seed: u64,
    pub table: Vec<Row>,
    /// Mean ± std of the incumbent's test accuracy (validation accuracy with a user's oracle) per method
    /// at every query count from 10.
    pub bands: Vec<(Method, MeanCurve)>,
    /// Each run's pick: `(method, seed, id, validation accuracy, test accuracy, rank)`.
    pub picks: Vec<(Method, u64, String, f64, f64, usize)>,
    /// Each run's failed queries: `(method, seed, id, reason)`.
    #[serde(default)]
    pub failures: Vec<(Method, u64, String, String)>,
    /// With several objectives: the true front and each method's front measures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub front: Option<super::front::FrontSummary>,
    #[serde(skip)]
    pub curves: Vec<Curve>,
}

impl StudySummary {
    /// The pool, in words: `15625 architectures (the whole space)`.
    pub fn pool_description(&self) -> String {
        let which = match (self.whole_space, self.constraint.is_none()) {
            (true, true) => "the whole space".to_string(),
            (false, true) => "the labelled pool, or the sample of a space too large to list".to_string(),
            (_, false) => format!("those with {}", self.constraint),
        };
        let distinct = match self.equivalence {
            Equivalence::Canonical if self.distinct != self.pool => {
                format!(", {} distinct functions, equivalent cells one query", self.distinct)
            }
            _ => String::new(),
        };
        format!("{} architectures ({which}{distinct})", self.pool)
    }

    /// The table as text rows: method, queries, best validation, incumbent's test, hits (`None` as a
    /// cell where there is no test accuracy or target).
    pub fn table_rows(&self) -> Vec<[String; 5]> {
        let d = self.digits();
        let mut out = Vec::new();
        for r in &self.table {
            for c in &r.cells {
                out.push([
                    r.method.name().to_string(),
                    c.queries.to_string(),
                    format!("{:.d$} ± {:.d$}", c.val.0, c.val.1),
                    if self.report_metric.is_some() {
                        format!("{:.d$} ± {:.d$}", c.test.0, c.test.1)
                    } else {
                        "-".to_string()
                    },
                    if self.target.is_some() { format!("{}/{}", c.hits, r.seeds) } else { "-".to_string() },
                ]);
            }
        }
        out
    }

    /// The table's column heads.
    pub const TABLE_HEAD: [&'static str; 5] =
        ["method", "queries", "best validation", "incumbent's test", "target queried"];

    /// Decimal places for accuracies: fractions (NB101's) need more than percentages.
    pub fn digits(&self) -> usize {
        if self.optimum.is_some_and(|o| o <= 1.0) { 4 } else { 2 }
    }
}

/// A run's comparison of budgeted methods (`comparison.json`).
impl crate::run_dir::RunDir {
    /// The budgeted comparison at the run's budget, if `nar run` has made it.
    pub fn read_comparison(&self) -> anyhow::Result<Option<StudySummary>> {
        let p = self.comparison_path();
        if p.exists() { crate::run_dir::read_json(&p, "comparison").map(Some) } else { Ok(None) }
    }
    pub fn write_comparison(&self, s: &StudySummary) -> anyhow::Result<()> {
        crate::run_dir::write_json(&self.comparison_path(), s)
    }
}
