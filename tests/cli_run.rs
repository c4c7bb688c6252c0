//! `nar run`, `nar train --resume`, `nar eval`, `nar search` and `nar rank` end to end, with a tiny
//! configuration on the real NB201 table.

mod common;

use common::{nar, ok, tiny_config_file};

#[test]
fn run_trains_evaluates_and_searches() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = tiny_config_file(dir.path());
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
    let full = common::tiny_run(dir.path(), "full", 3);
    // The same run "killed" after two epochs: train two, then raise the configured epochs and resume.
    let part = common::tiny_run(dir.path(), "part", 2);
    let yaml =
        std::fs::read_to_string(part.join("config.yaml")).unwrap().replace("ranker_epochs: 2", "ranker_epochs: 3");
    std::fs::write(part.join("config.yaml"), yaml).unwrap();
    let text = ok(&nar(&["train", "--resume", "--out", part.to_str().unwrap()]));
    assert!(text.contains("resuming after epoch 2"), "{text}");
    let a = std::fs::read(full.join("checkpoints/last.safetensors")).unwrap();
    let b = std::fs::read(part.join("checkpoints/last.safetensors")).unwrap();
    let (ta, tb) =
        (safetensors::SafeTensors::deserialize(&a).unwrap(), safetensors::SafeTensors::deserialize(&b).unwrap());
    let mut names = ta.names();
    names.sort();
    assert!(!names.is_empty());
    for n in names {
        assert_eq!(ta.tensor(n).unwrap().data(), tb.tensor(n).unwrap().data(), "{n} differs after resuming");
    }
    // The files are byte-identical too: a checkpoint is a pure function of the run.
    assert!(a == b, "checkpoint bytes differ");
    assert_eq!(std::fs::read_to_string(full.join("metrics.jsonl")).unwrap().lines().count(), 3);
    assert_eq!(std::fs::read_to_string(part.join("metrics.jsonl")).unwrap().lines().count(), 3);
    // Resuming a directory without a run says so.
    let o = nar(&["train", "--resume", "--out", dir.path().join("nothing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"), "{}", String::from_utf8_lossy(&o.stderr));
}
