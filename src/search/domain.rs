//! Where a budgeted search may go: the pool of architectures it may query (dataset positions), each
//! one's neighbours inside the pool, and which architectures are the same query. A domain holds the
//! space's architectures without any metric — a method given a domain and an oracle has no way to an
//! accuracy but the oracle. The pool is the set of architectures the evaluator can answer for (all of
//! NB201; the labelled sample of NB101), narrowed by a cost [`Constraint`].

use std::collections::HashMap;
use std::fmt;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::benchmark::Benchmark;
use crate::cost::NetworkCost;
use crate::data::Dataset;
use crate::rng::Rng;
use crate::space::SearchSpace;
use crate::usage::UsageError;

/// Which architectures count as one query.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Equivalence {
    /// Architectures with one canonical form ([`SearchSpace::canonical`]: NB201 cells computing the
    /// same function) are one query: asking for a second one answers the first one's accuracy, free.
    #[default]
    Canonical,
    /// Every architecture of the dataset is its own query (how the field's baselines usually run).
    None,
}

impl Equivalence {
    pub const ALL: [Equivalence; 2] = [Equivalence::Canonical, Equivalence::None];

    pub fn name(self) -> &'static str {
        match self {
            Equivalence::Canonical => "canonical",
            Equivalence::None => "none",
        }
    }
}

impl fmt::Display for Equivalence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An upper bound on one cost of an architecture (`--max NAME=VALUE`): the cost model's totals of the
/// network it is built into (`params`, `flops`), or a cost column of the dataset (a latency, a
/// measured parameter count: any metric that is not an accuracy — a search reads accuracies through
/// its oracle only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bound {
    pub cost: String,
    pub max: f64,
}

/// The cost model's totals a bound may name.
pub const MODEL_COSTS: [&str; 2] = ["params", "flops"];

/// Where a named cost's values come from (`--max`, `--objectives`): the cost model's totals of an
/// architecture's network, or a cost column of the dataset.
#[derive(Clone, Copy, Debug)]
pub enum CostSource<'d> {
    Params,
    Flops,
    Column(&'d [f64]),
}

impl CostSource<'_> {
    pub fn is_model(&self) -> bool {
        !matches!(self, CostSource::Column(_))
    }

    /// The cost of position `p`; `model` is its network's cost where the source is the cost model's.
    pub fn value(&self, p: usize, model: Option<&NetworkCost>) -> f64 {
        let model = || model.expect("the cost model's totals, where a cost reads them");
        match self {
            CostSource::Params => model().total_params as f64,
            CostSource::Flops => model().total_flops as f64,
            CostSource::Column(c) => c[p],
        }
    }
}

/// Why a name is not a cost: an accuracy (a search reads those through its oracle only), or no cost
/// of that name; `known` lists the costs there are.
pub struct NotACost {
    pub accuracy: bool,
    pub known: String,
}

/// The cost called `name`: the cost model's `params` or `flops`, else a column of `ds` that is not an
/// accuracy.
pub fn cost_source<'d, S: SearchSpace>(name: &str, ds: Option<&'d Dataset<S>>) -> Result<CostSource<'d>, NotACost> {
    let model = S::has_cost_model();
    match name {
        "params" if model => return Ok(CostSource::Params),
        "flops" if model => return Ok(CostSource::Flops),
        _ => {}
    }
    let known = || {
        let columns = ds.into_iter().flat_map(|d| d.metrics()).filter(|m| !m.higher_is_better());
        let model_costs = if model { &MODEL_COSTS[..] } else { &[] };
        let known: Vec<&str> = model_costs.iter().copied().chain(columns.map(|m| m.name.as_str())).collect();
        if known.is_empty() {
            "none (the space has no cost model and the dataset no cost column)".to_string()
        } else {
            known.join(", ")
        }
    };
    if crate::data::MetricKind::of(name) == crate::data::MetricKind::Accuracy {
        return Err(NotACost { accuracy: true, known: known() });
    }
    ds.and_then(|d| d.metric(name)).map(CostSource::Column).ok_or_else(|| NotACost { accuracy: false, known: known() })
}

impl Bound {
    /// Reads `NAME=VALUE` (a finite, non-negative number).
    pub fn parse(spec: &str) -> Result<Bound, String> {
        let (name, value) =
            spec.split_once('=').ok_or_else(|| format!("{spec:?}: expected NAME=VALUE (e.g. params=600000)"))?;
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return Err(format!("{spec:?}: the cost has no name"));
        }
        let max: f64 = value.parse().map_err(|_| format!("{spec:?}: {value:?} is not a number"))?;
        if !(max.is_finite() && max >= 0.0) {
            return Err(format!("{spec:?}: the bound must be a finite number ≥ 0"));
        }
        Ok(Bound { cost: name.to_string(), max })
    }
}

/// Upper bounds on an architecture's costs: every one must hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Constraint {
    pub bounds: Vec<Bound>,
}

impl Constraint {
    /// The bounds given, each cost at most once.
    pub fn new(bounds: Vec<Bound>) -> Result<Constraint, String> {
        for (i, b) in bounds.iter().enumerate() {
            if bounds[..i].iter().any(|o| o.cost == b.cost) {
                return Err(format!("{} is bounded twice", b.cost));
            }
        }
        Ok(Constraint { bounds })
    }

    /// The cost model's bounds (`--max-params`, `--max-flops`, Python's `max_params`, `max_flops`).
    pub fn model(max_params: Option<u64>, max_flops: Option<u64>) -> Constraint {
        let mut bounds = Vec::new();
        if let Some(p) = max_params {
            bounds.push(Bound { cost: "params".into(), max: p as f64 });
        }
        if let Some(f) = max_flops {
            bounds.push(Bound { cost: "flops".into(), max: f as f64 });
        }
        Constraint { bounds }
    }

    pub fn is_none(&self) -> bool {
        self.bounds.is_empty()
    }
}

/// Reads both the list of bounds and the first releases' `{max_params, max_flops}` (a saved study's
/// summary, a run's comparison).
impl<'de> Deserialize<'de> for Constraint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Constraint, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Bounds { bounds: Vec<Bound> },
            Model { max_params: Option<u64>, max_flops: Option<u64> },
        }
        Ok(match Either::deserialize(d)? {
            Either::Bounds { bounds } => Constraint::new(bounds).map_err(serde::de::Error::custom)?,
            Either::Model { max_params, max_flops } => Constraint::model(max_params, max_flops),
        })
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .bounds
            .iter()
            .map(|b| {
                let name = if b.cost == "flops" { "FLOPs" } else { b.cost.as_str() };
                format!("{name} ≤ {}", b.max)
            })
            .collect();
        if parts.is_empty() { f.write_str("none") } else { f.write_str(&parts.join(", ")) }
    }
}

/// The architectures a method may query.
pub struct Domain<S: SearchSpace> {
    /// The dataset's architectures and ids, with no metrics.
    pub ds: Dataset<S>,
    pool: Vec<usize>,
    in_pool: Vec<bool>,
    /// The query each position is: equivalent positions share one number.
    class: Vec<u32>,
    equivalence: Equivalence,
    /// One pool position per distinct query: the canonical form where it is in the pool, else the
    /// class's first pool position (all of the pool when every architecture is its own query).
    representatives: Vec<usize>,
    /// `stand_in[class]`: the representative of each class with a pool position (`usize::MAX` for
    /// the others).
    stand_in: Vec<usize>,
}

impl<S: SearchSpace> Domain<S> {
    /// Every architecture of the dataset, each its own query.
    pub fn all(ds: &Dataset<S>) -> Domain<S> {
        Domain::pool(ds, (0..ds.len()).collect())
    }

    /// Only the given positions (e.g. the labelled architectures of a sample), each its own query.
    pub fn pool(ds: &Dataset<S>, pool: Vec<usize>) -> Domain<S> {
        let mut in_pool = vec![false; ds.len()];
        pool.iter().for_each(|&p| in_pool[p] = true);
        let class = (0..ds.len() as u32).collect();
        let representatives = pool.clone();
        let mut stand_in = vec![usize::MAX; ds.len()];
        pool.iter().for_each(|&p| stand_in[p] = p);
        Domain {
            ds: ds.without_metrics(),
            pool,
            in_pool,
            class,
            equivalence: Equivalence::None,
            representatives,
            stand_in,
        }
    }

    /// One pool position per class: the canonical form when the pool has it.
    fn choose_representatives(&mut self) {
        let archs = self.ds.archs();
        let mut chosen: HashMap<u32, usize> = HashMap::new();
        for &p in &self.pool {
            let canonical = S::canonical(&archs[p]) == archs[p];
            let slot = chosen.entry(self.class[p]).or_insert(p);
            if canonical {
                *slot = p;
            }
        }
        self.stand_in = vec![usize::MAX; self.ds.len()];
        for (&c, &p) in &chosen {
            self.stand_in[c as usize] = p;
        }
        let mut r: Vec<usize> = chosen.into_values().collect();
        r.sort_unstable();
        self.representatives = r;
    }

    /// Makes equivalent architectures one query ([`Equivalence`]).
    pub fn with_equivalence(mut self, equivalence: Equivalence) -> Domain<S> {
        self.equivalence = equivalence;
        self.class = match equivalence {
            Equivalence::None => (0..self.ds.len() as u32).collect(),
            Equivalence::Canonical => {
                let mut number: HashMap<S::Id, u32> = HashMap::new();
                self.ds
                    .archs()
                    .iter()
                    .map(|a| {
                        let next = number.len() as u32;
                        *number.entry(S::id(&S::canonical(a))).or_insert(next)
                    })
                    .collect()
            }
        };
        self.choose_representatives();
        self
    }

    pub fn equivalence(&self) -> Equivalence {
        self.equivalence
    }

    /// The query an architecture is: positions with one number are equivalent.
    pub fn class(&self, position: usize) -> u32 {
        self.class[position]
    }

    /// The query numbers of every position.
    pub fn classes(&self) -> &[u32] {
        &self.class
    }

    /// Number of architectures in the pool.
    pub fn size(&self) -> usize {
        self.pool.len()
    }

    /// Number of distinct queries in the pool (architectures, or their classes).
    pub fn distinct(&self) -> usize {
        self.representatives.len()
    }

    /// One pool position per distinct query, in position order (what a method that scores the whole
    /// pool scores: equivalent architectures once, by their canonical form).
    pub fn representatives(&self) -> &[usize] {
        &self.representatives
    }

    /// Each class's representative, by class number: the architecture a query of any of its members
    /// evaluates ([`super::oracle::Oracle::with_classes`]).
    pub fn stand_ins(&self) -> &[usize] {
        &self.stand_in
    }

    /// The pool's positions.
    pub fn positions(&self) -> &[usize] {
        &self.pool
    }

    /// Whether the pool is the whole space.
    pub fn is_whole_space(&self) -> bool {
        self.pool.len() == self.ds.len() && S::listed()
    }

    pub fn contains(&self, position: usize) -> bool {
        self.in_pool.get(position).copied().unwrap_or(false)
    }

    /// A uniformly random architecture of the pool.
    pub fn random(&self, rng: &mut Rng) -> usize {
        self.pool[rng.below(self.pool.len())]
    }

    /// The pool's architectures one mutation away from `position` ([`SearchSpace::neighbours`]),
    /// those equivalent to `position` left out.
    pub fn neighbours(&self, position: usize) -> Vec<usize> {
        S::neighbours(&self.ds.archs()[position])
            .iter()
            .filter_map(|a| self.ds.position(&S::id(a)))
            .filter(|&p| self.in_pool[p] && self.class[p] != self.class[position])
            .collect()
    }
}

impl<S: Benchmark> Domain<S> {
    /// Keeps only the pool's architectures within `constraint` (the cost model of `network`); an error
    /// when none is.
    /// `costs`: the dataset whose cost columns a bound may name (its positions are the domain's); a
    /// bound on a column no architecture of the pool has a value of is refused, an architecture
    /// without a value leaves the pool (its cost is unknown).
    pub fn constrained(
        mut self,
        constraint: &Constraint,
        network: S::Network,
        costs: Option<&Dataset<S>>,
    ) -> Result<Domain<S>> {
        if constraint.is_none() {
            return Ok(self);
        }
        // Each bound's cost per position: the cost model's, or a column of the dataset.
        let mut sources = Vec::new();
        for b in &constraint.bounds {
            sources.push(cost_source(&b.cost, costs).map_err(|e| {
                let why = if e.accuracy {
                    "an accuracy is not a cost (a search reads accuracies through its oracle only)"
                } else {
                    "no such cost"
                };
                UsageError(format!("--max {}: {why}; costs: {}", b.cost, e.known))
            })?);
        }
        let before = self.pool.len();
        let archs = self.ds.archs();
        let model = sources.iter().any(CostSource::is_model);
        self.pool.retain(|&p| {
            let cost = model.then(|| S::cost(&archs[p], network));
            constraint.bounds.iter().zip(&sources).all(|(b, s)| s.value(p, cost.as_ref()) <= b.max)
        });
        if self.pool.is_empty() {
            return Err(UsageError(format!(
                "no architecture of the {before} in the pool meets the constraint ({constraint})"
            ))
            .into());
        }
        self.in_pool.iter_mut().for_each(|b| *b = false);
        self.pool.iter().for_each(|&p| self.in_pool[p] = true);
        self.choose_representatives();
        Ok(self)
    }
}
