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
//! Random search and local search propose `batch` architectures at a time, chosen without the answers
//! of the others in the batch (random search: `batch` distinct draws; local search evaluates the whole
//! neighbourhood before it moves, so its queries do not depend on the batch), and wait for the whole
//! batch: their queries depend only on the answers, never on the order in which calls end. REA is
//! asynchronous, as Real et al. run it: it keeps `batch` children running, and as soon as one is
//! answered, it joins the population and the next child comes from a tournament on the population as
//! it stands — with more than one running, its queries depend on which call ends first (with the
//! table's oracle the calls end in the order started; `batch` 1 is the sequential REA); its first
//! population is drawn the same way, a random architecture whenever a worker is free and fewer than 10
//! are answered or running. A failed query
//! spends its query and is left out: it never joins REA's population nor becomes LS's position. Each
//! runs until the oracle's budget is spent (or, in a pool smaller than the budget, until nothing new can
//! be reached). The pick is the oracle's best.

use std::collections::{HashSet, VecDeque};

use anyhow::Result;

use super::domain::Domain;
use super::oracle::{Answer, Oracle, Submitted};
use crate::rng::Rng;
use crate::space::SearchSpace;

/// REA's population size and tournament size.
pub const REA_POPULATION: usize = 10;
pub const REA_TOURNAMENT: usize = 3;

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
pub(crate) fn fresh_random_except<S: SearchSpace>(
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
        if proposals.is_empty() || !oracle.ask_all(&proposals)?.1 {
            break;
        }
    }
    Ok(())
}

/// A tournament of [`REA_TOURNAMENT`] on the population: the best one's child (a random neighbour in
/// the pool, not queried; where it has none, a new random member of the pool). `None`: nothing new.
fn rea_child<S: SearchSpace>(
    domain: &Domain<S>,
    oracle: &Oracle<'_>,
    rng: &mut Rng,
    population: &VecDeque<(usize, f64)>,
) -> Option<usize> {
    let parent = (0..REA_TOURNAMENT)
        .map(|_| population[rng.below(population.len())])
        .fold(None, |best: Option<(usize, f64)>, c| match best {
            Some(b) if b.1 >= c.1 => Some(b),
            _ => Some(c),
        })
        .expect("a non-empty tournament");
    // Where the pool holds none of the parent's neighbours, or all of them are queried already (the
    // NB101 sample), the child is a new random member of the pool.
    let n = domain.neighbours(parent.0);
    if n.iter().all(|&p| oracle.is_queried(p)) {
        fresh_random(domain, oracle, rng)
    } else {
        Some(n[rng.below(n.len())])
    }
}

/// Regularized evolution, `batch` queries running at a time: first random architectures until the
/// population is full (a free worker trains a random one while answered and running ones number fewer
/// than [`REA_POPULATION`]), then children.
pub fn rea<S: SearchSpace>(domain: &Domain<S>, oracle: &mut Oracle<'_>, rng: &mut Rng, batch: usize) -> Result<()> {
    let mut population: VecDeque<(usize, f64)> = VecDeque::with_capacity(REA_POPULATION + 1);
    let join = |population: &mut VecDeque<(usize, f64)>, member: (usize, f64)| {
        population.push_back(member);
        if population.len() > REA_POPULATION {
            population.pop_front();
        }
    };
    // Random members running; draws since the last new query (a pool whose reachable part is exhausted
    // ends the search).
    let (mut founding, mut idle) = (HashSet::new(), 0);
    // Random members answered: until there are REA_POPULATION, a failed one is replaced by another.
    let mut founded = 0;
    loop {
        while oracle.running() < batch.max(1) && oracle.left() > 0 && idle < patience(domain) {
            let random = founded + founding.len() < REA_POPULATION;
            if !random && population.is_empty() {
                break;
            }
            let child =
                if random { fresh_random(domain, oracle, rng) } else { rea_child(domain, oracle, rng, &population) };
            let Some(child) = child else {
                idle = patience(domain);
                break;
            };
            match oracle.submit(child)? {
                Submitted::Started if random => {
                    founding.insert(child);
                    idle = 0;
                }
                Submitted::Started => idle = 0,
                // Asked before (an equivalent cell): its answer joins again, free.
                Submitted::Known(Answer::Accuracy(v)) => {
                    idle += 1;
                    join(&mut population, (child, v));
                }
                Submitted::Known(Answer::Failed(_)) | Submitted::Running => idle += 1,
                Submitted::Spent => break,
            }
        }
        let Some((position, answer)) = oracle.wait()? else { break };
        let was_random = founding.remove(&position);
        if let Answer::Accuracy(v) = answer {
            if was_random {
                founded += 1;
            }
            join(&mut population, (position, v));
        }
    }
    Ok(())
}

/// Local search with restarts.
pub fn local_search<S: SearchSpace>(domain: &Domain<S>, oracle: &mut Oracle<'_>, rng: &mut Rng) -> Result<()> {
    'restart: while oracle.left() > 0 {
        let Some(start) = fresh_random(domain, oracle, rng) else { return Ok(()) };
        let (answers, complete) = oracle.ask_all(&[start])?;
        if !complete {
            return Ok(());
        }
        // A start that failed: another start.
        let Some(&(mut here, mut value)) = answers.first() else { continue };
        loop {
            let (answers, complete) = oracle.ask_all(&domain.neighbours(here))?;
            if !complete {
                return Ok(());
            }
            let best = answers.into_iter().fold(None, |best: Option<(usize, f64)>, (n, v)| match best {
                Some((_, bv)) if v <= bv => best,
                _ => Some((n, v)),
            });
            match best {
                Some((n, v)) if v > value => (here, value) = (n, v),
                _ => continue 'restart,
            }
        }
    }
    Ok(())
}
