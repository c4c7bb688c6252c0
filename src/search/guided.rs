//! nar's own budgeted search: a predictor refitted on everything queried, each round.
//!
//! 1. Query `init` random architectures (one batch: nothing is known yet; rounded up to whole rounds
//!    where the round size is fixed, [`GuidedSettings::start_size`]).
//! 2. Each round: fit the predictor (by name: `best` unless told otherwise, [`crate::config::named`])
//!    on every queried architecture and its validation accuracy; the candidates are every unqueried
//!    query of the pool where the pool has at most `score_all` architectures (all 15,625 NB201 cells:
//!    each of the 4,660 functions once, by its canonical form),
//!    otherwise the unqueried neighbours of the `parents` best queried architectures, their neighbours'
//!    neighbours for the `far_parents` best, `sampled` proposals of NAR's KL-guided sampler (drawn
//!    from the statistics of the queried architectures' top tier) and `random` uniform ones. The
//!    acquisition scores them — the predictor's score standardised over the candidates, plus `kappa`
//!    times its spread where the predictor has one (an ensemble's members, a forest's trees: UCB) —,
//!    `local` slots of the round go to the best-scored unqueried neighbours of the incumbent, and the
//!    rest to the best-scored candidates; one architecture per query (equivalent ones are one).
//! 3. The pick is the queried architecture with the best validation accuracy.
//!
//! The predictor sees only what the oracle returned; the candidates' accuracies are never read before
//! they are queried.

use std::collections::HashSet;

use anyhow::{Context, Result, bail};

use super::baselines::{fresh_random, random_batch};
use super::domain::Domain;
pub use super::guided_front::Batching;
use super::inputs::FeatureCache;
use super::oracle::Oracle;
use crate::benchmark::Benchmark;
use crate::config::Config;
use crate::features::Featurize;
use crate::predictor::{self, FitContext, Labelled, Predictor};
use crate::progress::Quiet;
use crate::ranker::config::SamplerConfig;
use crate::ranker::tiers::tier_labels;
use crate::rng::{Rng, mix};
use crate::sampler::{Propose, draw_key, select_target};
use crate::space::SpaceKind;
use crate::stats::{BatchStats, batch_stats};

/// How the guided search turns the predictor's scores into a choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquisition {
    /// The predicted score alone (exploitation).
    Mean,
    /// Score + `kappa` × spread (an upper confidence bound); the score alone for a predictor with no
    /// spread.
    Ucb,
}

/// The predictor the guided search refits every round.
#[derive(Clone, Debug, PartialEq)]
pub enum GuidedPredictor {
    /// A predictor known by name ([`crate::config::named_list`]), configured for the search's space.
    Named(String),
    /// A given configuration: `nar run`'s comparison searches with the run's own predictor.
    Config(Box<Config>),
}

impl GuidedPredictor {
    /// The predictor `nar run`'s comparison refits every round: the run's own, except a transformer,
    /// whose training every round would make the comparison take hours — `trees`, the default, then.
    pub fn for_run(cfg: &Config) -> GuidedPredictor {
        if cfg.model.holds_out_validation() {
            GuidedPredictor::Named("trees".to_string())
        } else {
            GuidedPredictor::Config(Box::new(cfg.clone()))
        }
    }

    /// How a report names it.
    pub fn describe(&self) -> String {
        match self {
            GuidedPredictor::Named(name) => format!("the `{name}` predictor"),
            GuidedPredictor::Config(cfg) => format!("the run's own predictor (`model: {}`)", cfg.model.name()),
        }
    }
}

/// The guided search's schedule and its predictor.
#[derive(Clone, Debug)]
pub struct GuidedSettings {
    pub predictor: GuidedPredictor,
    /// Random architectures queried before the predictor is first fitted.
    pub init: usize,
    /// Architectures queried per round (`--batch` sets it); 0: a twentieth of those queried so far,
    /// 2 to 10 (small rounds while every answer changes the fit much, larger ones later).
    pub per_round: usize,
    pub acquisition: Acquisition,
    /// UCB's weight on the spread (standardised units).
    pub kappa: f64,
    /// Score every unqueried architecture of a pool of at most this many; larger pools draw candidates.
    pub score_all: usize,
    /// Candidates: how many of the best queried lend their neighbours.
    pub parents: usize,
    /// Candidates: how many of the best queried lend their neighbours' neighbours.
    pub far_parents: usize,
    /// Candidates: proposals of NAR's sampler per round.
    pub sampled: usize,
    /// Candidates: uniformly random ones per round.
    pub random: usize,
    /// Slots per round for the incumbent's best-scored unqueried neighbours (local-search moves).
    pub local: usize,
    /// How the front search (`mo-nar`) chooses a round's batch.
    pub front_batching: Batching,
    /// The front search's start: spread over the first cost's levels (true) or uniformly random.
    pub front_spread_start: bool,
    /// The front search's slots per round for neighbours of the queried front's members.
    pub front_local: usize,
    /// The front search's random start (`init` is the accuracy search's).
    pub front_init: usize,
}

impl GuidedSettings {
    /// The defaults, chosen on NB201 seeds 100–119 (docs/design.md §6; never the reported seeds): the
    /// `trees` predictor (`best` before its ranking networks), UCB on its members' spread, rounds of a twentieth of the queries so far, one
    /// slot per round for the incumbent's best neighbour.
    pub fn for_space(_space: SpaceKind) -> GuidedSettings {
        GuidedSettings {
            predictor: GuidedPredictor::Named("trees".to_string()),
            init: 10,
            per_round: 0,
            acquisition: Acquisition::Ucb,
            kappa: 0.5,
            score_all: 50_000,
            parents: 5,
            far_parents: 1,
            sampled: 64,
            random: 64,
            local: 1,
            front_batching: Batching::Greedy,
            front_spread_start: false,
            front_local: 0,
            front_init: 20,
        }
    }

    /// Applies `key=value` overrides, comma-separated (`per_round=10,acquisition=ucb`), for ablations:
    /// `predictor`, `acquisition` (mean, ucb), `kappa` and the counts of the schedule. Returns the keys
    /// it set.
    pub fn apply(&mut self, spec: &str) -> Result<Vec<String>> {
        let mut seen: Vec<&str> = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = item.split_once('=').with_context(|| format!("{item:?}: expected key=value"))?;
            let (key, value) = (key.trim(), value.trim());
            // A key given twice would silently keep the last value.
            if seen.contains(&key) {
                bail!("{key} is given twice");
            }
            seen.push(key);
            match key {
                "predictor" => {
                    if !crate::config::named_list().iter().any(|n| n == value) {
                        bail!("{item:?}: unknown predictor (one of {})", crate::config::named_list().join(", "));
                    }
                    self.predictor = GuidedPredictor::Named(value.to_string());
                    continue;
                }
                "acquisition" => {
                    self.acquisition = choice(item, value, &[("mean", Acquisition::Mean), ("ucb", Acquisition::Ucb)])?;
                    continue;
                }
                "batching" => {
                    let options = [("greedy", Batching::Greedy), ("independent", Batching::Independent)];
                    self.front_batching = choice(item, value, &options)?;
                    continue;
                }
                "start" => {
                    self.front_spread_start = choice(item, value, &[("spread", true), ("random", false)])?;
                    continue;
                }
                "kappa" => {
                    self.kappa = value
                        .parse()
                        .ok()
                        .filter(|k: &f64| k.is_finite() && *k >= 0.0)
                        .with_context(|| format!("{item:?}: kappa is a finite number ≥ 0"))?;
                    continue;
                }
                _ => {}
            }
            let n: usize = value.parse().with_context(|| format!("{item:?}: {value:?} is not a count"))?;
            match key {
                "init" => self.init = n,
                "per_round" => self.per_round = n,
                "score_all" => self.score_all = n,
                "parents" => self.parents = n,
                "far_parents" => self.far_parents = n,
                "sampled" => self.sampled = n,
                "random" => self.random = n,
                "local" => self.local = n,
                "front_local" => self.front_local = n,
                "front_init" => self.front_init = n,
                other => bail!(
                    "unknown setting {other:?} (predictor, acquisition, kappa, batching, start, init, per_round, score_all, parents, far_parents, sampled, random, local, front_local, front_init)"
                ),
            }
        }
        if self.init < 2 || self.front_init < 2 {
            bail!("init and front_init must be at least 2 (a predictor fits on 2 or more)");
        }
        Ok(seen.into_iter().map(String::from).collect())
    }

    /// Whether any candidate source is left for a pool larger than `score_all` (parents, far parents,
    /// the sampler, random draws, the incumbent's neighbours).
    pub fn has_candidate_source(&self) -> bool {
        self.parents + self.far_parents + self.sampled + self.random + self.local > 0
    }

    /// The random start: `init`, rounded up to whole rounds where the round size is fixed (`--batch K`
    /// with K > 1: 10 becomes 12 for K = 4, 16 for K = 8).
    pub fn start_size(&self) -> usize {
        self.whole_rounds(self.init)
    }

    /// The front search's random start, `front_init` rounded up likewise.
    pub fn front_start_size(&self) -> usize {
        self.whole_rounds(self.front_init)
    }

    fn whole_rounds(&self, n: usize) -> usize {
        if self.per_round > 1 { n.div_ceil(self.per_round) * self.per_round } else { n }
    }

    /// How many architectures a round queries after `spent` queries.
    pub fn round_size(&self, spent: usize) -> usize {
        if self.per_round == 0 { (spent / 20).clamp(2, 10) } else { self.per_round }
    }

    /// The predictor's configuration for a space.
    pub fn predictor_config(&self, space: SpaceKind) -> Result<Config> {
        match &self.predictor {
            GuidedPredictor::Named(name) => {
                crate::config::named(name, space).with_context(|| format!("unknown predictor {name:?}"))
            }
            GuidedPredictor::Config(cfg) if cfg.space != space => {
                bail!("the guided search's predictor is configured for {}, not {space}", cfg.space)
            }
            GuidedPredictor::Config(cfg) => Ok((**cfg).clone()),
        }
    }
}

/// Runs the guided search until the oracle's budget is spent.
pub fn guided<S: Benchmark + Propose + Featurize>(
    domain: &Domain<S>,
    features: &FeatureCache<'_, S>,
    network: S::Network,
    oracle: &mut Oracle<'_>,
    set: &GuidedSettings,
    seed: u64,
) -> Result<()> {
    let mut rng = Rng::new(mix(seed, 0x6a1d_ed5e));
    // 1. A random start, as one batch: whole rounds of a fixed round size, so that no worker of a
    // parallel oracle waits through a partial one.
    let start = random_batch(domain, oracle, &mut rng, set.start_size());
    // 2. Candidates around the best queried; 3. the round's queries: local moves first, then the
    // best of the rest by the acquisition; one per query class.
    let mut choose = |r: &Round<'_>, oracle: &Oracle<'_>| -> Result<Vec<usize>> {
        let value = acquisition(r.model, &features.rows(r.cands), set)?;
        let cands = r.cands;
        let k = set.round_size(oracle.spent()).min(oracle.left());
        let mut order: Vec<usize> = (0..cands.len()).collect();
        order.sort_by(|&a, &b| value[b].total_cmp(&value[a]).then(cands[a].cmp(&cands[b])));
        let mut chosen: Vec<usize> = Vec::with_capacity(k);
        let mut classes = HashSet::new();
        // Takes candidates in `order` that `keep` accepts, one per query, until `limit` are chosen.
        let mut take = |keep: &dyn Fn(usize) -> bool, limit: usize, chosen: &mut Vec<usize>| {
            for &i in order.iter().filter(|&&i| keep(cands[i])) {
                if chosen.len() >= limit {
                    break;
                }
                if classes.insert(domain.class(cands[i])) {
                    chosen.push(cands[i]);
                }
            }
        };
        if set.local > 0
            && let Some((incumbent, _)) = oracle.best()
        {
            // Neighbours by query: a neighbour's canonical form stands for it among the candidates.
            let near: HashSet<u32> = domain.neighbours(incumbent).into_iter().map(|p| domain.class(p)).collect();
            take(&|c| near.contains(&domain.class(c)), set.local.min(k), &mut chosen);
        }
        take(&|_| true, k, &mut chosen);
        Ok(chosen)
    };
    rounds(domain, features, network, oracle, set, seed, &mut rng, start, &by_accuracy, &mut choose)
}

/// One round of a guided search, as its method's choice sees it: the predictor fitted on every answer
/// so far, the queried architectures and their validation accuracies, and the round's candidates.
pub(super) struct Round<'r> {
    pub model: &'r dyn Predictor,
    pub queried: &'r [usize],
    pub y: &'r [f64],
    pub cands: &'r [usize],
}

/// Where a round's candidates gather: the architectures whose neighbours are taken, from the queried
/// ones and their accuracies, in order.
pub(super) type Parents<'p> = &'p dyn Fn(&[usize], &[f64]) -> Vec<usize>;

/// The loop of nar's guided searches (`guided` and `guided_front::guided_front`): the `start`, as one batch,
/// then rounds until the budget is spent — the predictor refitted on everything answered, candidates
/// gathered around `parents(queried, y)` ([`candidates`]), and the round's queries as `choose` picks
/// them (a random architecture where there is no candidate, or too little to fit on).
#[allow(clippy::too_many_arguments)]
pub(super) fn rounds<S: Benchmark + Propose + Featurize>(
    domain: &Domain<S>,
    features: &FeatureCache<'_, S>,
    network: S::Network,
    oracle: &mut Oracle<'_>,
    set: &GuidedSettings,
    seed: u64,
    rng: &mut Rng,
    start: Vec<usize>,
    parents: Parents<'_>,
    choose: &mut dyn FnMut(&Round<'_>, &Oracle<'_>) -> Result<Vec<usize>>,
) -> Result<()> {
    let cfg = set.predictor_config(S::KIND)?;
    let spec = cfg.predictor()?;
    let sampler = Config::reference(S::KIND).sampler;
    if !oracle.ask_all(&start)?.1 {
        return Ok(());
    }
    let mut round = 0u64;
    while oracle.left() > 0 {
        round += 1;
        let history = oracle.history();
        let queried: Vec<usize> = history.iter().map(|h| h.0).collect();
        let y: Vec<f64> = history.iter().map(|h| h.1).collect();
        if queried.len() < 2 {
            // Too little to fit on (a pool of one): random until there is.
            let Some(p) = fresh_random(domain, oracle, rng) else { return Ok(()) };
            oracle.ask_all(&[p])?;
            continue;
        }
        let model = fit_queried(features, &cfg, &spec, &queried, &y, mix(seed, round))?;
        let around = parents(&queried, &y);
        let cands = candidates(domain, network, oracle, set, sampler.as_ref(), &queried, &y, &around, rng);
        if cands.is_empty() {
            match fresh_random(domain, oracle, rng) {
                Some(p) => oracle.ask_all(&[p])?,
                None => return Ok(()),
            };
            continue;
        }
        let chosen = choose(&Round { model: model.as_ref(), queried: &queried, y: &y, cands: &cands }, oracle)?;
        if !oracle.ask_all(&chosen)?.1 {
            return Ok(());
        }
    }
    Ok(())
}

/// The value `options` names `value`, or an error listing them.
fn choice<T: Copy>(item: &str, value: &str, options: &[(&str, T)]) -> Result<T> {
    match options.iter().find(|(name, _)| *name == value) {
        Some(&(_, v)) => Ok(v),
        None => {
            let names: Vec<&str> = options.iter().map(|o| o.0).collect();
            bail!("{item:?}: one of {}", names.join(", "))
        }
    }
}

/// The predictor of `cfg` fitted on the queried architectures and their validation accuracies.
fn fit_queried<S: Featurize>(
    features: &FeatureCache<'_, S>,
    cfg: &Config,
    spec: &predictor::PredictorSpec,
    queried: &[usize],
    y: &[f64],
    seed: u64,
) -> Result<Box<dyn Predictor>> {
    let mut model = predictor::build(spec)?;
    let x = features.rows(queried);
    // The transformer chooses its checkpoint on a held-out fifth; the trees fit on everything.
    let n_train = if cfg.model.holds_out_validation() {
        queried.len() - (queried.len() / 5).max(cfg.ranker.n_tier).min(queried.len() - 1)
    } else {
        queried.len()
    };
    let ctx = FitContext { seed, progress: &Quiet, run: None, resume: false };
    model.fit(&Labelled { x: &x, y, n_train }, &ctx)?;
    Ok(model)
}

/// The queried architectures, best validation accuracy first (ties: the earlier position).
pub(super) fn by_accuracy(queried: &[usize], y: &[f64]) -> Vec<usize> {
    let mut ranked: Vec<(usize, f64)> = queried.iter().copied().zip(y.iter().copied()).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.into_iter().map(|(p, _)| p).collect()
}

/// The acquisition value of each candidate: the score standardised over the candidates, plus
/// `kappa` × the spread in the same units (UCB, where the predictor has a spread).
fn acquisition(model: &dyn Predictor, x: &dyn predictor::Inputs, set: &GuidedSettings) -> Result<Vec<f64>> {
    let (score, spread) = match set.acquisition {
        Acquisition::Mean => (model.scores(x, &Quiet)?, None),
        Acquisition::Ucb => model.scores_and_spread(x, &Quiet)?,
    };
    let (mean, std) = crate::stats::mean_std(&score);
    let std = if std.is_finite() && std > 0.0 { std } else { 1.0 };
    Ok(match spread {
        Some(sp) => score.iter().zip(&sp).map(|(s, d)| (s - mean) / std + set.kappa * d / std).collect(),
        None => score.iter().map(|s| (s - mean) / std).collect(),
    })
}

/// The round's candidates: every unqueried architecture of a small pool, or mutations (of the first
/// `parents`, in their order), sampler proposals and random draws in a large one. Unqueried, each once.
#[allow(clippy::too_many_arguments)]
fn candidates<S: Benchmark + Propose>(
    domain: &Domain<S>,
    network: S::Network,
    oracle: &Oracle<'_>,
    set: &GuidedSettings,
    sampler: Option<&SamplerConfig>,
    queried: &[usize],
    y: &[f64],
    parents: &[usize],
    rng: &mut Rng,
) -> Vec<usize> {
    if domain.size() <= set.score_all {
        return domain.representatives().iter().copied().filter(|&p| !oracle.is_queried(p)).collect();
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut add = |p: usize, out: &mut Vec<usize>| {
        if !oracle.is_queried(p) && seen.insert(p) {
            out.push(p);
        }
    };
    for &p in parents.iter().take(set.parents) {
        domain.neighbours(p).into_iter().for_each(|n| add(n, &mut out));
    }
    for &p in parents.iter().take(set.far_parents) {
        for n in domain.neighbours(p) {
            domain.neighbours(n).into_iter().for_each(|m| add(m, &mut out));
        }
    }
    if let Some(smp) = sampler
        && set.sampled > 0
    {
        let stats = queried_stats::<S>(domain, network, queried, y);
        for p in sampler_candidates(domain, network, &stats, smp, set.sampled, rng) {
            add(p, &mut out);
        }
    }
    for _ in 0..set.random {
        add(domain.random(rng), &mut out);
    }
    out
}

/// The sampler's statistics of the queried architectures, tiers cut from their validation accuracies
/// (NAR's five tiers, ten bins).
fn queried_stats<S: Benchmark>(domain: &Domain<S>, network: S::Network, queried: &[usize], y: &[f64]) -> BatchStats {
    let n_tier = 5.min(queried.len()).max(1);
    let archs = domain.ds.archs();
    let costs: Vec<_> = queried.iter().map(|&p| S::cost(&archs[p], network)).collect();
    let params: Vec<f64> = costs.iter().map(|c| c.total_params as f64).collect();
    let flops: Vec<f64> = costs.iter().map(|c| c.total_flops as f64).collect();
    let shapes: Vec<_> = queried.iter().map(|&p| S::shape(&archs[p])).collect();
    batch_stats(&params, &flops, &shapes, &tier_labels(y, n_tier), n_tier, 10)
}

/// NAR's sampler: FLOPs / params bounds and shape drawn from the top tier's statistics (uniform where
/// the top tier does not stand out), proposals kept when in the pool.
fn sampler_candidates<S: Benchmark + Propose>(
    domain: &Domain<S>,
    network: S::Network,
    stats: &BatchStats,
    smp: &SamplerConfig,
    count: usize,
    rng: &mut Rng,
) -> Vec<usize> {
    let flops_h: Vec<_> = stats.tiers.iter().map(|t| t.flops.clone()).collect();
    let params_h: Vec<_> = stats.tiers.iter().map(|t| t.params.clone()).collect();
    let shape_h: Vec<_> = stats.tiers.iter().map(|t| t.shape.clone()).collect();
    let pick =
        |h: &[crate::stats::Hist], thr: f64| select_target(h, smp.top_tier, smp.last_tier, thr, smp.batch_factor);
    let flops_t = pick(&flops_h, smp.flops_kl_thred);
    let params_t = pick(&params_h, smp.params_kl_thred);
    let shape_t = pick(&shape_h, smp.edges_kl_thred.or(smp.n_nodes_kl_thred).unwrap_or(f64::INFINITY));
    let mut out = Vec::new();
    for _ in 0..count {
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
