//! `nar report` on a small real run: every section present, every figure well-formed SVG, missing
//! data noted instead of breaking.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn nar(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nar")).args(args).output().expect("nar runs")
}

fn ok(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}\n{}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stdout).into_owned() + &err
}

fn tiny_config(dir: &Path) -> String {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/nb201.yaml"))
        .unwrap()
        .replace("d_patch_vec: 128", "d_patch_vec: 16")
        .replace("d_model: 128", "d_model: 16")
        .replace("d_ffn_inner: 512", "d_ffn_inner: 32")
        .replace("n_layers: 6", "n_layers: 1")
        .replace("d_k: 32", "d_k: 8")
        .replace("d_v: 32", "d_v: 8")
        .replace("d_tier_prj_inner: 256", "d_tier_prj_inner: 16")
        .replace("d_val_acc_prj_inner: 1024", "d_val_acc_prj_inner: 16")
        .replace("train_size: 1000", "train_size: 250")
        .replace("val_size: 256", "val_size: 100")
        .replace("train_batch_size: 128", "train_batch_size: 50")
        .replace("val_batch_size: 128", "val_batch_size: 50")
        .replace("sample_size: 128", "sample_size: 32")
        .replace("search_size: 128", "search_size: 32");
    let p = dir.join("tiny.yaml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn svgs_in(html: &str) -> Vec<&str> {
    html.match_indices("<svg").map(|(i, _)| &html[i..i + html[i..].find("</svg>").unwrap() + 6]).collect()
}

#[test]
fn report_has_every_section_and_valid_svg() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = tiny_config(dir.path());
    let csv = common::shared_file("data/nb201/nb201_accuracy.csv");
    let store = dir.path().join("nb201.nar");
    ok(&nar(&["data", "build", "--space", "nb201", "-m", csv.to_str().unwrap(), "-o", store.to_str().unwrap()]));
    let run = dir.path().join("run");
    // Training alone: the report notes the missing evaluation and search.
    let text = ok(&nar(&[
        "train",
        "--config",
        &cfg,
        "--data",
        store.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--epochs",
        "8",
    ]));
    assert!(text.contains("report: "), "{text}");
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("No eval.json") && html.contains("No search.json"), "missing sections are noted");
    assert!(html.contains("Training loss"));
    // Then evaluation and search, and the full report with standalone SVGs.
    ok(&nar(&["eval", run.to_str().unwrap()]));
    ok(&nar(&["search", run.to_str().unwrap(), "--iterations", "3", "--seeds", "2"]));
    let svg_dir = dir.path().join("svg");
    ok(&nar(&["report", run.to_str().unwrap(), "--svg", svg_dir.to_str().unwrap()]));
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    for section in ["Training", "Held-out evaluation", "Tier distributions", "Search", "Top architectures found"] {
        assert!(html.contains(&format!("<h2>{section}</h2>")), "{section}");
    }
    assert!(!html.contains("No eval.json") && !html.contains("No search.json"));
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
    // The cell drawings show NB201 ops.
    assert!(
        std::fs::read_to_string(svg_dir.join("arch_1.svg")).unwrap().contains("~")
            || html.contains("nor_conv")
            || html.contains("skip_connect")
            || html.contains("avg_pool")
    );
}
