//! `nar search --space …`: budgeted search methods on a benchmark (or the user's own oracle), seeds in
//! parallel, each run through its own oracle; the incumbent curves, the table at fixed query counts, and
//! optionally the curve CSV, the JSON summary and an HTML page.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;

use crate::data::Dataset;
use crate::features::Featurize;
use crate::io::write_atomic;
use crate::progress::Progress;
use crate::sampler::Propose;
use crate::search::budgeted::{self, Curve, Method, Setup, StudySummary};
use crate::search::command::{CommandEvaluator, CommandOptions};
use crate::search::domain::{Constraint, Domain, Equivalence};
use crate::search::front::{self, TrueFront};
use crate::search::guided::{GuidedPredictor, GuidedSettings};
use crate::search::inputs::FeatureCache;
use crate::search::oracle::{Scorecard, TableEvaluator};
use crate::space::{SearchSpace, Task};
use crate::spaces::DataSource;
use crate::usage::UsageError;
use crate::with_dataset;

/// Where the methods' accuracies come from.
#[derive(Clone, Debug)]
pub enum OracleSource {
    /// The dataset's validation accuracy (test accuracy scores the picks).
    Table,
    /// The user's command per architecture, answers journaled (no test accuracy).
    Command { command: String, journal: PathBuf, options: CommandOptions },
}

/// A study.
#[derive(Clone, Debug)]
pub struct StudyOptions {
    pub data: DataSource,
    /// A budget past the pool's distinct queries is lowered to them (`nar run`'s comparison) instead
    /// of refused.
    pub cap_budget: bool,
    /// The space the user asked for, if any: a dataset of another space is refused.
    pub space: Option<crate::space::SpaceKind>,
    /// The task whose accuracies the search reads.
    pub task: Task,
    pub methods: Vec<Method>,
    pub budget: usize,
    /// Seeds `first_seed ..= first_seed + seeds − 1`.
    pub seeds: u64,
    pub first_seed: u64,
    /// Architectures each method proposes at a time (`None`: each method's own).
    pub batch: Option<usize>,
    /// Only architectures within these bounds are queried.
    pub constraint: Constraint,
    /// Whether equivalent architectures are one query.
    pub equivalence: Equivalence,
    pub oracle: OracleSource,
    /// Overrides of the guided search's settings (`GuidedSettings::apply`), for ablations.
    pub guided: Option<String>,
    /// The guided search's predictor, where not the default (`nar run`'s comparison: the run's own).
    pub predictor: Option<GuidedPredictor>,
    /// Several objectives (`val` and costs: `flops`, `params`, a cost column): each run's front is
    /// measured against the pool's true front (empty: validation accuracy alone).
    pub objectives: Vec<String>,
    /// Optional outputs: the curve CSV, the JSON summary, the HTML page.
    pub curve: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

/// Runs the study.
pub fn study(opts: &StudyOptions, progress: &dyn Progress) -> Result<StudySummary> {
    if opts.budget == 0 || opts.seeds == 0 || opts.methods.is_empty() {
        bail!("a study needs a budget ≥ 1, seeds ≥ 1 and at least one method");
    }
    if let Some(b) = opts.batch
        && (b == 0 || b > opts.budget)
    {
        return Err(UsageError(format!(
            "the batch must hold 1 to {} architectures (the budget), found {b}",
            opts.budget
        ))
        .into());
    }
    // No output may be an input (the dataset's files, the journal) or another output, through links too.
    let mut inputs: Vec<&std::path::Path> = opts.data.files();
    if let OracleSource::Command { journal, .. } = &opts.oracle {
        inputs.push(journal);
    }
    let outputs: Vec<&std::path::Path> =
        [&opts.curve, &opts.json, &opts.html].into_iter().flatten().map(|p| p.as_path()).collect();
    crate::io::refuse_clobbering(&outputs, &inputs)?;
    // The last seed, first_seed + seeds − 1, must exist (u64::MAX alone is a valid one).
    if opts.first_seed.checked_add(opts.seeds - 1).is_none() {
        let msg = format!("seeds {} + {} run past the largest seed, {}", opts.first_seed, opts.seeds, u64::MAX);
        return Err(UsageError(msg).into());
    }
    let ds = opts.data.load(&mut |line| progress.log(&line))?;
    if let Some(space) = opts.space
        && ds.space() != space
    {
        return Err(
            UsageError(format!("{} holds {} architectures, not {space} (--space)", opts.data, ds.space())).into()
        );
    }
    let summary = with_dataset!(&ds, d => study_space(d, opts, progress))?;
    if let Some(p) = &opts.curve {
        // With several objectives, each point also carries the run's front measures.
        let front = summary.front.is_some();
        write_atomic(p, |w| {
            writeln!(w, "method,seed,queries,best_val,best_test{}", if front { ",hypervolume,found,igd" } else { "" })?;
            for c in &summary.curves {
                for q in 0..c.best_val.len() {
                    // No test accuracy (a user's oracle): the field is empty, not NaN.
                    let test = Some(c.best_test[q]).filter(|t| t.is_finite()).map_or(String::new(), |t| t.to_string());
                    write!(w, "{},{},{},{},{test}", c.method, c.seed, c.queries[q], c.best_val[q])?;
                    if let Some(m) = c.front.get(q) {
                        write!(w, ",{},{},{}", m.hypervolume, m.found, m.igd)?;
                    }
                    writeln!(w)?;
                }
            }
            Ok(())
        })?;
    }
    if let Some(p) = &opts.json {
        let json = serde_json::to_string_pretty(&summary)?;
        write_atomic(p, |w| Ok(w.write_all(json.as_bytes())?))?;
    }
    if let Some(p) = &opts.html {
        let page = crate::report::search_study::page(&summary);
        write_atomic(p, |w| Ok(w.write_all(page.as_bytes())?))?;
    }
    Ok(summary)
}

fn study_space<S: SearchSpace + Propose + Featurize>(
    ds: &Dataset<S>,
    opts: &StudyOptions,
    progress: &dyn Progress,
) -> Result<StudySummary> {
    let network = S::network(opts.task).map_err(|e| anyhow!(e))?;
    let mut guided = GuidedSettings::for_space(S::KIND);
    if let Some(spec) = &opts.guided {
        let keys = guided.apply(spec).map_err(|e| UsageError(format!("--guided {spec:?}: {e:#}")))?;
        // `--batch` sets the round size: a `per_round` beside it would be silently overridden.
        if let (Some(b), true) = (opts.batch, keys.iter().any(|k| k == "per_round")) {
            return Err(UsageError(format!(
                "--guided {spec:?} sets per_round, and --batch {b} sets the round size too: give one of them"
            ))
            .into());
        }
    }
    if let Some(p) = &opts.predictor {
        guided.predictor = p.clone();
    }
    let seeds = (0..opts.seeds).map(|k| opts.first_seed + k);
    let runs: Vec<(Method, u64)> = opts.methods.iter().flat_map(|&m| seeds.clone().map(move |s| (m, s))).collect();
    // The table's metrics, or the user's command.
    let table = match &opts.oracle {
        OracleSource::Table => {
            let candidates = crate::spaces::validation_metrics(S::KIND, opts.task);
            let val_metric = ds.first_metric(&candidates).ok_or_else(|| {
                anyhow!("{} has no validation accuracy (looked for {})", opts.data, candidates.join(", "))
            })?;
            let val = ds.metric(&val_metric).expect("found above").to_vec();
            let test_metric = ds.first_metric(&crate::spaces::test_metrics(S::KIND, opts.task));
            let report = match &test_metric {
                Some(m) => ds.metric(m).expect("found above").to_vec(),
                None => val.clone(),
            };
            Some((val_metric, val, test_metric, report))
        }
        OracleSource::Command { .. } => None,
    };
    let pool: Vec<usize> = match &table {
        Some((val_metric, val, _, report)) => {
            let p: Vec<usize> = (0..ds.len()).filter(|&i| val[i].is_finite() && report[i].is_finite()).collect();
            if p.is_empty() {
                bail!("{} has no architecture with {val_metric}", opts.data);
            }
            p
        }
        None => (0..ds.len()).collect(),
    };
    let domain =
        Domain::pool(ds, pool).constrained(&opts.constraint, network, Some(ds))?.with_equivalence(opts.equivalence);
    if opts.methods.contains(&Method::Nar) && domain.size() > guided.score_all && !guided.has_candidate_source() {
        return Err(UsageError(format!(
            "--guided {:?}: no candidate source is left (parents, far_parents, sampled, random and local are 0) \
             and the pool of {} architectures is larger than score_all {}: the guided search would have nothing to score",
            opts.guided.as_deref().unwrap_or(""),
            domain.size(),
            guided.score_all
        ))
        .into());
    }
    let budget = if opts.cap_budget { opts.budget.min(domain.distinct()) } else { opts.budget };
    if budget > domain.distinct() {
        let msg = format!(
            "the budget of {} queries is more than the pool holds: {} distinct queries among its {} architectures",
            budget,
            domain.distinct(),
            domain.size()
        );
        return Err(UsageError(msg).into());
    }
    // Hits count any architecture equivalent to the target, whether or not the runs share queries.
    let canonical = if opts.equivalence == Equivalence::Canonical {
        None
    } else {
        Some(Domain::all(ds).with_equivalence(Equivalence::Canonical))
    };
    let canon = canonical.as_ref().map_or(domain.classes(), |d| d.classes());
    let features = FeatureCache::new(ds.archs(), network);
    if let Some(m) = opts.methods.iter().find(|m| m.is_multi_objective())
        && opts.objectives.is_empty()
    {
        return Err(UsageError(format!("{m} weighs accuracy against costs: give --objectives (e.g. val,flops)")).into());
    }
    // Several objectives: every position's objectives (the table's validation accuracy first, for the
    // measures only) and its costs (what the multi-objective methods may read).
    let objectives = match opts.objectives.is_empty() {
        false => {
            let val = table.as_ref().map(|t| t.1.as_slice());
            Some(front_objectives(ds, &opts.objectives, val, network, domain.positions())?)
        }
        true => None,
    };
    let costs: Option<Vec<Vec<f64>>> = objectives.as_ref().map(|o| o.values.iter().map(|v| v[1..].to_vec()).collect());
    let setup = Setup {
        domain: &domain,
        features: &features,
        network,
        budget,
        batch: opts.batch,
        guided: &guided,
        costs: costs.as_deref(),
    };
    progress.start(runs.len() as u64, "searching");
    let mut front_summary = None;
    let (curves, val_metric, card, target) = match (&opts.oracle, table) {
        (OracleSource::Table, Some((val_metric, val, test_metric, report))) => {
            let true_front = match &objectives {
                // Over the distinct queries: a class is answered by its stand-in's accuracy.
                Some(o) => Some(TrueFront::of(o, domain.representatives()).ok_or_else(|| {
                    anyhow!("no architecture of the pool has every objective ({})", opts.objectives.join(", "))
                })?),
                None => None,
            };
            // The best a query can find: a class is answered by its stand-in's accuracy.
            let target = domain
                .representatives()
                .iter()
                .copied()
                .fold(None, |b: Option<usize>, p| match b {
                    Some(q) if val[q] >= val[p] => Some(q),
                    _ => Some(p),
                })
                .expect("a non-empty pool");
            let card =
                Scorecard::over(report, domain.positions().to_vec(), test_metric.as_deref().unwrap_or(&val_metric));
            let done: Vec<(Curve, Option<front::RunFront>)> = runs
                .par_iter()
                .map(|&(m, seed)| {
                    let start = Instant::now();
                    let mut eval = TableEvaluator::new(val.clone());
                    let h = budgeted::run_method(m, &setup, &mut eval, seed)?;
                    progress.inc(1);
                    let mut curve = Curve::new(m, seed, &h, Some(&card), start.elapsed().as_secs_f64())
                        .with_hit(&h, |p| canon[p] == canon[target]);
                    // The run's front after each answered query (the table's budgets are read off it).
                    let mut run_front = None;
                    if let (Some(f), Some(o), Some(c)) = (&true_front, &objectives, costs.as_deref()) {
                        curve.front = front::run_measures(f, o, &h, canon, &curve.queries);
                        run_front = Some(run_front_members(ds, m, seed, &h, c, Some(&card)));
                    }
                    Ok((curve, run_front))
                })
                .collect::<Result<_>>()?;
            let (curves, fronts): (Vec<Curve>, Vec<Option<front::RunFront>>) = done.into_iter().unzip();
            if let (Some(f), Some(o)) = (&true_front, &objectives) {
                let members = f
                    .members
                    .iter()
                    .zip(f.points())
                    .map(|(&p, v)| front::FrontMember {
                        id: ds.ids()[p].to_string(),
                        values: std::iter::once(-v[0]).chain(v[1..].iter().copied()).collect(),
                        test: Some(card.accuracy(p)),
                    })
                    .collect();
                // Before a run's first answer its front is empty.
                let empty = f.measure(o, &[], canon);
                let fronts = fronts.into_iter().flatten().collect();
                front_summary = Some(summarise_fronts(o, members, &curves, fronts, &opts.methods, budget, empty));
            }
            (curves, val_metric, Some(card), Some((ds.ids()[target].to_string(), val[target])))
        }
        (OracleSource::Command { command, journal, options }, _) => {
            // One run at a time: the user's command trains, and the journal takes answers in order.
            let mut eval = CommandEvaluator::new(ds, command, journal, opts.task.name(), options)?;
            if let Some(line) = eval.dropped_line() {
                progress.log(&format!(
                    "warning: {}: line {line} was torn (a crash mid-write?) and is dropped; its architecture is trained again",
                    journal.display()
                ));
            }
            let reference = costs.as_deref().map(|c| front::raw_reference(c, domain.positions()));
            let mut curves = Vec::new();
            let mut fronts = Vec::new();
            for &(m, seed) in &runs {
                let start = Instant::now();
                let h =
                    budgeted::run_method(m, &setup, &mut eval, seed).with_context(|| format!("{m}, seed {seed}"))?;
                progress.inc(1);
                let mut curve = Curve::new(m, seed, &h, None, start.elapsed().as_secs_f64());
                // No true front: the hypervolume of the run's own answers, in raw units.
                if let (Some(c), Some(r)) = (costs.as_deref(), &reference) {
                    curve.front = front::raw_measures(&h, c, r);
                    fronts.push(run_front_members(ds, m, seed, &h, c, None));
                }
                curves.push(curve);
            }
            if let Some(o) = &objectives {
                let empty = front::Measures { hypervolume: 0.0, found: f64::NAN, igd: f64::NAN };
                front_summary = Some(summarise_fronts(o, Vec::new(), &curves, fronts, &opts.methods, budget, empty));
            }
            (curves, "the oracle command's answer".to_string(), None, None)
        }
        (OracleSource::Table, None) => unreachable!("the table's metrics are read above"),
    };
    progress.finish();
    if curves.iter().all(|c| c.best_val.is_empty())
        && let Some((_, why)) = curves.iter().find_map(|c| c.failed.first())
    {
        bail!("every query failed; the first one: {why}");
    }
    let optimum = card.as_ref().map(Scorecard::optimum);
    let picks = curves
        .iter()
        .filter_map(|c| {
            let &p = c.incumbent.last()?;
            Some((
                c.method,
                c.seed,
                ds.ids()[p].to_string(),
                *c.best_val.last()?,
                card.as_ref().map_or(f64::NAN, |k| k.accuracy(p)),
                card.as_ref().map_or(0, |k| k.rank(p)),
            ))
        })
        .collect();
    Ok(StudySummary {
        space: S::KIND,
        task: opts.task,
        val_metric,
        report_metric: card.as_ref().map(|c| c.metric.clone()),
        optimum,
        target,
        pool: domain.size(),
        distinct: domain.distinct(),
        whole_space: domain.is_whole_space(),
        constraint: opts.constraint.clone(),
        equivalence: opts.equivalence,
        budget,
        batch: opts.batch,
        seeds: opts.seeds,
        first_seed: opts.first_seed,
        table: budgeted::table(&curves, budget),
        bands: budgeted::bands(&curves, budget, card.is_some()),
        picks,
        front: front_summary,
        failures: curves
            .iter()
            .flat_map(|c| c.failed.iter().map(|(p, why)| (c.method, c.seed, ds.ids()[*p].to_string(), why.clone())))
            .collect(),
        curves,
    })
}

/// The front of one run's answered queries: each member's id, validation accuracy and costs, and its
/// test accuracy where there is a scorecard.
fn run_front_members<S: SearchSpace>(
    ds: &Dataset<S>,
    method: Method,
    seed: u64,
    run: &budgeted::RunHistory,
    costs: &[Vec<f64>],
    card: Option<&Scorecard>,
) -> front::RunFront {
    let members = front::run_front(run, costs)
        .into_iter()
        .map(|(p, v)| front::FrontMember {
            id: ds.ids()[p].to_string(),
            values: std::iter::once(v).chain(costs[p].iter().copied()).collect(),
            test: card.map(|c| c.accuracy(p)),
        })
        .collect();
    front::RunFront { method, seed, members }
}

/// The front part of a study's summary: the true front's members (none where unknown), the table of
/// measures at the budget points (`empty`: a run's measures before its first answer), the
/// hypervolume bands and each run's final front.
fn summarise_fronts(
    o: &front::Objectives,
    true_front: Vec<front::FrontMember>,
    curves: &[Curve],
    fronts: Vec<front::RunFront>,
    methods: &[Method],
    budget: usize,
    empty: front::Measures,
) -> front::FrontSummary {
    let points = budgeted::table_points(budget);
    let measured: Vec<(Method, Vec<front::Measures>)> =
        curves.iter().map(|c| (c.method, points.iter().map(|&q| c.front_at(q).unwrap_or(empty)).collect())).collect();
    front::FrontSummary {
        objectives: o.names.clone(),
        raw: true_front.is_empty(),
        true_front,
        table: front::table(&measured, methods, &points),
        bands: budgeted::bands_of(curves, budget, |c, q| c.front_at(q).map_or(empty.hypervolume, |m| m.hypervolume)),
        fronts,
    }
}

/// The objectives of a multi-objective study, per dataset position, minimised: `val` (the validation
/// accuracy, negated) first, then each cost ([`front::objective_costs`]); `val` NaN where the study has
/// no table (the user's oracle: the runs' own answers are measured then).
fn front_objectives<S: SearchSpace + Featurize>(
    ds: &Dataset<S>,
    names: &[String],
    val: Option<&[f64]>,
    network: S::Network,
    pool: &[usize],
) -> Result<front::Objectives> {
    let costs = front::objective_costs(ds, names, network, pool).map_err(|e| UsageError(format!("--{e}")))?;
    let values = costs
        .into_iter()
        .enumerate()
        .map(|(p, c)| std::iter::once(val.map_or(f64::NAN, |v| -v[p])).chain(c).collect())
        .collect();
    Ok(front::Objectives { names: names.to_vec(), values })
}
