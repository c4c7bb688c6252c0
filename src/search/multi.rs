//! Multi-objective search methods (`--objectives`), reading validation accuracy only through the
//! [`Oracle`] and the costs as the study gives them (the cost model's, or a cost column: known before
//! any training, as they are for a real search). Each architecture's point is its answer, negated, then
//! its costs — all minimised ([`super::pareto`]).
//!
//! - **mo-rea**: regularized evolution with NSGA-II's selection (Deb et al., 2002): a population of
//!   [`MO_POPULATION`] random architectures; each generation, binary tournaments on (front rank,
//!   crowding distance) pick `batch` parents, each parent's child (a random neighbour in the pool not
//!   queried; where there is none, a random architecture) is queried, and the population keeps the
//!   [`MO_POPULATION`] best by NSGA-II's survival (whole fronts, the last one cut by crowding distance,
//!   the older member leaving on a tie).
//! - **mo-ls**: Pareto local search (Paquete et al., 2004): from a random architecture, repeatedly
//!   query every neighbour of a member of the queried front that has not been expanded yet (one at
//!   random); when every member of the front has been expanded, restart from a new random architecture.
//!
//! Both propose whole batches and wait for them (their queries depend only on the answers); a failed
//! query spends its budget and is left out.

use std::collections::HashSet;

use anyhow::Result;

use super::baselines::{fresh_random, fresh_random_except, random_batch};
use super::domain::Domain;
use super::oracle::Oracle;
use super::pareto::{crowding_distance, fronts, non_dominated};
use crate::rng::Rng;
use crate::space::SearchSpace;

/// mo-rea's population size.
pub const MO_POPULATION: usize = 20;

/// An answered architecture's point: the answer negated, then its costs.
fn point(costs: &[Vec<f64>], position: usize, answer: f64) -> Vec<f64> {
    std::iter::once(-answer).chain(costs[position].iter().copied()).collect()
}

/// Each member's front rank (0 = non-dominated) and crowding distance within its front.
fn rank_and_crowding(points: &[Vec<f64>]) -> (Vec<usize>, Vec<f64>) {
    let mut rank = vec![0; points.len()];
    let mut crowd = vec![0.0; points.len()];
    for (r, front) in fronts(points).iter().enumerate() {
        for (&i, d) in front.iter().zip(crowding_distance(points, front)) {
            rank[i] = r;
            crowd[i] = d;
        }
    }
    (rank, crowd)
}

/// Multi-objective regularized evolution, `batch` children per generation.
pub fn mo_rea<S: SearchSpace>(
    domain: &Domain<S>,
    oracle: &mut Oracle<'_>,
    rng: &mut Rng,
    costs: &[Vec<f64>],
    batch: usize,
) -> Result<()> {
    let batch = batch.max(1);
    // (position, point), oldest first.
    let mut population: Vec<(usize, Vec<f64>)> = Vec::new();
    while population.len() < MO_POPULATION && oracle.left() > 0 {
        let proposals = random_batch(domain, oracle, rng, batch.min(MO_POPULATION - population.len()));
        if proposals.is_empty() {
            break;
        }
        let (answers, complete) = oracle.ask_all(&proposals)?;
        population.extend(answers.into_iter().map(|(p, v)| (p, point(costs, p, v))));
        if !complete {
            return Ok(());
        }
    }
    while oracle.left() > 0 && !population.is_empty() {
        let points: Vec<Vec<f64>> = population.iter().map(|(_, x)| x.clone()).collect();
        let (rank, crowd) = rank_and_crowding(&points);
        let better = |a: usize, b: usize| {
            if rank[a] != rank[b] { rank[a] < rank[b] } else { crowd[a] > crowd[b] }
        };
        let mut children: Vec<usize> = Vec::new();
        let mut taken: HashSet<u32> = HashSet::new();
        for _ in 0..batch.min(oracle.left()) {
            let (a, b) = (rng.below(population.len()), rng.below(population.len()));
            let parent = population[if better(b, a) { b } else { a }].0;
            let fresh: Vec<usize> = domain
                .neighbours(parent)
                .iter()
                .copied()
                .filter(|&n| !oracle.is_queried(n) && !taken.contains(&domain.class(n)))
                .collect();
            let child = if fresh.is_empty() {
                // No new neighbour: a random architecture, not already a child of this generation.
                fresh_random_except(domain, oracle, rng, &taken)
            } else {
                Some(fresh[rng.below(fresh.len())])
            };
            if let Some(c) = child {
                taken.insert(domain.class(c));
                children.push(c);
            }
        }
        if children.is_empty() {
            break;
        }
        let (answers, complete) = oracle.ask_all(&children)?;
        population.extend(answers.into_iter().map(|(p, v)| (p, point(costs, p, v))));
        // NSGA-II's survival: drop the most crowded member of the worst front until the population fits
        // (the older one on a tie).
        while population.len() > MO_POPULATION {
            let points: Vec<Vec<f64>> = population.iter().map(|(_, x)| x.clone()).collect();
            let (rank, crowd) = rank_and_crowding(&points);
            let worst = (0..population.len())
                .max_by(|&a, &b| rank[a].cmp(&rank[b]).then(crowd[b].total_cmp(&crowd[a])).then(b.cmp(&a)))
                .expect("a non-empty population");
            population.remove(worst);
        }
        if !complete {
            break;
        }
    }
    Ok(())
}

/// Pareto local search with restarts.
pub fn mo_local_search<S: SearchSpace>(
    domain: &Domain<S>,
    oracle: &mut Oracle<'_>,
    rng: &mut Rng,
    costs: &[Vec<f64>],
) -> Result<()> {
    // Every answered architecture, and the classes whose neighbourhoods were queried.
    let mut archive: Vec<(usize, Vec<f64>)> = Vec::new();
    let mut expanded: HashSet<u32> = HashSet::new();
    while oracle.left() > 0 {
        let Some(start) = fresh_random(domain, oracle, rng) else { return Ok(()) };
        let (answers, complete) = oracle.ask_all(&[start])?;
        archive.extend(answers.into_iter().map(|(p, v)| (p, point(costs, p, v))));
        if !complete {
            return Ok(());
        }
        loop {
            let points: Vec<Vec<f64>> = archive.iter().map(|(_, x)| x.clone()).collect();
            let open: Vec<usize> = non_dominated(&points)
                .into_iter()
                .map(|i| archive[i].0)
                .filter(|&p| !expanded.contains(&domain.class(p)))
                .collect();
            if open.is_empty() {
                break;
            }
            let here = open[rng.below(open.len())];
            expanded.insert(domain.class(here));
            let (answers, complete) = oracle.ask_all(&domain.neighbours(here))?;
            archive.extend(answers.into_iter().map(|(p, v)| (p, point(costs, p, v))));
            if !complete || oracle.left() == 0 {
                return Ok(());
            }
        }
    }
    Ok(())
}
