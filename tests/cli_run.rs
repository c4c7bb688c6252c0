//! `nar run`, `nar train --resume`, `nar eval`, `nar search` and `nar rank` end to end, with a tiny
//! configuration on the real NB201 table.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn nar(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nar")).args(args).output().expect("nar runs")
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

fn ok(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}\n{}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stdout).into_owned() + &err
}

#[test]
fn run_trains_evaluates_and_searches() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = tiny_config(dir.path());
    let out = dir.path().join("run");
    let csv = common::shared_file("data/nb201/nb201_accuracy.csv");
    let text = ok(&nar(&[
        "run",
        "--metrics",
        csv.to_str().unwrap(),
        "--config",
        &cfg,
        "--out",
        out.to_str().unwrap(),
        "--epochs",
        "2",
        "--seeds",
        "2",
        "--iterations",
        "3",
    ]));
    assert!(text.contains("held-out architectures   15275"), "{text}");
    assert!(text.contains("honest: the ranker's own choice") && text.contains("random search, same budget"), "{text}");
    assert!(text.contains("query budget 350"), "{text}");
    for f in [
        "dataset.nar",
        "run.json",
        "config.yaml",
        "metrics.jsonl",
        "eval.json",
        "search.json",
        "checkpoints/best.safetensors",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let log = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 2);
    let eval: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval.json")).unwrap()).unwrap();
    let confusion: u64 = eval["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(confusion, 15_275);
    let search: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("search.json")).unwrap()).unwrap();
    assert_eq!(search.as_array().unwrap().len(), 2);

    // Rank the whole space with the trained ranker.
    let text = ok(&nar(&["rank", out.to_str().unwrap(), "--top", "3"]));
    assert!(text.contains("ranked 15625 architectures"), "{text}");
    let ranking = std::fs::read_to_string(out.join("ranking.csv")).unwrap();
    assert_eq!(ranking.lines().count(), 15_626);
}

#[test]
fn resume_continues_a_stopped_run_to_the_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = tiny_config(dir.path());
    let csv = common::shared_file("data/nb201/nb201_accuracy.csv");
    let store = dir.path().join("nb201.nar");
    ok(&nar(&["data", "build", "--space", "nb201", "-m", csv.to_str().unwrap(), "-o", store.to_str().unwrap()]));
    let full = dir.path().join("full");
    ok(&nar(&[
        "train",
        "--config",
        &cfg,
        "--data",
        store.to_str().unwrap(),
        "--out",
        full.to_str().unwrap(),
        "--epochs",
        "3",
    ]));
    // The same run "killed" after two epochs: train two, then raise the configured epochs and resume.
    let part = dir.path().join("part");
    ok(&nar(&[
        "train",
        "--config",
        &cfg,
        "--data",
        store.to_str().unwrap(),
        "--out",
        part.to_str().unwrap(),
        "--epochs",
        "2",
    ]));
    let yaml =
        std::fs::read_to_string(part.join("config.yaml")).unwrap().replace("ranker_epochs: 2", "ranker_epochs: 3");
    std::fs::write(part.join("config.yaml"), yaml).unwrap();
    let text = ok(&nar(&["train", "--resume", "--out", part.to_str().unwrap()]));
    assert!(text.contains("resuming after epoch 2"), "{text}");
    let a = std::fs::read(full.join("checkpoints/last.safetensors")).unwrap();
    let b = std::fs::read(part.join("checkpoints/last.safetensors")).unwrap();
    assert!(a == b, "resumed weights differ");
    assert_eq!(std::fs::read_to_string(full.join("metrics.jsonl")).unwrap().lines().count(), 3);
    assert_eq!(std::fs::read_to_string(part.join("metrics.jsonl")).unwrap().lines().count(), 3);
    // Resuming a directory without a run says so.
    let o = nar(&["train", "--resume", "--out", dir.path().join("nothing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"), "{}", String::from_utf8_lossy(&o.stderr));
}
