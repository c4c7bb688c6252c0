//! `nar report`: one self-contained HTML file (inline SVG and CSS, nothing fetched) from a run directory,
//! and the same figures as standalone SVG files.
//!
//! Sections: training curves; predicted vs true accuracy on held-out architectures; the tier confusion
//! matrix; per-tier FLOPs/params distributions with their divergences; search against random search with
//! the benchmark optimum; the top architectures found, drawn. A section whose data the run lacks (no
//! evaluation yet, no search yet) is replaced by a note saying so.

pub mod page;
pub mod predictor_study;
pub mod search_study;
pub mod svg;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::config::Config;
use crate::io::write_atomic;
use crate::ranker::trainer::EpochLog;
use crate::run_dir::{RunDir, RunMeta};
use crate::spaces::AnyDataset;
use crate::spaces::nb201;
use crate::stats::kl_div;
use svg::{Series, esc};

/// One figure: a file name for `--svg` and its SVG.
pub struct Figure {
    pub name: String,
    pub caption: String,
    pub svg: String,
}

/// A section of the report: a title, figures, or a note when its data is missing.
pub struct Section {
    pub title: String,
    pub figures: Vec<Figure>,
    pub note: Option<String>,
    /// A table (HTML) after the figures.
    pub table: Option<String>,
}

fn missing(title: &str, note: &str) -> Section {
    Section { title: title.into(), figures: vec![], note: Some(note.into()), table: None }
}

fn training(run: &RunDir, cfg: &Config) -> Result<Section> {
    let n_tier = cfg.ranker.n_tier;
    if !cfg.model.holds_out_validation() {
        return Ok(missing(
            "Training",
            &format!(
                "The run's model (`model: {}`) fits in one step: there are no per-epoch curves.",
                cfg.model.name()
            ),
        ));
    }
    if !run.metrics_log_path().exists() {
        return Ok(missing("Training", "No metrics log: the run has not trained yet (`nar train`)."));
    }
    let logs = run.read_log()?;
    let series = |name: &str, f: &dyn Fn(&EpochLog) -> f64, dashed: bool| Series {
        name: name.into(),
        points: logs.iter().map(|l| (l.epoch as f64, f(l))).collect(),
        dashed,
    };
    let figs = vec![
        Figure {
            name: "training_loss".into(),
            caption: "Loss per epoch: soft tier cross-entropy + loss_factor × rank loss (total), and the two parts."
                .into(),
            svg: svg::line_chart(
                "Training loss",
                "epoch",
                "loss",
                &[
                    series("train total", &|l| l.train_loss, false),
                    series("validation total", &|l| l.val_loss, true),
                    series("train tier CE", &|l| l.train_ce, false),
                    series("train rank loss", &|l| l.train_rank_loss, false),
                ],
                &[],
            ),
        },
        Figure {
            name: "tier_accuracy".into(),
            caption: format!(
                "Tier accuracy (fraction of architectures put in their true tier); chance is 1/n_tier = 1/{n_tier}."
            ),
            svg: svg::line_chart(
                "Tier accuracy",
                "epoch",
                "accuracy (fraction)",
                &[series("train", &|l| l.train_tier_acc, false), series("validation", &|l| l.val_tier_acc, true)],
                &[(format!("chance ({n_tier} tiers)"), 1.0 / n_tier as f64)],
            ),
        },
        Figure {
            name: "rank_correlation".into(),
            caption: "Rank correlation of the predicted accuracy with the true validation accuracy.".into(),
            svg: svg::line_chart(
                "Ranking quality",
                "epoch",
                "correlation",
                &[
                    series("Kendall τ train", &|l| l.train_kendall, false),
                    series("Kendall τ validation", &|l| l.val_kendall, true),
                    series("Spearman ρ train", &|l| l.train_spearman, false),
                    series("Spearman ρ validation", &|l| l.val_spearman, true),
                ],
                &[],
            ),
        },
    ];
    Ok(Section { title: "Training".into(), figures: figs, note: None, table: None })
}

fn evaluation(run: &RunDir, meta: &RunMeta, cfg: &Config) -> Result<Vec<Section>> {
    let Some(report) = run.read_eval()? else {
        return Ok(vec![missing(
            "Held-out evaluation",
            "No evaluation yet: run `nar eval RUN_DIR` for the scatter plot and the confusion matrix.",
        )]);
    };
    let preds = run.read_predictions()?;
    let points: Vec<(f64, f64)> = preds.iter().map(|p| (p.val, p.score)).collect();
    let mut figures = Vec::new();
    let mut notes = Vec::new();
    if points.is_empty() {
        notes.push("No held-out predictions: run `nar eval RUN_DIR` again for the scatter plot.");
    }
    if report.confusion.is_none() && cfg.model.has_tiers() {
        notes.push(
            "The evaluation ran on the score alone: run `nar eval --tiers RUN_DIR` for the tier confusion matrix.",
        );
    } else if report.confusion.is_none() {
        notes.push("The run's model predicts scores only: there is no tier confusion matrix.");
    }
    let note = (!notes.is_empty()).then(|| notes.join(" "));
    let scatter = Figure {
        name: "predicted_vs_true".into(),
        caption: format!(
            "Predicted accuracy (score) against true {} for the {} held-out architectures: Kendall τ = {:.3}, Spearman ρ = {:.3}{}.{}",
            meta.val_metric,
            report.held_out,
            report.kendall_val,
            report.spearman_val,
            report
                .kendall_params_baseline
                .map_or(String::new(), |f| format!(" (zero-cost floor, parameter count: τ = {f:.3})")),
            report.top.as_ref().map_or(String::new(), |t| format!(
                " The architecture predicted best is truly ranked {} (the parameter count's pick: {}).",
                t.rank_of_predicted_best,
                report.top_params_baseline.as_ref().map_or("-".to_string(), |f| f.rank_of_predicted_best.to_string())
            ))
        ),
        svg: svg::scatter(
            "Predicted vs true accuracy (held out)",
            &format!("true {} ", meta.val_metric),
            "predicted score",
            &points,
        ),
    };
    let confusion = report.confusion.as_ref().zip(report.tier_acc).map(|(confusion, acc)| Figure {
        name: "tier_confusion".into(),
        caption: format!(
            "Tier confusion on the held-out architectures (rows: true tier, columns: predicted); tier accuracy {acc:.3}."
        ),
        svg: svg::heatmap("Tier confusion (held out)", "true tier", "predicted tier", confusion),
    });
    if !points.is_empty() {
        figures.push(scatter);
    }
    figures.extend(confusion);
    Ok(vec![Section { title: "Held-out evaluation".into(), figures, note, table: None }])
}

fn distributions(run: &RunDir, cfg: &Config) -> Result<Section> {
    if !cfg.model.has_tiers() {
        return Ok(missing(
            "Tier distributions",
            "The run's model predicts scores only: there are no tiers to describe.",
        ));
    }
    let Some(state) = run.read_best_state(cfg.ranker.n_tier)? else {
        return Ok(missing("Tier distributions", "No checkpoint yet."));
    };
    let Some(batch) = state.distri.last() else {
        return Ok(missing("Tier distributions", "The checkpoint holds no batch statistics."));
    };
    let mut figs = Vec::new();
    for (what, unit, pick) in [
        ("FLOPs", "bin upper edge (FLOPs)", (|t: &crate::stats::TierStats| &t.flops) as fn(&_) -> &_),
        ("params", "bin upper edge (parameters)", |t| &t.params),
    ] {
        let top = &pick(&batch.tiers[0]).counts;
        let kls: Vec<String> = batch
            .tiers
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, t)| format!("tier {}: {:.3}", i + 1, kl_div(&pick(t).counts, top)))
            .collect();
        let bins: Vec<String> = pick(&batch.tiers[0]).keys.iter().map(|k| format!("{:.3e}", *k as f64)).collect();
        let groups: Vec<(String, Vec<f64>)> =
            batch.tiers.iter().enumerate().map(|(i, t)| (format!("tier {}", i + 1), pick(t).counts.clone())).collect();
        figs.push(Figure {
            name: format!("tier_{}", what.to_lowercase()),
            caption: format!(
                "Per-tier histogram of total {what} in the last training batch of the best epoch (the statistics the sampler draws from). Divergence from tier 1 (softmax-KL / bins, as the reference): {}.",
                kls.join(", ")
            ),
            svg: svg::grouped_bars(&format!("{what} by tier (last training batch)"), unit, "architectures", &bins, &groups),
        });
    }
    Ok(Section { title: "Tier distributions".into(), figures: figs, note: None, table: None })
}

fn search(run: &RunDir, meta: &RunMeta, cfg: &Config, ds: Option<&AnyDataset>) -> Result<Vec<Section>> {
    if !cfg.model.has_tiers() {
        return Ok(vec![missing("Search", &format!("{}.", crate::search::reference::needs_tiers(cfg.model)))]);
    }
    let Some(results) = run.read_search()? else {
        return Ok(vec![missing("Search", "No search yet: run `nar reference-search RUN_DIR`.")]);
    };
    let Some(first) = results.first() else { return Ok(vec![missing("Search", "The search result is empty.")]) };
    // Benchmark optimum and random-search curves need the dataset.
    let mut hlines = Vec::new();
    let mut series = Vec::new();
    let budget = first.budget as f64;
    for r in &results {
        let mut best = f64::NEG_INFINITY;
        let pts: Vec<(f64, f64)> = r
            .iterations
            .iter()
            .map(|it| {
                if let Some((_, f)) = it.top_k.iter().find(|(k, _)| *k == 1) {
                    best = best.max(f.accuracy);
                }
                (budget + it.proposed as f64, best)
            })
            .collect();
        series.push(Series { name: format!("NAR top-1, seed {} (peeks)", r.seed), points: pts, dashed: false });
    }
    if let Some(d) = ds {
        let metric = meta.test_metric.clone().unwrap_or_else(|| meta.val_metric.clone());
        if let Some(m) = d.metrics().iter().find(|m| m.name == metric) {
            hlines.push((
                format!("optimum {:.2}", m.best().map_or(f64::NAN, |b| b.1)),
                m.best().map_or(f64::NAN, |b| b.1),
            ));
        }
    }
    let random: Vec<f64> = results.iter().map(|r| r.random.accuracy).collect();
    let (rm, _) = crate::stats::mean_std(&random);
    hlines.push((format!("random search, mean {rm:.2}"), rm));
    let honest: Vec<f64> = results.iter().filter_map(|r| r.honest.as_ref().map(|h| h.accuracy)).collect();
    if !honest.is_empty() {
        let (hm, _) = crate::stats::mean_std(&honest);
        series.push(Series {
            name: format!("NAR honest pick, mean {hm:.2}"),
            points: vec![(budget, hm), (budget + first.iterations.last().map_or(0, |i| i.proposed) as f64, hm)],
            dashed: true,
        });
    }
    let curve = Figure {
        name: "search".into(),
        caption: format!(
            "Best accuracy found against architectures touched (the {} the method queried, then the proposals it only ranked). Solid: the reference protocol's running best test accuracy of the top-1 pick (it reads test accuracy). Dashed: the honest pick, and random search with the same query budget ({} architectures, best validation accuracy), mean over seeds.",
            first.budget, first.budget
        ),
        svg: svg::line_chart("Search vs random search", "architectures touched", "accuracy (%)", &series, &hlines),
    };
    let mut sections = vec![Section { title: "Search".into(), figures: vec![curve], note: None, table: None }];
    // Top architectures found: the honest picks and the reference top-1 bests, best first.
    let mut found: Vec<(String, &crate::search::reference::Found)> = Vec::new();
    for r in &results {
        if let Some(h) = &r.honest {
            found.push((format!("honest pick, seed {}", r.seed), h));
        }
        if let Some((_, f)) = r.reference.iter().find(|(k, _)| *k == 1) {
            found.push((format!("reference top-1, seed {}", r.seed), f));
        }
    }
    found.sort_by(|a, b| b.1.accuracy.total_cmp(&a.1.accuracy));
    let mut seen = std::collections::HashSet::new();
    found.retain(|(_, f)| seen.insert(f.position));
    found.truncate(6);
    let mut figs = Vec::new();
    for (label, f) in &found {
        let title = format!("{label}: {:.2} % (rank {}, top {:.2} %)", f.accuracy, f.rank, f.top_percent);
        let svg = match ds {
            Some(AnyDataset::Nb201(d)) => {
                let a = d.archs()[f.position];
                let ops: Vec<(usize, usize, &str)> =
                    nb201::EDGES.iter().zip(a.ops()).map(|(&(i, j), op)| (i, j, op.name())).collect();
                svg::nb201_cell(&title, &ops)
            }
            Some(AnyDataset::Nb101(d)) => {
                let c = d.archs()[f.position];
                let n = c.num_vertices();
                let edges: Vec<(usize, usize)> =
                    (0..n).flat_map(|i| (0..n).map(move |j| (i, j))).filter(|&(i, j)| c.has_edge(i, j)).collect();
                svg::nb101_cell(&title, &c.op_names(), &edges)
            }
            // A declared space's cells are listed by their text form in the tables, not drawn.
            Some(AnyDataset::Declared(_)) | None => continue,
        };
        figs.push(Figure {
            name: format!("arch_{}", figs.len() + 1),
            caption: format!("{} — id {}", esc(&title), f.id),
            svg,
        });
    }
    sections.push(Section {
        title: "Top architectures found".into(),
        note: if found.is_empty() {
            Some("The search put no architecture in the predicted top tier, so there is nothing to draw.".to_string())
        } else if figs.is_empty() {
            Some("The dataset of the run could not be opened to draw the cells.".to_string())
        } else {
            None
        },
        figures: figs,
        table: None,
    });
    Ok(sections)
}

/// The budgeted comparison `nar run` makes at the run's budget: nar's guided search (on the run's
/// predictor, or `best` for a transformer run) against random search, REA and local search.
fn comparison(run: &RunDir, cfg: &Config) -> Result<Section> {
    const TITLE: &str = "Budgeted search at the run's budget";
    let Some(s) = run.read_comparison()? else {
        return Ok(missing(
            TITLE,
            "No budgeted comparison yet: `nar run` makes one (or `nar search --space … --budget N` beside the run).",
        ));
    };
    Ok(Section {
        title: TITLE.into(),
        figures: vec![Figure {
            name: "comparison".into(),
            caption: "The incumbent's accuracy against architectures queried: mean ± std over seeds per method.".into(),
            svg: search_study::figure(&s),
        }],
        note: Some(format!(
            "nar's guided search (method nar: {} refitted on every answer) against random search, regularized evolution (rea) and local search (ls), each with the query budget NAR's search spends (the run's training and validation architectures). {}",
            crate::search::guided::GuidedPredictor::for_run(cfg).describe(),
            search_study::description(&s)
        )),
        table: Some(search_study::table(&s)),
    })
}

/// The comparison's fronts, where `nar run --objectives` asked for them.
fn comparison_fronts(run: &RunDir) -> Result<Option<Section>> {
    let Some(s) = run.read_comparison()? else { return Ok(None) };
    let Some(f) = &s.front else { return Ok(None) };
    Ok(Some(Section {
        title: format!("Fronts at the run's budget: {}", f.objectives.join(" vs ")),
        figures: search_study::front_figures(&s, f)
            .into_iter()
            .map(|(name, svg)| Figure {
                caption: if name == "hypervolume" {
                    "The hypervolume of each method's front against architectures queried: mean ± std over seeds."
                        .into()
                } else {
                    "Validation accuracy against the cost: the true front and each method's run of median hypervolume."
                        .into()
                },
                name: format!("comparison-{name}"),
                svg,
            })
            .collect(),
        note: Some(search_study::front_description(f)),
        table: Some(search_study::front_table(f)),
    }))
}

/// Builds every section of the report of a run directory.
pub fn sections(run: &RunDir) -> Result<(RunMeta, Vec<Section>)> {
    let meta = run.read_meta()?;
    // The dataset first: a declared space's store carries the declaration the configuration names.
    let ds = run.open_dataset(&meta).ok();
    let cfg = run.read_config()?;
    let mut s = vec![training(run, &cfg)?];
    s.extend(evaluation(run, &meta, &cfg)?);
    s.push(distributions(run, &cfg)?);
    s.extend(search(run, &meta, &cfg, ds.as_ref())?);
    s.push(comparison(run, &cfg)?);
    s.extend(comparison_fronts(run)?);
    Ok((meta, s))
}

/// Writes the report of `run` to `out` (default: [`RunDir::report_path`]) and, with `svg_dir`, every
/// figure as a standalone SVG file; returns the HTML path.
pub fn write(run: &RunDir, out: Option<&Path>, svg_dir: Option<&Path>) -> Result<PathBuf> {
    let (meta, sections) = sections(run)?;
    let path = out.map_or_else(|| run.report_path(), Path::to_path_buf);
    run.refuse_output(&path, &run.report_path(), &meta)?;
    if let Some(dir) = svg_dir {
        for f in sections.iter().flat_map(|s| &s.figures) {
            run.refuse_output(&dir.join(format!("{}.svg", f.name)), &run.report_path(), &meta)?;
        }
    }
    let page = html(&meta, &run.dataset_name(&meta), &sections);
    write_atomic(&path, |w| Ok(w.write_all(page.as_bytes())?))?;
    if let Some(dir) = svg_dir {
        for f in sections.iter().flat_map(|s| &s.figures) {
            write_atomic(&dir.join(format!("{}.svg", f.name)), |w| Ok(w.write_all(f.svg.as_bytes())?))?;
        }
    }
    Ok(path)
}

/// The self-contained HTML page; `dataset` names the run's dataset.
pub fn html(meta: &RunMeta, dataset: &str, sections: &[Section]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "<h1>nar report — {} {}</h1><table><tr><td>dataset</td><td>{}</td></tr><tr><td>validation metric</td><td>{}</td></tr><tr><td>training / validation architectures</td><td>{} / {}</td></tr><tr><td>seed</td><td>{}</td></tr></table>",
        meta.space,
        meta.task,
        esc(dataset),
        esc(&meta.val_metric),
        meta.train.len(),
        meta.val.len(),
        meta.seed
    ));
    for s in sections {
        out.push_str(&format!("<h2>{}</h2>", esc(&s.title)));
        if let Some(n) = &s.note {
            out.push_str(&format!("<p class=\"note\">{}</p>", esc(n)));
        }
        out.push_str("<div class=\"figs\">");
        for f in &s.figures {
            out.push_str(&format!(
                "<figure id=\"{}\">{}<figcaption>{}</figcaption></figure>",
                esc(&f.name),
                f.svg,
                esc(&f.caption)
            ));
        }
        out.push_str("</div>");
        if let Some(t) = &s.table {
            out.push_str(t);
        }
    }
    let css = format!(
        "{}body{{max-width:1420px}}\nh1{{font-size:22px}}h2{{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}}\n.figs{{display:flex;flex-wrap:wrap;gap:16px}}figure{{margin:0;max-width:684px}}figcaption{{font-size:12px;color:#444;margin-top:4px}}\n.note{{background:#f6f6f6;border-left:4px solid #E69F00;padding:8px 12px;font-size:13px}}\ntd{{padding:2px 10px 2px 0}}\n",
        page::BASE_CSS
    );
    page::page("nar report", &css, &out)
}

/// What `nar report` and `nar rank` may write into a run.
impl crate::run_dir::RunDir {
    /// Refuses `out` when it is one of the run's own files — anything in the run directory, through
    /// links, or the dataset it points to — other than `allowed`, the command's own output (`nar rank`'s
    /// `ranking.csv`, `nar report`'s `report.html`).
    pub fn refuse_output(&self, out: &Path, allowed: &Path, meta: &crate::run_dir::RunMeta) -> Result<()> {
        let mut files = vec![self.dataset_file(meta)];
        let mut dirs = vec![self.root().to_path_buf()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
                let p = e?.path();
                if p.is_dir() { dirs.push(p) } else { files.push(p) }
            }
        }
        for f in files {
            if crate::io::same_file(out, &f) && !crate::io::same_file(&f, allowed) {
                bail!("the output {} is the run's own {}: write somewhere else", out.display(), f.display());
            }
        }
        // A name the run may write later (a checkpoint, an ensemble member, …) is the run's too.
        // The path as it will be: its nearest existing ancestor resolved, the rest appended.
        let absolute = if out.is_absolute() { out.to_path_buf() } else { std::env::current_dir()?.join(out) };
        let mut base = absolute.as_path();
        let mut rest = Vec::new();
        while !base.exists() {
            let (Some(parent), Some(name)) = (base.parent(), base.file_name()) else { break };
            rest.push(name.to_os_string());
            base = parent;
        }
        let mut resolved = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_path_buf());
        resolved.extend(rest.iter().rev());
        if let Ok(root) = std::fs::canonicalize(self.root())
            && let Ok(rel) = resolved.strip_prefix(&root)
            && let Some(first) = rel.components().next().and_then(|c| c.as_os_str().to_str())
        {
            // The run's own files, and its predictor's.
            let predictor_files = [
                crate::ranker::trainer::METRICS_LOG,
                crate::ranker::checkpoint::CHECKPOINTS_DIR,
                crate::predictor::PREDICTOR_FILE,
                crate::predictor::ensemble::ENSEMBLE_FILE,
            ];
            let reserved: Vec<&str> = crate::run_dir::OWN_FILES.into_iter().chain(predictor_files).collect();
            let own = allowed.file_name().and_then(|n| n.to_str()) == Some(first) && rel.components().count() == 1;
            if !own && (reserved.contains(&first) || first.starts_with("member-")) {
                bail!("the output {} is the run's own {first}: write somewhere else", out.display());
            }
        }
        Ok(())
    }
}
