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

/// Upper bounds on the cost model's totals of the network an architecture is built into.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub max_params: Option<u64>,
    pub max_flops: Option<u64>,
}

impl Constraint {
    pub fn is_none(&self) -> bool {
        self.max_params.is_none() && self.max_flops.is_none()
    }

    /// Whether a network of `params` parameters and `flops` FLOPs is within the bounds.
    pub fn admits(&self, params: u64, flops: u64) -> bool {
        self.max_params.is_none_or(|m| params <= m) && self.max_flops.is_none_or(|m| flops <= m)
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(p) = self.max_params {
            parts.push(format!("params ≤ {p}"));
        }
        if let Some(p) = self.max_flops {
            parts.push(format!("FLOPs ≤ {p}"));
        }
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
        Domain { ds: ds.without_metrics(), pool, in_pool, class, equivalence: Equivalence::None, representatives }
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

    /// The pool's positions.
    pub fn positions(&self) -> &[usize] {
        &self.pool
    }

    /// Whether the pool is the whole space.
    pub fn is_whole_space(&self) -> bool {
        self.pool.len() == self.ds.len()
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
    pub fn constrained(mut self, constraint: Constraint, network: S::Network) -> Result<Domain<S>> {
        if constraint.is_none() {
            return Ok(self);
        }
        let before = self.pool.len();
        let archs = self.ds.archs();
        self.pool.retain(|&p| {
            let c = S::cost(&archs[p], network);
            constraint.admits(c.total_params, c.total_flops)
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
