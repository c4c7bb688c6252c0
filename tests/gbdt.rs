//! The gradient-boosted-trees baseline (`model: gbdt`) through the same commands as the transformer,
//! on the real NB201 table: training, held-out evaluation, ranking the space, what it refuses, and
//! determinism across thread counts.

mod common;

use common::{nar, ok};
use nar::run_dir::RunDir;

fn config() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/nb201-gbdt.yaml").display().to_string()
}

fn train(dir: &std::path::Path, name: &str, threads: &str) -> std::path::PathBuf {
    let out = dir.join(name);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_nar"))
        .args(["train", "--config", &config(), "--data", "nb201", "--budget", "300", "--out", out.to_str().unwrap()])
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .unwrap();
    let text = ok(&o);
    assert!(text.contains("fitting 500 gradient-boosted trees on nb201 cifar10 (300 labelled architectures"), "{text}");
    out
}

#[test]
fn trees_train_evaluate_and_rank_through_the_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = train(dir.path(), "run", "2");
    let run = RunDir::open(&out).unwrap();
    assert!(run.trees_path().is_file());
    assert!(!run.metrics_log_path().exists(), "the trees have no epochs to log");
    let cfg = run.read_config().unwrap();
    assert_eq!(cfg.model, nar::ranker::config::ModelKind::Gbdt);
    // The transformer's keys the file leaves out are the reference's.
    assert_eq!(cfg.ranker, nar::ranker::config::Config::reference(nar::space::SpaceKind::Nb201).ranker);

    // The same split drawing as every run: budget 300 in the configuration's 1000 : 256 proportion.
    let meta = run.read_meta().unwrap();
    assert_eq!((meta.train.len(), meta.val.len()), (239, 61));

    let text = ok(&nar(&["eval", out.to_str().unwrap()]));
    assert!(text.contains("held-out architectures   15325"), "{text}");
    let eval = run.read_eval().unwrap().unwrap();
    assert_eq!(eval.tier_acc, None);
    // Kendall τ of the saved predictions, recomputed here, is the report's.
    let preds = run.read_predictions().unwrap();
    assert_eq!(preds.len(), 15_325);
    let score: Vec<f64> = preds.iter().map(|p| p.score).collect();
    let val: Vec<f64> = preds.iter().map(|p| p.val).collect();
    assert_eq!(nar::ranker::metrics::kendall_tau(&score, &val), eval.kendall_val);

    // `nar rank` scores the whole space with the same trees: equal (to the CSV's 6 decimals) to the
    // held-out predictions.
    ok(&nar(&["rank", out.to_str().unwrap()]));
    let ranking = std::fs::read_to_string(run.ranking_path()).unwrap();
    let lines: Vec<&str> = ranking.lines().collect();
    assert_eq!(lines[0], "index,predicted_score");
    assert_eq!(lines.len(), 15_626);
    for p in preds.iter().step_by(997) {
        let s: f64 = lines[p.position + 1].split(',').nth(1).unwrap().parse().unwrap();
        assert_eq!(s, format!("{:.6}", p.score).parse::<f64>().unwrap(), "position {}", p.position);
    }

    // What needs the transformer says so, and writes nothing.
    let o = nar(&["eval", out.to_str().unwrap(), "--tiers"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("gradient-boosted trees (`model: gbdt`), which predict scores only")
    );
    let o = nar(&["rank", out.to_str().unwrap(), "--tiers", "-o", dir.path().join("t.csv").to_str().unwrap()]);
    assert!(!o.status.success() && !dir.path().join("t.csv").exists());
    let o = nar(&["search", out.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("tiers and NAR's search need the transformer"));
    let run2 = dir.path().join("run2");
    let o = nar(&["run", "--config", &config(), "--out", run2.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("`nar run` ends with NAR's search"));
    assert!(!run2.exists());
}

#[test]
fn trees_are_the_same_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let one = train(dir.path(), "one", "1");
    let two = train(dir.path(), "two", "2");
    let a = std::fs::read(RunDir::open(&one).unwrap().trees_path()).unwrap();
    let b = std::fs::read(RunDir::open(&two).unwrap().trees_path()).unwrap();
    assert!(a == b, "the trees differ between 1 and 2 threads");
}

#[test]
fn a_gbdt_configuration_names_its_bad_fields() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(config()).unwrap();
    for (from, to, says) in [
        ("learning_rate: 0.05", "learning_rate: 0", "gbdt.learning_rate must be in (0, 1]"),
        ("max_leaves: 15", "max_leaves: 1", "gbdt.max_leaves must be between 2 and 65536"),
        ("l2: 1.0", "l2: .nan", "gbdt.l2 must be a finite number"),
        ("l2: 1.0", "l2: 1.0\n  depth: 3", "unknown field `depth`"),
        ("objective: logistic", "objective: hinge", "unknown variant `hinge`"),
        ("model: gbdt", "model: forest", "unknown variant `forest`"),
    ] {
        let path = dir.path().join("bad.yaml");
        std::fs::write(&path, base.replace(from, to)).unwrap();
        let o = nar(&["train", "--config", path.to_str().unwrap(), "--data", "nb201", "--out", "/nonexistent/x"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(says), "{to}: {err}");
        assert!(err.contains("bad.yaml"), "the file is named: {err}");
    }
}
