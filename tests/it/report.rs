//! `nar report` on a small real run: every section present, every figure well-formed SVG, missing
//! data noted instead of breaking.

use crate::common;

use common::{nar, ok};
use nar::run_dir::RunDir;

fn svgs_in(html: &str) -> Vec<&str> {
    html.match_indices("<svg").map(|(i, _)| &html[i..i + html[i..].find("</svg>").unwrap() + 6]).collect()
}

#[test]
fn report_has_every_section_and_valid_svg() {
    let dir = tempfile::tempdir().unwrap();
    // Training alone writes the report; it notes the missing evaluation and search.
    let run = common::tiny_run(dir.path(), "run", 8);
    let report = RunDir::open(&run).unwrap().report_path();
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("No evaluation yet") && html.contains("No search yet"), "missing sections are noted");
    // The chance line of the tier accuracy is 1/n_tier (5 tiers in the configuration).
    assert!(html.contains("chance (5 tiers)"));
    assert!(html.contains("Training loss"));
    // Then evaluation and search, and the full report with standalone SVGs.
    // Without tiers the report says how to get the confusion matrix; with them it draws it.
    ok(&nar(&["eval", run.to_str().unwrap()]));
    ok(&nar(&["report", run.to_str().unwrap()]));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("nar eval --tiers") && !html.contains("tier_confusion"), "no confusion without tiers");
    ok(&nar(&["eval", run.to_str().unwrap(), "--tiers"]));
    ok(&nar(&["search", run.to_str().unwrap(), "--iterations", "3", "--seeds", "2"]));
    let svg_dir = dir.path().join("svg");
    ok(&nar(&["report", run.to_str().unwrap(), "--svg", svg_dir.to_str().unwrap()]));
    let html = std::fs::read_to_string(&report).unwrap();
    for section in ["Training", "Held-out evaluation", "Tier distributions", "Search", "Top architectures found"] {
        assert!(html.contains(&format!("<h2>{section}</h2>")), "{section}");
    }
    assert!(!html.contains("No evaluation yet") && !html.contains("No search yet"));
    assert!(!html.contains("http://") || !html.contains("src=\"http"), "nothing is fetched");
    for name in [
        "training_loss",
        "tier_accuracy",
        "rank_correlation",
        "predicted_vs_true",
        "tier_confusion",
        "tier_flops",
        "tier_params",
        "search",
        "arch_1",
    ] {
        let p = svg_dir.join(format!("{name}.svg"));
        let text = std::fs::read_to_string(&p).unwrap_or_else(|_| panic!("{name}.svg missing"));
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{name}.svg: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        assert!(html.contains(&format!("<figure id=\"{name}\">")), "{name} in the page");
    }
    let inline = svgs_in(&html);
    assert!(inline.len() >= 9);
    for s in inline {
        roxmltree::Document::parse(s).unwrap();
    }
    // The caption of the scatter plot carries Kendall τ.
    assert!(html.contains("Kendall τ ="));
    // The cell drawing shows the six edges with NB201 op names.
    let cell = std::fs::read_to_string(svg_dir.join("arch_1.svg")).unwrap();
    let ops = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"];
    let labels: usize = ops.iter().map(|op| cell.matches(&format!(">{op}</text>")).count()).sum();
    assert_eq!(labels, 6, "{cell}");
}
