//! `nar search --space …`: budgeted search methods on a benchmark (or the user's own oracle), seeds in
//! parallel, each run through its own oracle; the incumbent curves, the table at fixed query counts, and
//! optionally the curve CSV, the JSON summary and an HTML page.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;
use serde::Serialize;

use crate::data::{self, DataSource, Dataset};
use crate::io::write_atomic;
use crate::progress::Progress;
use crate::report::svg;
use crate::sampler::Propose;
use crate::search::command::CommandEvaluator;
use crate::search::domain::Domain;
use crate::search::guided::GuidedSettings;
use crate::search::oracle::{Scorecard, TableEvaluator};
use crate::search::study::{self, Curve, Method, Row};
use crate::space::{ImageDataset, SearchSpace, SpaceKind};
use crate::with_dataset;

/// Where the methods' accuracies come from.
#[derive(Clone, Debug)]
pub enum OracleSource {
    /// The dataset's validation accuracy (test accuracy scores the picks).
    Table,
    /// The user's command per architecture, answers journaled (no test accuracy).
    Command { command: String, journal: PathBuf },
}

/// A study.
#[derive(Clone, Debug)]
pub struct StudyOptions {
    pub data: DataSource,
    pub network: ImageDataset,
    pub methods: Vec<Method>,
    pub budget: usize,
    pub seeds: u64,
    pub oracle: OracleSource,
    /// Overrides of the guided search's settings (`GuidedSettings::apply`), for ablations.
    pub guided: Option<String>,
    /// Optional outputs: the curve CSV, the JSON summary, the HTML page.
    pub curve: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

/// What a study found.
#[derive(Clone, Debug, Serialize)]
pub struct StudySummary {
    pub space: SpaceKind,
    pub network: ImageDataset,
    pub val_metric: String,
    /// The accuracy picks are scored by (none with the user's oracle).
    pub report_metric: Option<String>,
    pub optimum: Option<f64>,
    /// Architectures the methods could query, and whether that is the whole space.
    pub pool: usize,
    pub whole_space: bool,
    pub budget: usize,
    pub seeds: u64,
    pub table: Vec<Row>,
    /// Each run's pick: `(method, seed, id, validation accuracy, test accuracy, rank)`.
    pub picks: Vec<(Method, u64, String, f64, f64, usize)>,
    #[serde(skip)]
    pub curves: Vec<Curve>,
}

impl StudySummary {
    /// The pool, in words: `15625 architectures (the whole space)`.
    pub fn pool_description(&self) -> String {
        let which = if self.whole_space { "the whole space" } else { "the labelled pool only" };
        format!("{} architectures ({which})", self.pool)
    }

    /// Decimal places for accuracies: fractions (NB101's) need more than percentages.
    pub fn digits(&self) -> usize {
        if self.optimum.is_some_and(|o| o <= 1.0) { 4 } else { 2 }
    }
}

/// Runs the study.
pub fn study(opts: &StudyOptions, progress: &dyn Progress) -> Result<StudySummary> {
    if opts.budget == 0 || opts.seeds == 0 || opts.methods.is_empty() {
        bail!("a study needs a budget ≥ 1, seeds ≥ 1 and at least one method");
    }
    let ds = opts.data.load(&mut |line| progress.log(&line))?;
    let summary = with_dataset!(&ds, d => study_space(d, opts, progress))?;
    if let Some(p) = &opts.curve {
        write_atomic(p, |w| {
            writeln!(w, "method,seed,queries,best_val,best_test")?;
            for c in &summary.curves {
                for q in 0..c.best_val.len() {
                    writeln!(w, "{},{},{},{},{}", c.method, c.seed, q + 1, c.best_val[q], c.best_test[q])?;
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
        let page = html(&summary);
        write_atomic(p, |w| Ok(w.write_all(page.as_bytes())?))?;
    }
    Ok(summary)
}

fn study_space<S: SearchSpace + Propose>(
    ds: &Dataset<S>,
    opts: &StudyOptions,
    progress: &dyn Progress,
) -> Result<StudySummary> {
    let network = S::network(opts.network).map_err(|e| anyhow!(e))?;
    let mut guided = GuidedSettings::for_space(S::KIND);
    if let Some(spec) = &opts.guided {
        guided.apply(spec)?;
    }
    let runs: Vec<(Method, u64)> = opts.methods.iter().flat_map(|&m| (0..opts.seeds).map(move |s| (m, s))).collect();
    progress.start(runs.len() as u64, "searching");
    let (curves, val_metric, card, domain_size, whole) = match &opts.oracle {
        OracleSource::Table => {
            let candidates = data::validation_metrics(S::KIND, opts.network);
            let val_metric = ds.first_metric(&candidates).ok_or_else(|| {
                anyhow!("{} has no validation accuracy (looked for {})", opts.data, candidates.join(", "))
            })?;
            let val = ds.metric(&val_metric).expect("found above").to_vec();
            let test_metric = ds.first_metric(&data::test_metrics(S::KIND, opts.network));
            let report = match &test_metric {
                Some(m) => ds.metric(m).expect("found above").to_vec(),
                None => val.clone(),
            };
            let pool: Vec<usize> = (0..ds.len()).filter(|&i| val[i].is_finite() && report[i].is_finite()).collect();
            if pool.is_empty() {
                bail!("{} has no architecture with {val_metric}", opts.data);
            }
            let domain = Domain::pool(ds, pool);
            let card = Scorecard::new(report, test_metric.as_deref().unwrap_or(&val_metric));
            let curves: Vec<Curve> = runs
                .par_iter()
                .map(|&(m, seed)| {
                    let start = Instant::now();
                    let mut eval = TableEvaluator::new(val.clone());
                    let h = study::run_method(m, &domain, network, &mut eval, opts.budget, seed, &guided)?;
                    progress.inc(1);
                    Ok(Curve::new(m, seed, &h, Some(&card), start.elapsed().as_secs_f64()))
                })
                .collect::<Result<_>>()?;
            (curves, val_metric, Some(card), domain.size(), domain.is_whole_space())
        }
        OracleSource::Command { command, journal } => {
            let domain = Domain::all(ds);
            // One run at a time: the user's command trains, and the journal takes answers in order.
            let mut eval = CommandEvaluator::new(ds, command, journal)?;
            let mut curves = Vec::new();
            for &(m, seed) in &runs {
                let start = Instant::now();
                let h = study::run_method(m, &domain, network, &mut eval, opts.budget, seed, &guided)
                    .with_context(|| format!("{m}, seed {seed}"))?;
                progress.inc(1);
                curves.push(Curve::new(m, seed, &h, None, start.elapsed().as_secs_f64()));
            }
            (curves, "the oracle command's answer".to_string(), None, domain.size(), true)
        }
    };
    progress.finish();
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
        network: opts.network,
        val_metric,
        report_metric: card.as_ref().map(|c| c.metric.clone()),
        optimum,
        pool: domain_size,
        whole_space: whole,
        budget: opts.budget,
        seeds: opts.seeds,
        table: study::table(&curves, opts.budget, optimum.unwrap_or(f64::INFINITY)),
        picks,
        curves,
    })
}

/// The study as a self-contained HTML page: the incumbent's test accuracy against queries (mean ± std
/// band per method, the optimum as a line) and the table.
pub fn html(s: &StudySummary) -> String {
    let bands: Vec<svg::Band> = study::bands(&s.curves, s.budget)
        .into_iter()
        .map(|(m, points)| svg::Band { name: m.name().to_string(), points })
        .collect();
    let hlines: Vec<(String, f64)> = s.optimum.map(|o| (format!("optimum {o:.2}"), o)).into_iter().collect();
    let metric = s.report_metric.clone().unwrap_or_else(|| s.val_metric.clone());
    let figure = svg::band_chart(
        &format!("Search on {} {}: incumbent's {metric}", s.space, s.network),
        "architectures queried (from 10)",
        "accuracy (%)",
        &bands,
        &hlines,
    );
    let mut table = String::from("<table><tr><th>method</th>");
    if let Some(r) = s.table.first() {
        for (q, ..) in &r.cells {
            table.push_str(&format!("<th>{q}</th>"));
        }
    }
    table.push_str("<th>s / seed</th></tr>");
    let digits = s.digits();
    for r in &s.table {
        table.push_str(&format!("<tr><td>{}</td>", r.method));
        for (_, m, sd, _) in &r.cells {
            table.push_str(&format!("<td>{m:.digits$} ± {sd:.digits$}</td>"));
        }
        table.push_str(&format!("<td>{:.1}</td></tr>", r.seconds_per_seed));
    }
    table.push_str("</table>");
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>nar search study</title><style>
body{{font-family:sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#222}}
table{{border-collapse:collapse;font-size:13px}}td,th{{padding:2px 10px;text-align:right}}td:first-child,th:first-child{{text-align:left}}
</style></head><body><h1>nar search study — {} {}</h1><p>{} seeds, budget {} queries; pool: {}. Each method reads validation accuracy ({}) only through its oracle; the incumbent (best validation accuracy so far) is scored by {metric}. Table: mean ± std over seeds.</p><figure>{figure}</figure>{table}</body></html>
"#,
        s.space,
        s.network,
        s.seeds,
        s.budget,
        s.pool_description(),
        svg::esc(&s.val_metric),
    )
}
