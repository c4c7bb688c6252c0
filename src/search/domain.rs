//! Where a budgeted search may go: the pool of architectures it may query (dataset positions) and each
//! one's neighbours inside the pool. A domain holds the space's architectures without any metric — a
//! method given a domain and an oracle has no way to an accuracy but the oracle. The pool is the set of
//! architectures the evaluator can answer for (all of NB201; the labelled sample of NB101).

use crate::data::Dataset;
use crate::rng::Rng;
use crate::space::SearchSpace;

/// The architectures a method may query.
pub struct Domain<S: SearchSpace> {
    /// The dataset's architectures and ids, with no metrics.
    pub ds: Dataset<S>,
    pool: Vec<usize>,
    in_pool: Vec<bool>,
}

impl<S: SearchSpace> Domain<S> {
    /// Every architecture of the dataset.
    pub fn all(ds: &Dataset<S>) -> Domain<S> {
        Domain::pool(ds, (0..ds.len()).collect())
    }

    /// Only the given positions (e.g. the labelled architectures of a sample).
    pub fn pool(ds: &Dataset<S>, pool: Vec<usize>) -> Domain<S> {
        let mut in_pool = vec![false; ds.len()];
        pool.iter().for_each(|&p| in_pool[p] = true);
        Domain { ds: ds.without_metrics(), pool, in_pool }
    }

    /// Number of architectures in the pool.
    pub fn size(&self) -> usize {
        self.pool.len()
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

    /// The pool's architectures one mutation away from `position` ([`SearchSpace::neighbours`]).
    pub fn neighbours(&self, position: usize) -> Vec<usize> {
        S::neighbours(&self.ds.archs()[position])
            .iter()
            .filter_map(|a| self.ds.position(&S::id(a)))
            .filter(|&p| p != position && self.in_pool[p])
            .collect()
    }
}
