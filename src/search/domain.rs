//! Where a budgeted search may go: the pool of architectures it may query (dataset positions) and each
//! one's neighbours inside the pool. No accuracy is read here: the pool is the set of architectures the
//! evaluator can answer for (all of NB201; the labelled sample of NB101).

use crate::data::Dataset;
use crate::rng::Rng;
use crate::space::SearchSpace;

/// The architectures a method may query.
pub struct Domain<'a, S: SearchSpace> {
    pub ds: &'a Dataset<S>,
    pool: Vec<usize>,
    in_pool: Vec<bool>,
}

impl<'a, S: SearchSpace> Domain<'a, S> {
    /// The whole dataset.
    pub fn all(ds: &'a Dataset<S>) -> Domain<'a, S> {
        Domain { ds, pool: (0..ds.len()).collect(), in_pool: vec![true; ds.len()] }
    }

    /// Only the given positions (e.g. the labelled architectures of a sample).
    pub fn pool(ds: &'a Dataset<S>, pool: Vec<usize>) -> Domain<'a, S> {
        let mut in_pool = vec![false; ds.len()];
        pool.iter().for_each(|&p| in_pool[p] = true);
        Domain { ds, pool, in_pool }
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

    /// A uniformly random neighbour of `position` in the pool, if it has any.
    pub fn mutate(&self, position: usize, rng: &mut Rng) -> Option<usize> {
        let n = self.neighbours(position);
        (!n.is_empty()).then(|| n[rng.below(n.len())])
    }
}
