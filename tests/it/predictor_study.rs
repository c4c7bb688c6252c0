//! `nar study predictors` end to end on the real data: the cells it trains (splits from the labelled
//! budget, the rest held out), the CSV and the page, reproducibility, and the NB101 sample.

use crate::common;

use common::{data_file, nar, ok};

fn read_csv(path: &std::path::Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        [
            "benchmark",
            "mode",
            "budget",
            "seed",
            "train",
            "val",
            "held_out",
            "epochs",
            "kendall",
            "spearman",
            "precision_at_10",
            "precision_at_50",
            "precision_at_100",
            "predicted_best_rank",
            "top10_regret",
            "top50_regret",
            "floor_kendall",
            "floor_precision_at_50",
            "seconds"
        ]
    );
    r.records().map(|x| x.unwrap()).collect()
}

#[test]
fn study_trains_each_mode_on_the_budget_and_ranks_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("cells.csv");
    let html = dir.path().join("study.html");
    let args = [
        "study",
        "predictors",
        "--benchmarks",
        "nb201-cifar100",
        "--modes",
        "gbdt,improved",
        "--budgets",
        "60",
        "--seeds",
        "2",
        "--epochs",
        "1",
        "--csv",
        csv.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ];
    let text = ok(&nar(&args));
    assert!(text.contains("| nb201-cifar100 | gbdt | 60 | 2 |"), "{text}");
    assert!(text.contains("| nb201-cifar100 | improved | 60 | 2 |"), "{text}");
    let rows = read_csv(&csv);
    assert_eq!(rows.len(), 4);
    for r in &rows {
        // Budget 60 in the configurations' 1000 : 256 proportion; every other architecture held out.
        assert_eq!((&r[2], &r[4], &r[5], &r[6]), ("60", "48", "12", "15565"), "{r:?}");
        assert_eq!(&r[7], if &r[1] == "gbdt" { "0" } else { "1" });
        let tau: f64 = r[8].parse().unwrap();
        assert!(tau.is_finite() && tau.abs() <= 1.0);
    }
    // The two modes of a seed see the same split, so the same floor; the two seeds do not.
    let floor = |mode: &str, seed: &str| rows.iter().find(|r| &r[1] == mode && &r[3] == seed).unwrap()[16].to_string();
    assert_eq!(floor("gbdt", "0"), floor("improved", "0"));
    assert_eq!(floor("gbdt", "1"), floor("improved", "1"));
    assert_ne!(floor("gbdt", "0"), floor("gbdt", "1"));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("nb201-cifar100: Kendall τ on the held-out architectures") && page.contains("<svg"));

    // Same cells again, same figures (all but the time); the trees' cells only, to keep the test short.
    let csv2 = dir.path().join("again.csv");
    let mut again = args.to_vec();
    again[5] = "gbdt";
    again[13] = csv2.to_str().unwrap();
    again.truncate(14);
    ok(&nar(&again));
    let rows2 = read_csv(&csv2);
    let first: Vec<_> = rows.iter().filter(|r| &r[1] == "gbdt").collect();
    assert_eq!(first.len(), rows2.len());
    for (a, b) in first.iter().zip(&rows2) {
        assert_eq!(a.iter().take(18).collect::<Vec<_>>(), b.iter().take(18).collect::<Vec<_>>());
    }
}

/// The trees' study of the NB101 sample at one budget, one seed.
fn nb101_trees(budget: &str, csv: &std::path::Path) -> std::process::Output {
    let sample = data_file("nb101/nb101_subset_1k.csv");
    let args = ["study", "predictors", "--benchmarks", "nb101", "--modes", "gbdt", "--budgets", budget, "--seeds", "1"];
    let mut args: Vec<&str> = args.to_vec();
    args.extend(["--nb101", sample.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
    nar(&args)
}

#[test]
fn study_on_the_nb101_sample_holds_out_the_rest_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("cells.csv");
    ok(&nb101_trees("424", &csv));
    let rows = read_csv(&csv);
    assert_eq!(rows.len(), 1);
    // NB101's reference proportion 4236 : 1024 gives the 341 / 83 split of budget 424; the other 576
    // labelled cells of the sample are held out.
    assert_eq!((&rows[0][4], &rows[0][5], &rows[0][6]), ("341", "83", "576"));

    // A budget that leaves nothing to hold out is skipped, and said; a study of nothing else is refused.
    let o = nb101_trees("1000", &dir.path().join("x.csv"));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("skipped: nb101 has 1000 labelled architectures: a budget of 1000 leaves none to hold out"),
        "{err}"
    );
    assert!(err.contains("no cell of the study leaves architectures to hold out"), "{err}");
    assert!(!dir.path().join("x.csv").exists());
}

#[test]
fn a_mode_configuration_can_be_replaced_for_ablations() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let trees = root.join("configs/nb201-gbdt.yaml");
    let few = dir.path().join("few-trees.yaml");
    std::fs::write(&few, std::fs::read_to_string(&trees).unwrap().replace("iterations: 500", "iterations: 5")).unwrap();
    let study = |extra: &[&str], csv: &str| {
        let csv = dir.path().join(csv);
        let modes = if extra.contains(&"--modes") { vec![] } else { vec!["--modes", "gbdt"] };
        let benchmarks = if extra.contains(&"--benchmarks") { vec![] } else { vec!["--benchmarks", "nb201-cifar10"] };
        let mut args = vec!["study", "predictors"];
        args.extend(benchmarks);
        args.extend(modes);
        if !extra.contains(&"--budgets") {
            args.extend(["--budgets", "60"]);
        }
        if !extra.contains(&"--seeds") {
            args.extend(["--seeds", "1"]);
        }
        args.extend(["--csv", csv.to_str().unwrap()]);
        args.extend(extra);
        (nar(&args), csv)
    };
    let (o, default) = study(&[], "default.csv");
    ok(&o);
    let (o, fewer) = study(&["--config", &format!("gbdt={}", few.display())], "few.csv");
    ok(&o);
    // The same split (same floor), other trees (another τ).
    let (a, b) = (&read_csv(&default)[0], &read_csv(&fewer)[0]);
    assert_eq!(&a[16], &b[16]);
    assert_ne!(&a[8], &b[8]);
    // A new mode is any name with a configuration: the same cell as the replaced `gbdt`.
    let (o, named) = study(&["--config", &format!("few={}", few.display()), "--modes", "few"], "named.csv");
    ok(&o);
    let c = &read_csv(&named)[0];
    assert_eq!((&c[1], &c[8]), ("few", &b[8]));
    // A configuration of the wrong kind, or an unknown mode, is refused before anything runs.
    let (o, csv) = study(&["--config", &format!("improved={}", trees.display())], "x.csv");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("the improved mode is a `model: transformer` predictor"), "{err}");
    assert!(!csv.exists());
    let (o, csv) = study(&["--modes", "nosuch"], "x.csv");
    assert!(String::from_utf8_lossy(&o.stderr).contains("--modes: unknown mode \"nosuch\""));
    assert!(!csv.exists());
    let nb101 = root.join("configs/nb101-gbdt.yaml");
    for (extra, says) in [
        (vec!["--modes", "gbdt,forest,gbdt"], "--modes: gbdt is listed twice"),
        (vec!["--budgets", "60,100,60"], "--budgets: 60 is listed twice"),
        (vec!["--benchmarks", "nb201-cifar100,nb201-cifar100"], "--benchmarks: nb201-cifar100 is listed twice"),
        (vec!["--seeds", "300000000"], "--seeds must be between 1 and 10000"),
        (vec!["--first-seed", "18446744073709551615", "--seeds", "2"], "within 64 bits"),
        // The study's one benchmark is NB201: an NB101 configuration would never be used.
        (vec!["--config", &format!("gbdt={}", nb101.display())], "a configuration for nb101, but no benchmark"),
        // A budget that cannot be split is refused before the first cell runs.
        (
            vec!["--modes", "gbdt,improved", "--budgets", "60,8"],
            "mode gbdt on nb201-cifar10, budget 8: a budget of 8 is too small",
        ),
    ] {
        let (o, csv) = study(&extra, "x.csv");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(says), "{extra:?}: {err}");
        assert!(!csv.exists(), "{extra:?}: nothing is written");
    }
    // No output onto an input (the configuration, through a link too) or onto the other output.
    let before = std::fs::read(&few).unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&few, &link).unwrap();
    for csv in [few.to_str().unwrap(), link.to_str().unwrap()] {
        let o = nar(&[
            "study",
            "predictors",
            "--benchmarks",
            "nb201-cifar10",
            "--modes",
            "gbdt",
            "--budgets",
            "60",
            "--seeds",
            "1",
            "--config",
            &format!("gbdt={}", few.display()),
            "--csv",
            csv,
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("is the input") && err.contains("few-trees.yaml"), "{err}");
    }
    assert_eq!(std::fs::read(&few).unwrap(), before, "the configuration is untouched");
    let (o, csv) = study(&["--html", dir.path().join("x.csv").to_str().unwrap()], "x.csv");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("is given for two outputs"), "{err}");
    assert!(!csv.exists());
}

/// The transfer mode: every predictor also reads a predictor of CIFAR-10's labels; its rows are
/// `MODE+cifar10`, on the same held-out architectures as the plain mode, and rank CIFAR-100 far better
/// from 60 labels (CIFAR-10's accuracy alone ranks it at τ ≈ 0.87). What it cannot do is exit 2.
#[test]
fn the_transfer_mode_reads_the_source_tasks_labels_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, transfer) = (dir.path().join("plain.csv"), dir.path().join("transfer.csv"));
    let study = |csv: &std::path::Path, extra: &[&str]| {
        let mut args =
            vec!["study", "predictors", "--benchmarks", "nb201-cifar100", "--modes", "forest", "--budgets", "60"];
        args.extend_from_slice(&["--seeds", "1", "--csv", csv.to_str().unwrap()]);
        args.extend_from_slice(extra);
        nar(&args)
    };
    ok(&study(&plain, &[]));
    let html = dir.path().join("transfer.html");
    let args = ["--transfer-from", "cifar10", "--transfer-labels", "2000", "--html", html.to_str().unwrap()];
    let text = ok(&study(&transfer, &args));
    assert!(text.contains("| nb201-cifar100 | forest+cifar10 | 60 | 1 |"), "{text}");
    // The page draws the transfer rows under their own name.
    assert!(std::fs::read_to_string(&html).unwrap().contains("forest+cifar10"));
    let (p, t) = (&read_csv(&plain)[0], &read_csv(&transfer)[0]);
    assert_eq!((&p[1], &t[1]), ("forest", "forest+cifar10"));
    assert_eq!((&p[6], &t[6]), ("15565", "15565"));
    assert_eq!(p[16], t[16], "the same held-out architectures: the same floor");
    let (tau_p, tau_t): (f64, f64) = (p[8].parse().unwrap(), t[8].parse().unwrap());
    assert!(tau_t > tau_p + 0.05, "transfer τ {tau_t} against plain {tau_p}");

    for (extra, says) in [
        (
            vec!["--transfer-from", "cifar100"],
            "--transfer-from cifar100: the nb201-cifar100 benchmark ranks that task itself",
        ),
        (
            vec!["--transfer-from", "mnist"],
            "--transfer-from: nb201 has no task mnist; its tasks: cifar10, cifar100, imagenet16",
        ),
        (
            vec!["--transfer-from", "cifar10", "--transfer-labels", "20000"],
            "--transfer-labels: the nb201 dataset has 15625 architectures labelled for cifar10; give between 2 and 15625",
        ),
    ] {
        let csv = dir.path().join("bad.csv");
        let o = study(&csv, &extra);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{err}");
        assert!(!csv.exists());
    }
    // NB101's sample has one task: nothing to transfer from.
    let csv = dir.path().join("nb101.csv");
    let sample = data_file("nb101/nb101_subset_1k.csv");
    let o = nar(&[
        "study",
        "predictors",
        "--benchmarks",
        "nb101",
        "--nb101",
        sample.to_str().unwrap(),
        "--modes",
        "forest",
        "--budgets",
        "60",
        "--seeds",
        "1",
        "--transfer-from",
        "cifar100",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--transfer-from: nb101 has no task cifar100; its tasks: cifar10")
    );
}
