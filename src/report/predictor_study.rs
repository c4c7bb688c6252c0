//! The predictor study's page (`nar study predictors --html`): per benchmark, τ and precision@50 against
//! the budget, then the table.

use super::svg;
use crate::pipeline::predictor_study::{COLUMNS, MeanStd, PUBLISHED, PredictorStudyOptions, SummaryRow};

/// The study as a self-contained HTML page: per benchmark, τ and precision@50 against the budget on a
/// logarithmic axis (each mode a mean line with a marker per budget in its ± std band, the floor
/// dashed, published τ figures as labelled points), then the table.
pub fn page(rows: &[SummaryRow], opts: &PredictorStudyOptions) -> String {
    let mut body = String::new();
    let mut benchmarks: Vec<&str> = Vec::new();
    for r in rows {
        if !benchmarks.contains(&r.benchmark.as_str()) {
            benchmarks.push(&r.benchmark);
        }
    }
    for b in benchmarks {
        let of = |b: &'_ str| rows.iter().filter(|r| r.benchmark == b).collect::<Vec<_>>();
        for (title, get, floor, published) in [
            (
                "Kendall τ",
                (|r: &SummaryRow| r.kendall) as fn(&SummaryRow) -> MeanStd,
                (|r: &SummaryRow| r.floor_kendall.mean) as fn(&SummaryRow) -> f64,
                true,
            ),
            ("precision@50", |r: &SummaryRow| r.precision_at_50, |r: &SummaryRow| r.floor_precision_at_50.mean, false),
        ] {
            let bands: Vec<svg::Band> = opts
                .modes
                .iter()
                .map(|m| svg::Band {
                    name: m.name().to_string(),
                    points: of(b)
                        .into_iter()
                        .filter(|r| r.mode == *m)
                        .map(|r| {
                            let v = get(r);
                            (r.budget as f64, v.mean, if v.std.is_finite() { v.std } else { 0.0 })
                        })
                        .collect(),
                })
                .collect();
            let mut floor_points: Vec<(f64, f64)> = Vec::new();
            for r in of(b) {
                if !floor_points.iter().any(|p| p.0 == r.budget as f64) {
                    floor_points.push((r.budget as f64, floor(r)));
                }
            }
            floor_points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let dashed = [svg::Series { name: "parameter count".to_string(), points: floor_points, dashed: true }];
            let marks: Vec<svg::Mark> = PUBLISHED
                .iter()
                .filter(|p| published && p.0 == b)
                .map(|&(_, label, x, y)| svg::Mark { label: label.to_string(), x, y })
                .collect();
            body.push_str(&format!(
                "<figure>{}</figure>",
                svg::log_band_chart(
                    &format!("{b}: {title} on the held-out architectures"),
                    "labelled architectures (log scale)",
                    title,
                    &bands,
                    &dashed,
                    &marks,
                )
            ));
        }
    }
    let mut table = format!("<table><tr><th>{}</th></tr>", COLUMNS.join("</th><th>"));
    for r in rows {
        let cells: Vec<String> = r.cells().iter().map(|c| svg::esc(c)).collect();
        table.push_str(&format!("<tr><td>{}</td></tr>", cells.join("</td><td>")));
    }
    table.push_str("</table>");
    let epochs = opts.epochs.map_or("the configurations' epochs".to_string(), |e| format!("{e} epochs"));
    let css = format!(
        "{}body{{max-width:1440px}}figure{{display:inline-block;margin:8px}}\ntd,th{{padding:2px 10px;text-align:right}}td:first-child,th:first-child,td:nth-child(2),th:nth-child(2){{text-align:left}}\n",
        super::page::BASE_CSS
    );
    let body = format!(
        "<h1>nar predictor study</h1><p>{} seeds; transformer modes trained for {epochs}. Each cell: the labelled architectures permuted by the seed, the first <em>budget</em> split into training and validation, every other labelled architecture held out and ranked against its validation accuracy. Mean ± std over seeds (the bands); the parameter count is the zero-cost floor on the same held-out architectures; diamonds are published τ figures (PINAT, AAAI 2023, and GRAF, 2024, each tested on its own split: context, not the same protocol).</p>{body}{table}",
        opts.seeds
    );
    super::page::page("nar predictor study", &css, &body)
}
