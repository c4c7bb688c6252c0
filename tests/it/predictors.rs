//! The score-only predictors (`model: gbdt | forest | mlp | ensemble`, `configs/*-{gbdt,forest,mlp,best}.yaml`)
//! through the same commands as the transformer, on the real data: training, reloading through
//! `nar eval` and `nar rank`, what they refuse, and determinism across thread counts.

use crate::common;

use std::path::{Path, PathBuf};

use common::{nar, ok};
use nar::run_dir::RunDir;

fn config(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs").join(name).display().to_string()
}

fn train(cfg: &str, data: &str, budget: &str, out: &Path, threads: &str) -> String {
    let o = common::nar_command(&[
        "train",
        "--config",
        cfg,
        "--data",
        data,
        "--budget",
        budget,
        "--out",
        out.to_str().unwrap(),
    ])
    .env("RAYON_NUM_THREADS", threads)
    .output()
    .unwrap();
    ok(&o)
}

/// Every file a run's predictor wrote, by path inside the run (checkpoints excluded: the score-only
/// predictors have none).
fn predictor_files(run: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![run.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if ["predictor.json", "ensemble.json"].contains(&p.file_name().unwrap().to_str().unwrap()) {
                out.push((p.strip_prefix(run).unwrap().to_path_buf(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// `nar eval` then `nar rank` on a trained run: the saved predictions' τ is the report's, and the
/// ranking of the whole space (`space_size` architectures, in the dataset's order) gives the held-out
/// architectures their evaluation scores (to the CSV's six decimals). Returns the evaluation's τ.
fn eval_and_rank(out: &Path, id_column: &str, space_size: usize) -> f64 {
    let run = RunDir::open(out).unwrap();
    let text = ok(&nar(&["eval", out.to_str().unwrap()]));
    assert!(text.contains("predicts a score only"), "{text}");
    let eval = run.read_eval().unwrap().unwrap();
    assert_eq!(eval.tier_acc, None);
    let preds = run.read_predictions().unwrap();
    let score: Vec<f64> = preds.iter().map(|p| p.score).collect();
    let val: Vec<f64> = preds.iter().map(|p| p.val).collect();
    assert_eq!(nar::ranker::metrics::kendall_tau(&score, &val), eval.kendall_val);
    {
        ok(&nar(&["rank", out.to_str().unwrap(), "--top", "3"]));
        let ranking = std::fs::read_to_string(run.ranking_path()).unwrap();
        let lines: Vec<&str> = ranking.lines().collect();
        assert_eq!(lines[0], format!("{id_column},predicted_score"));
        assert_eq!(lines.len(), space_size + 1);
        for p in preds.iter().step_by(97) {
            let s: f64 = lines[p.position + 1].split(',').nth(1).unwrap().parse().unwrap();
            assert_eq!(s, format!("{:.6}", p.score).parse::<f64>().unwrap(), "position {}", p.position);
        }
    }
    eval.kendall_val
}

#[test]
fn every_nb201_predictor_trains_reloads_and_ranks() {
    let dir = tempfile::tempdir().unwrap();
    for (file, model, says) in [
        ("nb201-gbdt.yaml", "gbdt", "fitting gbdt on 300 labelled architectures, features renas"),
        ("nb201-forest.yaml", "forest", "fitting forest on 300 labelled architectures, features graph"),
        ("nb201-mlp.yaml", "mlp", "fitting mlp on 300 labelled architectures, features graph+cost"),
        ("nb201-best.yaml", "ensemble", "ensemble member 6 of 6: mlp"),
    ] {
        let out = dir.path().join(model);
        let text = train(&config(file), "nb201", "300", &out, "2");
        assert!(text.contains(says), "{file}: {text}");
        let run = RunDir::open(&out).unwrap();
        assert!(!run.metrics_log_path().exists(), "a tree model has no epochs to log");
        let cfg = run.read_config().unwrap();
        assert_eq!(cfg.model.name(), model);
        // The transformer's keys the file leaves out are the reference's.
        assert_eq!(cfg.ranker, nar::config::Config::reference(nar::space::SpaceKind::Nb201).ranker);
        // The same split drawing as every run: budget 300 in the configuration's 1000 : 256 proportion.
        let meta = run.read_meta().unwrap();
        assert_eq!((meta.train.len(), meta.val.len()), (239, 61));
        let tau = eval_and_rank(&out, "index", 15_625);
        // Each ranks the 15,325 held-out architectures far above the parameter count (τ ≈ 0.53).
        assert!(tau > 0.6, "{file}: τ {tau}");

        // What needs the transformer says so, and writes nothing.
        let o = nar(&["eval", out.to_str().unwrap(), "--tiers"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(&format!("`model: {model}`, which predicts scores only")), "{err}");
        let t = dir.path().join("t.csv");
        let o = nar(&["rank", out.to_str().unwrap(), "--tiers", "-o", t.to_str().unwrap()]);
        assert!(!o.status.success() && !t.exists());
        let o = nar(&["search", out.to_str().unwrap()]);
        assert!(String::from_utf8_lossy(&o.stderr).contains("tiers and NAR's search need the transformer"));
    }
    let files = predictor_files(&dir.path().join("ensemble"));
    let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
    assert_eq!(
        names,
        [
            "ensemble.json",
            "member-0/predictor.json",
            "member-1/predictor.json",
            "member-2/predictor.json",
            "member-3/predictor.json",
            "member-4/predictor.json",
            "member-5/predictor.json"
        ]
    );
}

#[test]
fn every_nb101_predictor_trains_and_reloads() {
    // The NB101 sample's 1,000 cells; a budget of 424 holds out the other 576.
    let dir = tempfile::tempdir().unwrap();
    let store = common::nb101_sample_store(dir.path());
    // (One network alone is `nb201-mlp.yaml`'s test above; NB101's `best` holds three.)
    for (file, model) in [("nb101-gbdt.yaml", "gbdt"), ("nb101-forest.yaml", "forest"), ("nb101-best.yaml", "ensemble")]
    {
        let out = dir.path().join(file);
        train(&config(file), store.to_str().unwrap(), "424", &out, "2");
        // The saved configuration reloads (it once held NAR's `batch_size` beside `train_batch_size`).
        let cfg = RunDir::open(&out).unwrap().read_config().unwrap();
        assert_eq!(cfg.model.name(), model);
        let tau = eval_and_rank(&out, "unique_hash", 423_624);
        assert!(tau > 0.5, "{file}: τ {tau} (the parameter count's is ≈ 0.34)");
    }
    // The NB101 best samples rows and columns from its seed, and its networks draw their weights and
    // pairs from theirs: the same at 1 thread.
    let one = dir.path().join("best-1");
    train(&config("nb101-best.yaml"), store.to_str().unwrap(), "424", &one, "1");
    assert_eq!(predictor_files(&one), predictor_files(&dir.path().join("nb101-best.yaml")));
}

#[test]
fn predictors_are_the_same_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["nb201-forest.yaml", "nb201-best.yaml"] {
        let one = dir.path().join(format!("{file}-1"));
        let two = dir.path().join(format!("{file}-2"));
        train(&config(file), "nb201", "200", &one, "1");
        train(&config(file), "nb201", "200", &two, "2");
        let (a, b) = (predictor_files(&one), predictor_files(&two));
        assert!(!a.is_empty());
        assert!(a == b, "{file}: the saved predictor differs between 1 and 2 threads");
    }
}

#[test]
fn bad_predictor_configurations_name_the_file_and_field_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let gbdt = std::fs::read_to_string(config("nb201-gbdt.yaml")).unwrap();
    let best = std::fs::read_to_string(config("nb201-best.yaml")).unwrap();
    let forest = std::fs::read_to_string(config("nb201-forest.yaml")).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("gbdt", gbdt.replace("learning_rate: 0.05", "learning_rate: 0"), "gbdt.learning_rate must be in (0, 1]"),
        ("gbdt", gbdt.replace("max_leaves: 15", "max_leaves: 1"), "gbdt.max_leaves must be between 2 and 65536"),
        ("gbdt", gbdt.replace("l2: 1.0", "l2: .nan"), "gbdt.l2 must be a finite number"),
        ("gbdt", gbdt.replace("l2: 1.0", "l2: 1.0\n  depth: 3"), "unknown field `depth`"),
        ("gbdt", gbdt.replace("objective: logistic", "objective: hinge"), "unknown variant `hinge`"),
        ("gbdt", gbdt.replace("model: gbdt", "model: svm"), "unknown variant `svm`"),
        ("gbdt", gbdt.replace("model: gbdt", "model: forest"), "gbdt: only read with model: gbdt, found model: forest"),
        ("forest", forest.replace("features: [graph]", "features: [graph, grafs]"), "unknown variant `grafs`"),
        ("forest", forest.replace("features: [graph]", "features: []"), "features: give at least one feature set"),
        ("forest", forest.replace("features: [graph]", "features: [graph, graph]"), "features: graph is listed twice"),
        ("forest", forest.replace("max_features: 1.0", "max_features: 1.5"), "forest.max_features must be in (0, 1]"),
        ("forest", forest.replace("trees: 200", "trees: 0"), "forest.trees must be between 1 and 100000"),
        ("best", best.replace("model: ensemble", "model: gbdt"), "ensemble: only read with model: ensemble"),
        (
            "best",
            best[..best.find("ensemble:\n").unwrap()].to_string() + "ensemble:\n  members: []\n",
            "ensemble.members: an ensemble needs at least one member",
        ),
        (
            "best",
            best.replace(
                "    - model: gbdt\n      features: [graph]  ",
                "    - model: ensemble\n      features: [graph]  ",
            ),
            "ensemble.members[2].model: an ensemble cannot be a member of an ensemble",
        ),
        (
            "best",
            best.replace("features: [graph, cost]", "features: [graph, cost]\n      forest: {trees: 5}"),
            "ensemble.members[1].forest: only read with model: forest, found model: gbdt",
        ),
        (
            "best",
            best.replace("model: ensemble", "model: ensemble\nfeatures: [graph]"),
            "features: an ensemble's members choose",
        ),
        (
            "ref",
            std::fs::read_to_string(config("nb201.yaml")).unwrap() + "features: [graph]\n",
            "features: the transformer reads the renas tensor only",
        ),
        (
            "ref",
            std::fs::read_to_string(config("nb201.yaml")).unwrap().replace("val_size: 256", "val_size: 0"),
            "val_size must be at least n_tier (5) for the transformer",
        ),
        (
            "ref",
            std::fs::read_to_string(config("nb201.yaml")).unwrap().replace("val_size: 256", "val_size: 64"),
            "val_batch_size (128) is larger than val_size (64)",
        ),
    ];
    for (i, (what, text, says)) in cases.iter().enumerate() {
        assert!(!text.is_empty());
        let path = dir.path().join(format!("bad-{what}-{i}.yaml"));
        std::fs::write(&path, text).unwrap();
        let out = dir.path().join(format!("out-{i}"));
        let o = nar(&["train", "--config", path.to_str().unwrap(), "--data", "nb201", "--out", out.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(says), "case {i}: {err}");
        assert!(err.contains(&format!("bad-{what}-{i}.yaml")), "the file is named: {err}");
        assert!(!out.exists(), "case {i}: nothing is written");
    }
}

#[test]
fn a_run_whose_files_are_of_another_predictor_names_both() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let cfg = dir.path().join("forest.yaml");
    std::fs::write(&cfg, "model: forest\nspace: nasbench201\nfeatures: [graph, cost]\n").unwrap();
    train(cfg.to_str().unwrap(), "nb201", "100", &out, "2");
    let cfg_path = out.join("config.yaml");
    let text = std::fs::read_to_string(&cfg_path).unwrap();
    std::fs::write(&cfg_path, text.replace("model: forest", "model: gbdt")).unwrap();
    let o = nar(&["eval", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("predictor.json: holds a forest predictor, but the run's configuration says model: gbdt"),
        "{err}"
    );
    assert!(!out.join("eval.json").exists());
}

#[test]
fn a_fit_needs_two_finite_accuracies() {
    use nar::features::FeatureSet;
    use nar::predictor::ModelKind;
    use nar::predictor::{ArchList, FitContext, Labelled, TableModel};
    use nar::spaces::nb201::{Arch, ImageDataset};
    let archs: Vec<Arch> = (0..3).map(|i| Arch::from_index(i).unwrap()).collect();
    let x = ArchList::<nar::spaces::Nb201> { archs: &archs, network: ImageDataset::Cifar10 };
    let ctx = FitContext { seed: 1, progress: &nar::progress::Quiet, run: None, resume: false };
    for (model, y, says) in [
        (ModelKind::Forest, vec![1.0], "3 architectures but 1 accuracies"),
        (ModelKind::Gbdt, vec![1.0, f64::NAN, 2.0], "accuracy 1 is not a finite number (NaN)"),
        (ModelKind::Forest, vec![1.0, 2.0, f64::INFINITY], "accuracy 2 is not a finite number (inf)"),
    ] {
        let mut p = TableModel::new(model, vec![FeatureSet::Graph], None, None, None);
        let err = nar::predictor::Predictor::fit(&mut p, &Labelled { x: &x, y: &y, n_train: y.len() }, &ctx)
            .expect_err("refused");
        assert!(err.to_string().contains(says), "{err}");
    }
    let one = &archs[..1];
    let x1 = ArchList::<nar::spaces::Nb201> { archs: one, network: ImageDataset::Cifar10 };
    let mut p = TableModel::new(ModelKind::Gbdt, vec![FeatureSet::Graph], None, None, None);
    let err = nar::predictor::Predictor::fit(&mut p, &Labelled { x: &x1, y: &[90.0], n_train: 1 }, &ctx).unwrap_err();
    assert!(err.to_string().contains("a predictor needs at least 2 labelled architectures, found 1"), "{err}");
}

#[test]
fn a_damaged_or_edited_tree_file_is_refused_before_the_trees_are_read() {
    let dir = tempfile::tempdir().unwrap();
    for (file, field, bad) in [("nb201-gbdt.yaml", "split_feature", "4096"), ("nb201-forest.yaml", "true_child", "0")] {
        let out = dir.path().join(file);
        train(&config(file), "nb201", "60", &out, "2");
        let path = out.join("predictor.json");
        let original = std::fs::read_to_string(&path).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&original).unwrap();
        // The first split node of the first tree gets an impossible value.
        fn first_split<'a>(v: &'a mut serde_json::Value, field: &str) -> Option<&'a mut serde_json::Value> {
            match v {
                serde_json::Value::Object(m) => {
                    if m.get(field).is_some_and(|x| x.is_u64()) && m.get("is_leaf").is_none_or(|l| l == false) {
                        return m.get_mut(field);
                    }
                    m.values_mut().find_map(|x| first_split(x, field))
                }
                serde_json::Value::Array(a) => a.iter_mut().find_map(|x| first_split(x, field)),
                _ => None,
            }
        }
        *first_split(&mut v["state"], field).unwrap() = serde_json::json!(bad.parse::<u64>().unwrap());
        // Edited without its checksum: refused as changed.
        std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
        let o = nar(&["eval", out.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("does not match its checksum"), "{file}: {err}");
        // Edited with a matching checksum: the node itself is refused, naming tree and node.
        v["sha256"] = serde_json::json!(table_checksum(&v));
        std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
        let o = nar(&["eval", out.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{file}: {err}");
        assert!(err.contains(&format!("predictor.json: tree 1, node 0: {field} {bad} is not")), "{file}: {err}");
        assert!(!out.join("eval.json").exists());
    }
}

/// The checksum of a tree model's file (format 2: its model, space, feature sets and state).
fn table_checksum(v: &serde_json::Value) -> String {
    let covered =
        serde_json::json!({"model": v["model"], "space": v["space"], "features": v["features"], "state": v["state"]});
    nar::ranker::checkpoint::sha256_hex(serde_json::to_string(&covered).unwrap().as_bytes())
}

/// Every file a run reads is covered by a checksum or checked field by field: a tree model's feature
/// sets (a permutation of the same width would read the wrong columns), an ensemble's scales (a
/// subnormal std makes every score infinite), the run's description against its space and dataset.
/// The files the first releases wrote (no checksum over the feature sets or the scales) still load.
#[test]
fn feature_sets_scales_and_the_run_description_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train(&config("nb201-best.yaml"), "nb201", "60", &out, "2");
    let eval = |what: &str| {
        let o = nar(&["eval", out.to_str().unwrap()]);
        (o.status.success(), format!("{what}: {}", String::from_utf8_lossy(&o.stderr)))
    };
    let read = |p: &Path| -> serde_json::Value { serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap() };
    let write = |p: &Path, v: &serde_json::Value| std::fs::write(p, serde_json::to_string(v).unwrap()).unwrap();
    let refused = |what: &str, says: &str| {
        let (ok, err) = eval(what);
        assert!(!ok && err.contains(says), "{err}");
    };
    // A member's feature sets, permuted (same width).
    let member = out.join("member-0/predictor.json");
    let original = read(&member);
    assert_eq!(original["features"], serde_json::json!(["graph", "paths", "onehot", "cost"]));
    let mut v = original.clone();
    v["features"] = serde_json::json!(["paths", "graph", "onehot", "cost"]);
    write(&member, &v);
    refused("permuted, checksum as it was", "member-0/predictor.json: the fitted state does not match its checksum");
    v["sha256"] = serde_json::json!(table_checksum(&v));
    write(&member, &v);
    refused(
        "permuted, checksum matching",
        "the trees read the feature sets [paths, graph, onehot, cost], but the configuration says features: [graph, paths, onehot, cost]",
    );
    // A first-release file: no format, the checksum over the state only.
    let mut v = original.clone();
    v.as_object_mut().unwrap().remove("format");
    v["sha256"] =
        serde_json::json!(nar::ranker::checkpoint::sha256_hex(serde_json::to_string(&v["state"]).unwrap().as_bytes()));
    write(&member, &v);
    let (ok, err) = eval("a first-release tree file");
    assert!(ok, "{err}");
    write(&member, &original);
    // The ensemble's scales.
    let ensemble = out.join("ensemble.json");
    let original = read(&ensemble);
    let mut v = original.clone();
    v["scales"][0]["std"] = serde_json::json!(1e-320);
    write(&ensemble, &v);
    refused("a scale changed", "ensemble.json: the members' scales do not match their checksum");
    v["sha256"] =
        serde_json::json!(nar::ranker::checkpoint::sha256_hex(serde_json::to_string(&v["scales"]).unwrap().as_bytes()));
    write(&ensemble, &v);
    refused("a subnormal std", "a member's scale must be finite with a positive, normal std");
    let mut v = original.clone();
    v.as_object_mut().unwrap().remove("sha256");
    write(&ensemble, &v);
    let (ok, err) = eval("a first-release ensemble file");
    assert!(ok, "{err}");
    write(&ensemble, &original);
    // The run's description.
    let meta = out.join("run.json");
    let original = read(&meta);
    for (what, edit, says) in [
        (
            "a position twice",
            Box::new(|v: &mut serde_json::Value| v["val"][0] = v["train"][0].clone())
                as Box<dyn Fn(&mut serde_json::Value)>,
            "appears twice in the training and validation sets",
        ),
        (
            "another space's task",
            Box::new(|v: &mut serde_json::Value| v["network"] = "mnist".into()),
            "field `network`",
        ),
        (
            "another task's metric",
            Box::new(|v: &mut serde_json::Value| v["network"] = "cifar100".into()),
            "field `val_metric`: cifar10_val_acc is not a validation accuracy of nb201 cifar100",
        ),
        (
            "a metric the dataset lacks",
            Box::new(|v: &mut serde_json::Value| v["test_metric"] = "cifar10_val_acc".into()),
            "field `test_metric`: cifar10_val_acc is not a test accuracy of nb201 cifar10",
        ),
    ] {
        let mut v = original.clone();
        edit(&mut v);
        write(&meta, &v);
        refused(what, says);
    }
    write(&meta, &original);
    let (ok, err) = eval("restored");
    assert!(ok, "{err}");
}

#[test]
fn rank_and_report_never_write_over_the_runs_own_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train(&config("nb201-best.yaml"), "nb201", "60", &out, "2");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(out.join("member-1/predictor.json"), &link).unwrap();
    let before: Vec<(PathBuf, Vec<u8>)> = predictor_files(&out);
    for target in [
        out.join("predictor.json"),
        out.join("ensemble.json"),
        out.join("member-0/predictor.json"),
        out.join("run.json"),
        out.join("config.yaml"),
        out.join("dataset.nar"),
        out.join("checkpoints/best.json"),
        out.join("member-3/predictor.json"),
        out.join("search.json"),
        link.clone(),
    ] {
        for cmd in ["rank", "report"] {
            let o = nar(&[cmd, out.to_str().unwrap(), "-o", target.to_str().unwrap()]);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!o.status.success() && err.contains("is the run's own"), "{cmd} -o {}: {err}", target.display());
        }
    }
    assert_eq!(predictor_files(&out), before, "nothing was overwritten");
    assert!(
        !out.join("predictor.json").exists() && !out.join("checkpoints").exists() && !out.join("member-6").exists()
    );
    // The commands' own outputs are still theirs.
    ok(&nar(&["rank", out.to_str().unwrap(), "-o", out.join("ranking.csv").to_str().unwrap()]));
    ok(&nar(&["report", out.to_str().unwrap(), "-o", out.join("report.html").to_str().unwrap()]));
}

/// A run whose training and validation sets hold every labelled architecture has nothing to evaluate
/// on: `nar eval` says so and writes nothing (it printed NaN and exited 0).
#[test]
fn eval_with_nothing_held_out_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::nb101_sample_store(dir.path());
    let out = dir.path().join("run");
    train(&config("nb101-forest.yaml"), store.to_str().unwrap(), "1000", &out, "2");
    let o = nar(&["eval", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("every architecture labelled with val_acc_108ep is in the run's training or validation set: nothing is held out"),
        "{err}"
    );
    let run = RunDir::open(&out).unwrap();
    assert!(!run.eval_path().exists() && !run.predictions_path().exists());
}
