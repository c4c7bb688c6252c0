//! nar's own budgeted search: NAR's ranker inside the loop.
//!
//! 1. Query `init` random architectures.
//! 2. Each round: train the ranker on everything queried so far for at least `steps` optimiser steps
//!    (tiers cut from the queried validation accuracies; the weights carried over from the last round
//!    and fine-tuned), then generate candidates
//!    — every unqueried neighbour of the `parents` best queried architectures, `sampled` proposals of
//!    NAR's KL-guided sampler drawn from the statistics of the current top tier, and `random` uniform
//!    ones — score them with the ranker's accuracy head and query the `per_round` best.
//! 3. The pick is the queried architecture with the best validation accuracy.
//!
//! The ranker sees only what the oracle returned; the candidates' accuracies are never read before they
//! are queried.

use std::collections::HashSet;

use anyhow::Result;

use super::baselines::{ask, fresh_random};
use super::domain::Domain;
use super::oracle::Oracle;
use crate::ranker::config::Config;
use crate::ranker::predict::{INFER_BATCH, predict_scores};
use crate::ranker::samples::Samples;
use crate::ranker::trainer::Trainer;
use crate::rng::Rng;
use crate::sampler::{Propose, draw_key, select_target};
use crate::space::SearchSpace;

/// The guided search's schedule and its ranker.
#[derive(Clone, Debug)]
pub struct GuidedSettings {
    /// Random architectures queried before the ranker is first trained.
    pub init: usize,
    /// Architectures queried per round.
    pub per_round: usize,
    /// How many of the best queried architectures lend their neighbours as candidates.
    pub parents: usize,
    /// How many of the best queried architectures lend their neighbours' neighbours (two mutations away).
    pub far_parents: usize,
    /// Queries without a better validation accuracy after which the current parents count as explored
    /// and the next-best queried architectures lend their neighbours instead (0: never).
    pub patience: usize,
    /// Candidates from NAR's sampler per round.
    pub sampled: usize,
    /// Uniformly random candidates per round.
    pub random: usize,
    /// Optimiser steps of training per round, at least (whole epochs over everything queried; the
    /// weights are kept from round to round).
    pub steps: usize,
    /// The ranker (a small configuration: the labelled set is tens to hundreds of architectures).
    pub ranker: Config,
}

impl GuidedSettings {
    /// The defaults for a space: a small ranker derived from its reference configuration.
    pub fn for_space(space: crate::space::SpaceKind) -> GuidedSettings {
        let mut cfg = Config::reference(space);
        let r = &mut cfg.ranker;
        r.d_model = 32;
        r.d_patch_vec = 32;
        r.n_layers = 1;
        r.n_head = 2;
        r.d_k = 16;
        r.d_v = 16;
        r.d_ffn_inner = 64;
        r.d_tier_prj_inner = 32;
        r.d_val_acc_prj_inner = 64;
        cfg.train_batch_size = 16;
        cfg.val_batch_size = Some(256);
        // A handful of architectures at first: the learning rate must rise within the first rounds.
        cfg.lr_scheduler.n_warmup_steps = 10;
        GuidedSettings {
            init: 10,
            per_round: 5,
            parents: 5,
            far_parents: 1,
            patience: 30,
            sampled: 32,
            random: 16,
            steps: 20,
            ranker: cfg,
        }
    }

    /// Applies `key=value` overrides, comma-separated (`per_round=10,steps=80`): the schedule's fields,
    /// `warmup`, `batch`, `d_model`, `layers` and `loss_factor` for the ranker. For ablations.
    pub fn apply(&mut self, spec: &str) -> anyhow::Result<()> {
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = item.split_once('=').ok_or_else(|| anyhow::anyhow!("{item:?}: expected key=value"))?;
            if key.trim() == "loss_factor" {
                self.ranker.loss_factor =
                    value.trim().parse().map_err(|_| anyhow::anyhow!("{item:?}: {value:?} is not a number"))?;
                continue;
            }
            let n: usize = value.trim().parse().map_err(|_| anyhow::anyhow!("{item:?}: {value:?} is not a count"))?;
            let r = &mut self.ranker.ranker;
            match key.trim() {
                "init" => self.init = n,
                "per_round" => self.per_round = n,
                "parents" => self.parents = n,
                "far_parents" => self.far_parents = n,
                "patience" => self.patience = n,
                "sampled" => self.sampled = n,
                "random" => self.random = n,
                "steps" => self.steps = n,
                "warmup" => self.ranker.lr_scheduler.n_warmup_steps = n,
                "batch" => self.ranker.train_batch_size = n,
                "d_model" => (r.d_model, r.d_patch_vec) = (n, n),
                "layers" => r.n_layers = n,
                other => anyhow::bail!(
                    "unknown setting {other:?} (init, per_round, parents, far_parents, patience, sampled, random, steps, warmup, batch, d_model, layers, loss_factor)"
                ),
            }
        }
        anyhow::ensure!(self.per_round >= 1 && self.steps >= 1, "per_round and steps must be at least 1");
        self.ranker.check()
    }
}

/// Runs the guided search until the oracle's budget is spent.
pub fn guided<S: SearchSpace + Propose>(
    domain: &Domain<S>,
    network: S::Network,
    oracle: &mut Oracle<'_>,
    set: &GuidedSettings,
    seed: u64,
) -> Result<()> {
    let mut rng = Rng::new(seed ^ 0x6a1d_ed5e_a2c4_0001);
    while oracle.spent() < set.init.max(set.ranker.ranker.n_tier) {
        let Some(p) = fresh_random(domain, oracle, &mut rng) else { return Ok(()) };
        if ask(oracle, p)?.is_none() {
            return Ok(());
        }
    }
    let mut cfg = set.ranker.clone();
    cfg.seed = seed;
    let mut trainer = Trainer::new(&cfg);
    let empty = Samples::unlabelled(&domain.ds, Vec::new(), network);
    let mut explored: HashSet<usize> = HashSet::new();
    let (mut best_seen, mut since_better) = (oracle.best().map_or(f64::NEG_INFINITY, |b| b.1), 0);
    while oracle.left() > 0 {
        // Train on everything queried so far.
        let positions: Vec<usize> = oracle.history().iter().map(|h| h.0).collect();
        let mut train = Samples::unlabelled(&domain.ds, positions, network);
        train.val = oracle.history().iter().map(|h| h.1).collect();
        let batch = cfg.train_batch_size.min(train.len()).max(cfg.ranker.n_tier);
        trainer.cfg.train_batch_size = batch;
        for _ in 0..set.steps.div_ceil(train.len() / batch) {
            trainer.epoch(&train, &empty, &|_, _, _| {});
        }
        // Candidates.
        let mut seen = HashSet::new();
        let mut cands: Vec<usize> = Vec::new();
        let mut add = |p: usize, cands: &mut Vec<usize>| {
            if !oracle.is_queried(p) && seen.insert(p) {
                cands.push(p);
            }
        };
        let mut ranked: Vec<(usize, f64)> =
            oracle.history().iter().copied().filter(|h| !explored.contains(&h.0)).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        if set.patience > 0 && since_better >= set.patience {
            explored.extend(ranked.iter().take(set.parents.max(set.far_parents)).map(|h| h.0));
            ranked.retain(|h| !explored.contains(&h.0));
            since_better = 0;
        }
        for &(p, _) in ranked.iter().take(set.parents) {
            for n in domain.neighbours(p) {
                add(n, &mut cands);
            }
        }
        for &(p, _) in ranked.iter().take(set.far_parents) {
            for n in domain.neighbours(p) {
                for m in domain.neighbours(n) {
                    add(m, &mut cands);
                }
            }
        }
        for p in sampler_candidates(domain, network, &trainer, set, &mut rng) {
            add(p, &mut cands);
        }
        for _ in 0..set.random {
            add(domain.random(&mut rng), &mut cands);
        }
        if cands.is_empty() {
            match fresh_random(domain, oracle, &mut rng) {
                Some(p) => cands.push(p),
                None => return Ok(()),
            }
        }
        // Score and query the best.
        let s = Samples::unlabelled(&domain.ds, cands.clone(), network);
        let score = predict_scores(&trainer.model, &s, INFER_BATCH, &|_| {});
        let mut order: Vec<usize> = (0..cands.len()).collect();
        order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(cands[a].cmp(&cands[b])));
        for &i in order.iter().take(set.per_round) {
            let Some(v) = ask(oracle, cands[i])? else { return Ok(()) };
            if v > best_seen {
                (best_seen, since_better) = (v, 0);
            } else {
                since_better += 1;
            }
        }
    }
    Ok(())
}

/// NAR's sampler: FLOPs / params bounds and shape drawn from the top tier's statistics of the last
/// training epoch (uniform where the top tier does not stand out), proposals kept when in the pool.
fn sampler_candidates<S: SearchSpace + Propose>(
    domain: &Domain<S>,
    network: S::Network,
    trainer: &Trainer,
    set: &GuidedSettings,
    rng: &mut Rng,
) -> Vec<usize> {
    let (Some(stats), Some(smp)) = (trainer.state.distri.last(), set.ranker.sampler.as_ref()) else {
        return Vec::new();
    };
    let flops_h: Vec<_> = stats.tiers.iter().map(|t| t.flops.clone()).collect();
    let params_h: Vec<_> = stats.tiers.iter().map(|t| t.params.clone()).collect();
    let shape_h: Vec<_> = stats.tiers.iter().map(|t| t.shape.clone()).collect();
    let pick = |h: &[crate::sampler::stats::Hist], thr: f64| {
        select_target(h, smp.top_tier, smp.last_tier, thr, smp.batch_factor)
    };
    let flops_t = pick(&flops_h, smp.flops_kl_thred);
    let params_t = pick(&params_h, smp.params_kl_thred);
    let shape_t = pick(&shape_h, smp.edges_kl_thred.or(smp.n_nodes_kl_thred).unwrap_or(f64::INFINITY));
    let mut out = Vec::new();
    for _ in 0..set.sampled {
        let fb = draw_key(rng, &flops_h, flops_t.as_deref());
        let pb = draw_key(rng, &params_h, params_t.as_deref());
        for _ in 0..smp.max_trails {
            let Some(arch) = S::propose(rng, &shape_h[0].keys, shape_t.as_deref()) else { continue };
            let Some(pos) = domain.ds.position(&S::id(&arch)) else { continue };
            if !domain.contains(pos) {
                continue;
            }
            let c = S::cost(&arch, network);
            if (c.total_flops as i64) <= fb && (c.total_params as i64) <= pb {
                out.push(pos);
                break;
            }
        }
    }
    out
}
