//! Black-box baselines, each reading accuracies only through the [`Oracle`]:
//!
//! - **random search**: distinct uniformly random architectures of the pool;
//! - **regularized evolution** (REA; Real et al., AAAI 2019): a population of 10 random architectures;
//!   repeatedly a tournament of 3 drawn from it, the best one's child (a random neighbour, [`Domain::neighbours`])
//!   is queried, joins the population and the oldest member leaves (a parent whose neighbours in the
//!   pool are all queried, or who has none there, as in the NB101 sample, has a new random member of the
//!   pool as its child);
//! - **local search** (LS; White et al., UAI 2021): from a random architecture, query all its neighbours
//!   and move to the best one while it improves; at a local optimum restart from a new random one.
//!
//! Each proposes `batch` architectures at a time, chosen without the answers of the others in the
//! batch (random search: `batch` distinct draws; REA: `batch` children of `batch` tournaments on the
//! population as it stands; local search evaluates the whole neighbourhood before it moves, so its
//! queries do not depend on the batch). Each runs until the oracle's budget is spent (or, in a pool
//! smaller than the budget, until nothing new can be reached). The pick is the oracle's best.

use std::collections::{HashSet, VecDeque};

use anyhow::Result;

use super::domain::Domain;
use super::oracle::{Oracle, QueryError};
use crate::rng::Rng;
use crate::space::SearchSpace;

/// REA's population size and tournament size.
pub const REA_POPULATION: usize = 10;
pub const REA_TOURNAMENT: usize = 3;

/// `Ok(Some(v))` for an answer, `Ok(None)` once the budget is spent, `Err` when the evaluator fails.
pub(crate) fn ask(oracle: &mut Oracle<'_>, position: usize) -> Result<Option<f64>> {
    match oracle.query(position) {
        Ok(v) => Ok(Some(v)),
        Err(QueryError::BudgetSpent { .. }) => Ok(None),
        Err(QueryError::Failed(e)) => Err(e),
    }
}

/// How many draws a method may make without finding anything new before it stops (a pool smaller than
/// the budget, or one whose reachable part is exhausted).
fn patience<S: SearchSpace>(domain: &Domain<S>) -> usize {
    100 * domain.size().max(1)
}

/// A random architecture of the pool not queried yet (nor equivalent to one queried), if one turns up.
pub(crate) fn fresh_random<S: SearchSpace>(domain: &Domain<S>, oracle: &Oracle<'_>, rng: &mut Rng) -> Option<usize> {
    fresh_random_except(domain, oracle, rng, &HashSet::new())
}

/// [`fresh_random`], and not of the queries in `taken` (a batch's proposals so far).
fn fresh_random_except<S: SearchSpace>(
    domain: &Domain<S>,
    oracle: &Oracle<'_>,
    rng: &mut Rng,
    taken: &HashSet<u32>,
) -> Option<usize> {
    if oracle.spent() + taken.len() >= domain.distinct() {
        return None;
    }
    (0..patience(domain))
        .map(|_| domain.random(rng))
        .find(|&p| !oracle.is_queried(p) && !taken.contains(&domain.class(p)))
}

/// Asks for every architecture of a batch in order (the evaluator told first, so that it may answer
/// them at once); `false` once the budget is spent.
pub(crate) fn ask_all(oracle: &mut Oracle<'_>, batch: &[usize], answers: &mut Vec<(usize, f64)>) -> Result<bool> {
    oracle.prefetch(batch)?;
    for &p in batch {
        match ask(oracle, p)? {
            Some(v) => answers.push((p, v)),
            None => return Ok(false),
        }
    }
    Ok(true)
}

/// Up to `k` (and the budget left) random architectures of the pool, none queried, no two equivalent.
pub(crate) fn random_batch<S: SearchSpace>(
    domain: &Domain<S>,
    oracle: &Oracle<'_>,
    rng: &mut Rng,
    k: usize,
) -> Vec<usize> {
    let mut taken = HashSet::new();
    let mut proposals = Vec::new();
    while proposals.len() < k.min(oracle.left()) {
        let Some(p) = fresh_random_except(domain, oracle, rng, &taken) else { break };
        taken.insert(domain.class(p));
        proposals.push(p);
    }
    proposals
}

/// Random search.
pub fn random<S: SearchSpace>(domain: &Domain<S>, oracle: &mut Oracle<'_>, rng: &mut Rng, batch: usize) -> Result<()> {
    while oracle.left() > 0 {
        let proposals = random_batch(domain, oracle, rng, batch);
        if proposals.is_empty() || !ask_all(oracle, &proposals, &mut Vec::new())? {
            break;
        }
    }
    Ok(())
}

/// Regularized evolution.
pub fn rea<S: SearchSpace>(domain: &Domain<S>, oracle: &mut Oracle<'_>, rng: &mut Rng, batch: usize) -> Result<()> {
    let mut population: VecDeque<(usize, f64)> = VecDeque::with_capacity(REA_POPULATION + batch);
    // The first population as one batch: the same draws as one at a time (a draw refuses what is
    // queried or drawn before it), asked together.
    let first = random_batch(domain, oracle, rng, REA_POPULATION);
    let mut answers = Vec::new();
    let complete = ask_all(oracle, &first, &mut answers)?;
    population.extend(answers);
    if !complete || population.len() < REA_POPULATION {
        return Ok(());
    }
    let mut idle = 0;
    while oracle.left() > 0 && idle < patience(domain) {
        // A batch of children, each from a tournament on the population as it stands.
        let mut children = Vec::with_capacity(batch);
        for _ in 0..batch {
            let parent = (0..REA_TOURNAMENT)
                .map(|_| population[rng.below(population.len())])
                .fold(None, |best: Option<(usize, f64)>, c| match best {
                    Some(b) if b.1 >= c.1 => Some(b),
                    _ => Some(c),
                })
                .expect("a non-empty tournament");
            // Where the pool holds none of the parent's neighbours, or all of them are queried already
            // (the NB101 sample), the child is a new random member of the pool.
            let n = domain.neighbours(parent.0);
            let child = if n.iter().all(|&p| oracle.is_queried(p)) {
                match fresh_random(domain, oracle, rng) {
                    Some(p) => p,
                    None => break,
                }
            } else {
                n[rng.below(n.len())]
            };
            children.push(child);
        }
        if children.is_empty() {
            break;
        }
        let before = oracle.spent();
        let mut answers = Vec::with_capacity(children.len());
        let more = ask_all(oracle, &children, &mut answers)?;
        idle = if oracle.spent() > before { 0 } else { idle + answers.len() };
        for a in answers {
            population.push_back(a);
            population.pop_front();
        }
        if !more {
            break;
        }
    }
    Ok(())
}

/// Local search with restarts.
pub fn local_search<S: SearchSpace>(domain: &Domain<S>, oracle: &mut Oracle<'_>, rng: &mut Rng) -> Result<()> {
    'restart: while oracle.left() > 0 {
        let Some(start) = fresh_random(domain, oracle, rng) else { return Ok(()) };
        let Some(mut value) = ask(oracle, start)? else { return Ok(()) };
        let mut here = start;
        loop {
            let mut best: Option<(usize, f64)> = None;
            let neighbours = domain.neighbours(here);
            oracle.prefetch(&neighbours)?;
            for n in neighbours {
                let Some(v) = ask(oracle, n)? else { return Ok(()) };
                if best.is_none_or(|(_, bv)| v > bv) {
                    best = Some((n, v));
                }
            }
            match best {
                Some((n, v)) if v > value => (here, value) = (n, v),
                _ => continue 'restart,
            }
        }
    }
    Ok(())
}
