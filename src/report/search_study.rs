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

/// With several objectives: the normalised hypervolume of each method's front against queries (a band
/// per method) and the front table (hypervolume, fraction of the true front queried, IGD).
pub fn front_section(s: &StudySummary) -> String {
    let Some(f) = &s.front else { return String::new() };
    let bands: Vec<svg::Band> =
        f.bands.iter().map(|(m, points)| svg::Band { name: m.name().to_string(), points: points.clone() }).collect();
    let chart = svg::band_chart(
        &format!("Fronts on {} {}: {} — normalised hypervolume", s.space, s.task, f.objectives.join(" vs ")),
        "architectures queried (from 10)",
        "hypervolume / the true front's",
        &bands,
        &[("the true front".to_string(), 1.0)],
    );
    let mut table = String::from(
        "<table><tr><th>method</th><th>queries</th><th>hypervolume</th><th>front found</th><th>IGD</th></tr>",
    );
    let ms = |(m, sd): (f64, f64)| format!("{m:.3} ± {sd:.3}");
    for r in &f.table {
        for c in &r.cells {
            table.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.method.name(),
                c.queries,
                ms(c.hypervolume),
                ms(c.found),
                ms(c.igd)
            ));
        }
    }
    table.push_str("</table>");
    format!(
        "<h2>Several objectives</h2><p>{}</p><figure>{chart}</figure>{table}",
        svg::esc(&format!(
            "The pool's true front of {} holds {} architectures. Each run's front (the non-dominated architectures it queried) is measured against it: the hypervolume with the objectives normalised by the true front's ideal and nadir points (reference point 1), divided by the true front's; the fraction of the true front queried (an equivalent cell counting); IGD. Mean ± std over seeds.",
            f.objectives.join(" and "),
            f.true_front.len()
        ))
    )
}
