//! NAR's reference search (`docs/design.md` §6), once for both spaces: sample architectures under FLOPs/params bounds drawn
//! from what the top tier looked like in training, let the ranker pick, repeat. Reported two ways:
//! - **reference protocol**: per iteration, the best *true test* accuracy among the top-k of the
//!   predicted top tier (ordered by predicted accuracy), and the best over all iterations — what the
//!   reference prints; it reads test accuracies no real search could know;
//! - **honest protocol**: the one architecture the ranker itself would choose (highest predicted accuracy
//!   among all architectures it put in the top tier), chosen without any accuracy outside the training
//!   and validation sets; its test accuracy, rank and percentile.
//!
//! Both stand next to random search with the same query budget (the training + validation
//! architectures whose accuracy the method saw): the best validation accuracy among that many random
//! architectures, and its test accuracy.

use serde::{Deserialize, Serialize};

use super::oracle::Scorecard;

use crate::benchmark::Benchmark;
use crate::config::Config;
use crate::data::Dataset;
use crate::predictor::ModelKind;
use crate::ranker::infer::Workspace;
use crate::ranker::model::Ranker;
use crate::ranker::predict::argmax;
use crate::ranker::samples::Samples;
use crate::ranker::tiers::Buckets;
use crate::rng::Rng;
use crate::sampler::{Propose, draw_key, select_target};
use crate::space::SearchSpace;
use crate::stats::BatchStats;

/// Why a run of `model` has no reference search (the search samples from the predicted top tier).
pub fn needs_tiers(model: ModelKind) -> String {
    format!(
        "NAR's reference search samples from the predicted top tier, and this run's model (`model: {}`) predicts scores only; the budgeted comparison searches with it instead",
        model.name()
    )
}

/// The benchmark's table as NAR's reference search sees it: labelled architectures, their accuracy for reporting, costs.
pub struct ReferenceTable<'a, S: SearchSpace> {
    pub ds: &'a Dataset<S>,
    pub network: S::Network,
    /// Validation accuracy (what the method may query) per dataset position; NaN where unlabelled.
    pub val: Vec<f64>,
    /// The reporting accuracy (test where the dataset has it, else validation) and the rank by it
    /// (1 = best) among the labelled architectures.
    pub card: Scorecard,
    pub labelled: Vec<usize>,
    pub val_metric: String,
}

impl<'a, S: SearchSpace> ReferenceTable<'a, S> {
    pub fn new(
        ds: &'a Dataset<S>,
        network: S::Network,
        val_metric: &str,
        test_metric: Option<&str>,
    ) -> ReferenceTable<'a, S> {
        let val = ds.metric(val_metric).map(<[f64]>::to_vec).unwrap_or_else(|| vec![f64::NAN; ds.len()]);
        let (report, report_metric) = match test_metric.and_then(|m| ds.metric(m).map(|c| (c.to_vec(), m))) {
            Some((c, m)) => (c, m.to_string()),
            None => (val.clone(), val_metric.to_string()),
        };
        let labelled: Vec<usize> = (0..ds.len()).filter(|&i| !val[i].is_nan() && !report[i].is_nan()).collect();
        let card = Scorecard::over(report, labelled.clone(), &report_metric);
        ReferenceTable { ds, network, val, card, labelled, val_metric: val_metric.into() }
    }
}

/// The search's settings (from the configuration's `sampler:` block and `bins`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub iterations: usize,
    pub sample_size: usize,
    pub batch: usize,
    pub noisy_factor: f64,
    pub reuse_step: usize,
    pub max_trails: usize,
    pub top_tier: usize,
    pub last_tier: usize,
    pub batch_factor: f64,
    pub flops_threshold: f64,
    pub params_threshold: f64,
    pub shape_threshold: f64,
    pub ks: Vec<usize>,
}

impl Settings {
    pub fn from_config(cfg: &Config, iterations: usize) -> anyhow::Result<Settings> {
        let s = cfg.sampler.as_ref().ok_or_else(|| anyhow::anyhow!("the configuration has no `sampler:` block"))?;
        Ok(Settings {
            iterations,
            sample_size: s.sample_size,
            batch: s.search_size.unwrap_or(s.sample_size),
            noisy_factor: s.noisy_factor,
            reuse_step: s.reuse_step.max(1),
            max_trails: s.max_trails,
            top_tier: s.top_tier,
            last_tier: s.last_tier,
            batch_factor: s.batch_factor,
            flops_threshold: s.flops_kl_thred,
            params_threshold: s.params_kl_thred,
            shape_threshold: s.edges_kl_thred.or(s.n_nodes_kl_thred).unwrap_or(f64::INFINITY),
            ks: vec![1, 3, 5, 10],
        })
    }
}

/// A reported architecture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub id: String,
    pub position: usize,
    pub accuracy: f64,
    pub rank: usize,
    /// Rank as a percentage of the labelled benchmark (smaller is better).
    pub top_percent: f64,
    pub predicted: f64,
}

/// One iteration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Iteration {
    pub sampled: usize,
    pub guided: usize,
    pub top_tier: usize,
    /// `(k, best among the top-k of the predicted top tier)`; absent when the tier holds fewer than k.
    pub top_k: Vec<(usize, Found)>,
    /// Architectures queried so far for their accuracy by the method (training + validation).
    pub queried: usize,
    /// Architectures proposed so far (accuracy not read).
    pub proposed: usize,
}

/// One seed's search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    pub seed: u64,
    pub iterations: Vec<Iteration>,
    /// Reference protocol: best over all iterations, per k.
    pub reference: Vec<(usize, Found)>,
    /// Honest protocol: the ranker's own choice.
    pub honest: Option<Found>,
    /// Random search with the same query budget.
    pub random: Found,
    pub budget: usize,
}

fn found<S: SearchSpace>(b: &ReferenceTable<'_, S>, pos: usize, predicted: f64) -> Found {
    Found {
        id: b.ds.ids()[pos].to_string(),
        position: pos,
        accuracy: b.card.accuracy(pos),
        rank: b.card.rank(pos),
        top_percent: 100.0 * b.card.rank(pos) as f64 / b.labelled.len() as f64,
        predicted,
    }
}

/// Random search: the best validation accuracy among `budget` distinct random labelled architectures.
pub fn random_search<S: SearchSpace>(b: &ReferenceTable<'_, S>, budget: usize, seed: u64) -> Found {
    let mut rng = Rng::new(seed ^ 0x005e_ed0f_5a4d_0001);
    let mut pool = b.labelled.clone();
    let n = budget.min(pool.len());
    // Partial Fisher–Yates: the first n are a uniform sample without replacement.
    for i in 0..n {
        let j = i + rng.below(pool.len() - i);
        pool.swap(i, j);
    }
    let best =
        pool[..n].iter().copied().max_by(|&x, &y| b.val[x].total_cmp(&b.val[y]).then(y.cmp(&x))).expect("budget ≥ 1");
    found(b, best, b.val[best])
}

/// Runs the search with one seed.
#[allow(clippy::too_many_arguments)]
pub fn search<S: Benchmark + Propose>(
    model: &Ranker<f32>,
    b: &ReferenceTable<'_, S>,
    distri: &[BatchStats],
    set: &Settings,
    budget: usize,
    seed: u64,
    progress: &dyn Fn(usize),
) -> anyhow::Result<SeedResult> {
    anyhow::ensure!(!distri.is_empty(), "the checkpoint has no distribution statistics");
    let nt = model.cfg.n_tier;
    let len = model.cfg.n_arch_patch * model.cfg.d_model;
    let mut rng = Rng::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xa11c_e5ea_7c11);
    let mut distri = distri.to_vec();
    rng.shuffle(&mut distri);
    let reuse = set.iterations.div_ceil(distri.len()).max(1);
    let mut buckets = Buckets::new(nt, len);
    let mut ws = Workspace::default();
    let mut iterations = Vec::new();
    let mut best_pick: Option<(f64, usize)> = None;
    let mut proposed = 0;
    let guided_target = (set.sample_size as f64 * (1.0 - set.noisy_factor)) as usize;
    for it in 0..set.iterations {
        let stats = &distri[(it / reuse).min(distri.len() - 1)];
        let flops_h: Vec<_> = stats.tiers.iter().map(|t| t.flops.clone()).collect();
        let params_h: Vec<_> = stats.tiers.iter().map(|t| t.params.clone()).collect();
        let shape_h: Vec<_> = stats.tiers.iter().map(|t| t.shape.clone()).collect();
        let flops_t = select_target(&flops_h, set.top_tier, set.last_tier, set.flops_threshold, set.batch_factor);
        let params_t = select_target(&params_h, set.top_tier, set.last_tier, set.params_threshold, set.batch_factor);
        let shape_t = select_target(&shape_h, set.top_tier, set.last_tier, set.shape_threshold, set.batch_factor);
        let mut picks = Vec::with_capacity(set.sample_size);
        let (mut fb, mut pb) = (0i64, 0i64);
        let mut draws = 0;
        while draws < guided_target {
            if draws % set.reuse_step == 0 {
                fb = draw_key(&mut rng, &flops_h, flops_t.as_deref());
                pb = draw_key(&mut rng, &params_h, params_t.as_deref());
            }
            draws += 1;
            let mut last = None;
            for _ in 0..=set.max_trails {
                let Some(arch) = S::propose(&mut rng, &shape_h[0].keys, shape_t.as_deref()) else { continue };
                let Some(pos) = b.ds.position(&S::id(&arch)) else { continue };
                if b.val[pos].is_nan() || b.card.accuracy(pos).is_nan() {
                    continue;
                }
                last = Some(pos);
                let c = S::cost(&arch, b.network);
                if (c.total_flops as i64) <= fb && (c.total_params as i64) <= pb {
                    break;
                }
            }
            picks.extend(last);
        }
        let guided = picks.len();
        while picks.len() < set.sample_size {
            picks.push(b.labelled[rng.below(b.labelled.len())]);
        }
        rng.shuffle(&mut picks);
        proposed += picks.len();
        let samples = Samples::new(b.ds, picks.clone(), b.network, &b.val_metric, None)?;
        let mut top: Vec<(f64, usize)> = Vec::new();
        let idx: Vec<usize> = (0..picks.len()).collect();
        for chunk in idx.chunks(set.batch) {
            let x: Vec<f32> = chunk
                .iter()
                .flat_map(|&i| samples.features[i * samples.feat_len..][..samples.feat_len].iter().copied())
                .collect();
            let (logits, score) = model.infer(&x, chunk.len(), &buckets.embeddings(), &mut ws);
            let pred: Vec<usize> = logits.chunks(nt).map(argmax).collect();
            buckets.add(ws.encoding(chunk.len()), &pred);
            for (j, &i) in chunk.iter().enumerate() {
                if pred[j] == 0 {
                    top.push((f64::from(score[j]), picks[i]));
                }
            }
        }
        top.sort_by(|a, c| c.0.total_cmp(&a.0).then(a.1.cmp(&c.1)));
        for &(s, p) in &top {
            if best_pick.is_none_or(|(bs, bp)| s > bs || (s == bs && p < bp)) {
                best_pick = Some((s, p));
            }
        }
        let top_k = set
            .ks
            .iter()
            .filter(|&&k| top.len() >= k)
            .map(|&k| {
                let (s, p) = *top[..k]
                    .iter()
                    .max_by(|x, y| b.card.accuracy(x.1).total_cmp(&b.card.accuracy(y.1)).then(y.1.cmp(&x.1)))
                    .expect("k ≥ 1");
                (k, found(b, p, s))
            })
            .collect();
        iterations.push(Iteration {
            sampled: picks.len(),
            guided,
            top_tier: top.len(),
            top_k,
            queried: budget,
            proposed,
        });
        progress(it + 1);
    }
    let reference = set
        .ks
        .iter()
        .filter_map(|&k| {
            iterations
                .iter()
                .filter_map(|it| it.top_k.iter().find(|(kk, _)| *kk == k).map(|(_, f)| f.clone()))
                .max_by(|x, y| x.accuracy.total_cmp(&y.accuracy).then(y.rank.cmp(&x.rank)))
                .map(|f| (k, f))
        })
        .collect();
    Ok(SeedResult {
        seed,
        iterations,
        reference,
        honest: best_pick.map(|(s, p)| found(b, p, s)),
        random: random_search(b, budget, seed),
        budget,
    })
}

/// A run's reference search results (`search.json`).
impl crate::run_dir::RunDir {
    /// The search results, if `nar reference-search` has run.
    pub fn read_search(&self) -> anyhow::Result<Option<Vec<SeedResult>>> {
        let p = self.search_path();
        if p.exists() { crate::run_dir::read_json(&p, "search result").map(Some) } else { Ok(None) }
    }
    pub fn write_search(&self, results: &[SeedResult]) -> anyhow::Result<()> {
        crate::run_dir::write_json(&self.search_path(), &results)
    }
}
