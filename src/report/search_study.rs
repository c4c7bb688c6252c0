//! The page of a search study (`nar search --space … --html`) and its pieces, which the run's report
//! shows too (`nar run`'s comparison at the run's budget): the incumbent's test accuracy against
//! queries, a band per method, and the table.

use super::svg;
use crate::search::budgeted::StudySummary;

/// The incumbent's reporting accuracy against queries: a mean ± std band per method, the optimum as
/// a line.
pub fn figure(s: &StudySummary) -> String {
    let bands: Vec<svg::Band> =
        s.bands.iter().map(|(m, points)| svg::Band { name: m.name().to_string(), points: points.clone() }).collect();
    let hlines: Vec<(String, f64)> = s.optimum.map(|o| (format!("optimum {o:.2}"), o)).into_iter().collect();
    svg::band_chart(
        &format!("Search on {} {}: incumbent's {}", s.space, s.task, metric(s)),
        "architectures queried (from 10)",
        "accuracy (%)",
        &bands,
        &hlines,
    )
}

/// The accuracy the incumbent is scored by.
fn metric(s: &StudySummary) -> String {
    s.report_metric.clone().unwrap_or_else(|| s.val_metric.clone())
}

/// The table (method × queries: best validation, incumbent's test, seeds at the target) and the
/// seconds per seed.
pub fn table(s: &StudySummary) -> String {
    let mut table = String::from("<table><tr>");
    for h in StudySummary::TABLE_HEAD {
        table.push_str(&format!("<th>{}</th>", svg::esc(h)));
    }
    table.push_str("</tr>");
    for row in s.table_rows() {
        table.push_str("<tr>");
        for c in row {
            table.push_str(&format!("<td>{}</td>", svg::esc(&c)));
        }
        table.push_str("</tr>");
    }
    table.push_str("</table><p>Seconds per seed: ");
    let secs: Vec<String> = s.table.iter().map(|r| format!("{} {:.1}", r.method, r.seconds_per_seed)).collect();
    table.push_str(&secs.join(", "));
    table.push_str(".</p>");
    table
}

/// What the study measured, in a sentence or three.
pub fn description(s: &StudySummary) -> String {
    let target = s.target.as_ref().map_or(String::new(), |(id, v)| {
        format!(
            " The target is the pool's best-validation architecture, {id} ({v:.2}); a seed counts once it has queried it or an equivalent cell."
        )
    });
    let batch = s.batch.map_or(String::new(), |b| format!(", in batches of {b}"));
    format!(
        "Seeds {}–{}, budget {} queries{batch}; pool: {}. Each method reads validation accuracy ({}) only through its oracle; the incumbent (best validation accuracy so far) is scored by {}. Table: mean ± std over seeds.{target}",
        s.first_seed,
        s.first_seed + s.seeds.saturating_sub(1),
        s.budget,
        s.pool_description(),
        s.val_metric,
        metric(s),
    )
}

/// The study as a self-contained HTML page.
pub fn page(s: &StudySummary) -> String {
    let css = format!(
        "{}body{{max-width:1100px}}\ntd,th{{padding:2px 10px;text-align:right}}td:first-child,th:first-child{{text-align:left}}\n",
        super::page::BASE_CSS
    );
    let body = format!(
        "<h1>nar search study — {} {}</h1><p>{}</p><figure>{}</figure>{}{}",
        s.space,
        s.task,
        svg::esc(&description(s)),
        figure(s),
        table(s),
        front_section(s)
    );
    super::page::page("nar search study", &css, &body)
}

/// With several objectives: the fronts drawn (accuracy against each cost: the true front where known,
/// each method's median run at the budget), the hypervolume of each method's front against queries (a
/// band per method) and the front table (hypervolume, fraction of the true front queried, IGD — the
/// hypervolume alone, in raw units, where no true front is known).
pub fn front_section(s: &StudySummary) -> String {
    let Some(f) = &s.front else { return String::new() };
    let figures: String = front_figures(s, f).into_iter().map(|(_, svg)| format!("<figure>{svg}</figure>")).collect();
    format!("<h2>Several objectives</h2><p>{}</p>{figures}{}", svg::esc(&front_description(f)), front_table(f))
}

/// The front part's figures, `(name, svg)`: one chart of the fronts per cost, then the hypervolume bands.
pub fn front_figures(s: &StudySummary, f: &crate::search::front::FrontSummary) -> Vec<(String, String)> {
    let bands: Vec<svg::Band> =
        f.bands.iter().map(|(m, points)| svg::Band { name: m.name().to_string(), points: points.clone() }).collect();
    let (ylabel, hlines) = if f.raw {
        ("hypervolume (raw units)", vec![])
    } else {
        ("hypervolume / the true front's", vec![("the true front".to_string(), 1.0)])
    };
    let chart = svg::band_chart(
        &format!("Fronts on {} {}: {} — hypervolume", s.space, s.task, f.objectives.join(" vs ")),
        "architectures queried (from 10)",
        ylabel,
        &bands,
        &hlines,
    );
    let mut out = front_charts(s, f);
    out.push(("hypervolume".to_string(), chart));
    out
}

/// What the front part measures, in words.
pub fn front_description(f: &crate::search::front::FrontSummary) -> String {
    if f.raw {
        "No true front is known (the user's oracle): each run's front (the non-dominated architectures it queried) is measured by its hypervolume in raw units, validation accuracy from 0 and each cost from the pool's largest. Mean ± std over seeds; the charts of the fronts show each method's run of median hypervolume at the budget.".to_string()
    } else {
        format!(
            "The pool's true front of {} holds {} architectures (one per distinct query: with the equivalence rule a class is answered by its canonical cell). Each run's front (the non-dominated architectures it queried) is measured against it: the hypervolume with the objectives normalised by the true front's ideal and nadir points (reference point 1), divided by the true front's; the fraction of the true front queried (an equivalent cell counting); IGD. Mean ± std over seeds; the charts of the fronts show the true front (dashed) and each method's run of median hypervolume at the budget.",
            f.objectives.join(" and "),
            f.true_front.len()
        )
    }
}

/// The front table: per method and budget, mean ± std of the measures.
pub fn front_table(f: &crate::search::front::FrontSummary) -> String {
    let mut table = String::from(if f.raw {
        "<table><tr><th>method</th><th>queries</th><th>hypervolume (raw)</th></tr>"
    } else {
        "<table><tr><th>method</th><th>queries</th><th>hypervolume</th><th>front found</th><th>IGD</th></tr>"
    });
    let ms = |(m, sd): (f64, f64)| format!("{m:.3} ± {sd:.3}");
    for r in &f.table {
        for c in &r.cells {
            let (m, sd) = c.hypervolume;
            let cells = if f.raw {
                format!("<td>{m:.4e} ± {sd:.2e}</td>")
            } else {
                format!("<td>{}</td><td>{}</td><td>{}</td>", ms(c.hypervolume), ms(c.found), ms(c.igd))
            };
            table.push_str(&format!("<tr><td>{}</td><td>{}</td>{cells}</tr>", r.method.name(), c.queries));
        }
    }
    table.push_str("</table>");
    table
}

/// Accuracy against each cost: the true front (where known) and, per method, the front of its run
/// with the median final hypervolume.
fn front_charts(s: &StudySummary, f: &crate::search::front::FrontSummary) -> Vec<(String, String)> {
    let mut shown: Vec<(String, &[crate::search::front::FrontMember])> = Vec::new();
    for row in &f.table {
        let mut runs: Vec<(f64, &crate::search::front::RunFront)> = f
            .fronts
            .iter()
            .filter(|r| r.method == row.method)
            .map(|r| {
                let hv = s
                    .curves
                    .iter()
                    .find(|c| c.method == r.method && c.seed == r.seed)
                    .and_then(|c| c.front.last())
                    .map_or(f64::NAN, |m| m.hypervolume);
                (hv, r)
            })
            .collect();
        runs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.seed.cmp(&b.1.seed)));
        if let Some((_, r)) = runs.get(runs.len().saturating_sub(1) / 2) {
            shown.push((format!("{} (seed {})", r.method, r.seed), &r.members));
        }
    }
    let mut out = Vec::new();
    for (j, cost) in f.objectives.iter().enumerate().skip(1) {
        let xy = |m: &[crate::search::front::FrontMember]| -> Vec<(f64, f64)> {
            m.iter().map(|x| (x.values[j], x.values[0])).collect()
        };
        let truth = xy(&f.true_front);
        let fronts: Vec<(String, Vec<(f64, f64)>)> = shown.iter().map(|(n, m)| (n.clone(), xy(m))).collect();
        let xs = truth.iter().chain(fronts.iter().flat_map(|(_, p)| p.iter())).map(|p| p.0);
        let (lo, hi) = xs.fold((f64::INFINITY, 0.0f64), |(l, h), x| (if x > 0.0 { l.min(x) } else { l }, h.max(x)));
        let log_x = lo.is_finite() && hi / lo >= 100.0;
        let chart = svg::front_chart(
            &format!("Fronts at {} queries: validation accuracy against {cost}", s.budget),
            &format!("{cost}{}", if log_x { " (log scale)" } else { "" }),
            "validation accuracy",
            log_x,
            (!truth.is_empty()).then_some(truth.as_slice()),
            &fronts,
        );
        out.push((format!("front-{cost}"), chart));
    }
    out
}
