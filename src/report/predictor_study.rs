//! The predictor study's page (`nar study predictors --html`): per benchmark, τ and precision@50 against
//! the budget, then the table; the study's summary rows, their columns and the published anchors.

use super::svg;
use serde::Serialize;

use crate::config::Mode;

/// The study as a self-contained HTML page: per benchmark, τ and precision@50 against the budget on a
/// logarithmic axis (each mode a mean line with a marker per budget in its ± std band, the floor
/// dashed, published τ figures as labelled points), then the table.
pub fn page(rows: &[SummaryRow], modes: &[Mode], seeds: u64, epochs: Option<usize>) -> String {
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
            let bands: Vec<svg::Band> = modes
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
                if !floor(r).is_nan() && !floor_points.iter().any(|p| p.0 == r.budget as f64) {
                    floor_points.push((r.budget as f64, floor(r)));
                }
            }
            floor_points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let dashed: Vec<svg::Series> = match floor_points.is_empty() {
                true => Vec::new(),
                false => vec![svg::Series { name: "parameter count".to_string(), points: floor_points, dashed: true }],
            };
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
    let epochs = epochs.map_or("the configurations' epochs".to_string(), |e| format!("{e} epochs"));
    let css = format!(
        "{}body{{max-width:1440px}}figure{{display:inline-block;margin:8px}}\ntd,th{{padding:2px 10px;text-align:right}}td:first-child,th:first-child,td:nth-child(2),th:nth-child(2){{text-align:left}}\n",
        super::page::BASE_CSS
    );
    let body = format!(
        "<h1>nar predictor study</h1><p>{} seeds; transformer modes trained for {epochs}. Each cell: the labelled architectures permuted by the seed, the first <em>budget</em> split into training and validation, every other labelled architecture held out and ranked against its validation accuracy. Mean ± std over seeds (the bands); the parameter count is the zero-cost floor on the same held-out architectures; diamonds are published τ figures (PINAT, AAAI 2023, and GRAF, 2024, each tested on its own split: context, not the same protocol).</p>{body}{table}",
        seeds
    );
    super::page::page("nar predictor study", &css, &body)
}

/// Mean and standard deviation (sample, as everywhere in nar: [`crate::stats::mean_std`]) of a figure
/// over seeds.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
}

impl MeanStd {
    pub fn of(v: &[f64]) -> MeanStd {
        let (mean, std) = crate::stats::mean_std(v);
        MeanStd { mean, std }
    }
}

/// A line of the summary: one (benchmark, mode, budget) over its seeds.
#[derive(Clone, Debug, Serialize)]
pub struct SummaryRow {
    pub benchmark: String,
    pub mode: Mode,
    pub budget: usize,
    pub seeds: usize,
    pub kendall: MeanStd,
    pub precision_at_50: MeanStd,
    pub predicted_best_rank: MeanStd,
    pub floor_kendall: MeanStd,
    pub floor_precision_at_50: MeanStd,
    pub seconds: MeanStd,
}

/// The summary table's columns.
pub const COLUMNS: [&str; 10] = [
    "benchmark",
    "mode",
    "budget",
    "seeds",
    "Kendall τ",
    "floor τ",
    "precision@50",
    "floor p@50",
    "predicted best: rank",
    "s / fit",
];

impl SummaryRow {
    /// The row's cells under [`COLUMNS`].
    pub fn cells(&self) -> [String; 10] {
        [
            self.benchmark.clone(),
            self.mode.name().to_string(),
            self.budget.to_string(),
            self.seeds.to_string(),
            format!("{:.3} ± {:.3}", self.kendall.mean, self.kendall.std),
            floor_text(self.floor_kendall.mean, 3),
            format!("{:.3} ± {:.3}", self.precision_at_50.mean, self.precision_at_50.std),
            floor_text(self.floor_precision_at_50.mean, 3),
            format!("{:.0}", self.predicted_best_rank.mean),
            format!("{:.1}", self.seconds.mean),
        ]
    }
}

/// The summary as a Markdown table (what the command prints).
pub fn markdown(rows: &[SummaryRow]) -> String {
    let mut out =
        format!("| {} |\n| --- | --- | ---: | ---: | --- | --- | --- | --- | ---: | ---: |\n", COLUMNS.join(" | "));
    for r in rows {
        out.push_str(&format!("| {} |\n", r.cells().join(" | ")));
    }
    out
}

/// Published Kendall τ figures the study's page draws beside its own: `(benchmark, label, budget, τ)`.
/// PINAT (Lu et al., AAAI 2023) tested on the whole space; GRAF (Kadlecová et al., 2024) a random forest
/// on neural graph features. They are not measured on the study's held-out sets: context, not a baseline
/// of the same protocol.
pub const PUBLISHED: [(&str, &str, f64, f64); 9] = [
    ("nb201-cifar10", "PINAT", 78.0, 0.549),
    ("nb201-cifar10", "PINAT", 156.0, 0.631),
    ("nb201-cifar10", "PINAT", 469.0, 0.706),
    ("nb201-cifar10", "PINAT", 781.0, 0.761),
    ("nb201-cifar10", "PINAT", 1563.0, 0.784),
    ("nb201-cifar10", "GRAF", 1024.0, 0.83),
    ("nb101", "PINAT", 100.0, 0.679),
    ("nb101", "PINAT", 424.0, 0.772),
    ("nb101", "GRAF", 1024.0, 0.705),
];

/// A floor figure with `digits` decimals, or "none" where the space has no cost model (NaN).
pub fn floor_text(v: f64, digits: usize) -> String {
    if v.is_nan() { "none (no cost model)".to_string() } else { format!("{v:.digits$}") }
}
