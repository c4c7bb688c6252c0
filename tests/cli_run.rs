//! `nar run`, `nar train --resume`, `nar eval`, `nar search` and `nar rank` end to end, with a tiny
//! configuration on the real NB201 table.

mod common;

use common::{nar, ok, tiny_config_file};
use nar::run_dir::{Checkpoint, RunDir};

#[test]
fn run_trains_evaluates_and_searches() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = tiny_config_file(dir.path());
    let out = dir.path().join("run");
    // No data argument: the NB201 table built into the binary.
    let text = ok(&nar(&[
        "run",
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
    assert!(text.contains("embedded NAS-Bench-201 table"), "{text}");
    let run = RunDir::open(&out).unwrap();
    for f in [
        run.dataset_path(),
        run.meta_path(),
        run.config_path(),
        run.metrics_log_path(),
        run.eval_path(),
        run.predictions_path(),
        run.search_path(),
        run.report_path(),
        run.checkpoint(Checkpoint::Best).weights,
    ] {
        assert!(f.exists(), "{}", f.display());
    }
    // The run keeps the dataset it built, by a path relative to itself (the folder can move).
    let meta = run.read_meta().unwrap();
    assert_eq!(meta.dataset, std::path::PathBuf::from("dataset.nar"));
    assert_eq!(run.read_log().unwrap().len(), 2);
    let eval = run.read_eval().unwrap().unwrap();
    assert_eq!(eval.confusion.iter().flatten().sum::<usize>(), 15_275);
    assert_eq!(run.read_search().unwrap().unwrap().len(), 2);
    // The report names the dataset by its file name, not by a path of this machine.
    let html = std::fs::read_to_string(run.report_path()).unwrap();
    assert!(html.contains("<td>dataset</td><td>dataset.nar</td>"), "report header");
    assert!(!html.contains(dir.path().to_str().unwrap()), "the report holds a local path");

    // Rank the whole space with the trained ranker.
    let text = ok(&nar(&["rank", out.to_str().unwrap(), "--top", "3"]));
    assert!(text.contains("ranked 15625 architectures"), "{text}");
    let ranking = std::fs::read_to_string(run.ranking_path()).unwrap();
    assert_eq!(ranking.lines().count(), 15_626);
}

#[test]
fn resume_continues_a_stopped_run_to_the_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let full = common::tiny_run(dir.path(), "full", 3);
    // The same run "killed" after two epochs: train two, then raise the configured epochs and resume.
    let part = common::tiny_run(dir.path(), "part", 2);
    let part_dir = RunDir::open(&part).unwrap();
    let yaml = std::fs::read_to_string(part_dir.config_path()).unwrap().replace("ranker_epochs: 2", "ranker_epochs: 3");
    std::fs::write(part_dir.config_path(), yaml).unwrap();
    let text = ok(&nar(&["train", "--resume", "--out", part.to_str().unwrap()]));
    assert!(text.contains("resuming after epoch 2"), "{text}");
    let last = |root: &std::path::Path| RunDir::open(root).unwrap().checkpoint(Checkpoint::Last).weights;
    let a = std::fs::read(last(&full)).unwrap();
    let b = std::fs::read(last(&part)).unwrap();
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
    assert_eq!(RunDir::open(&full).unwrap().read_log().unwrap().len(), 3);
    assert_eq!(part_dir.read_log().unwrap().len(), 3);
    // Resuming a directory without a run says so.
    let o = nar(&["train", "--resume", "--out", dir.path().join("nothing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("nothing: no such run directory"), "{err}");
    let o = nar(&["eval", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is not a run directory") && err.contains("run.json is missing"), "{err}");
}
