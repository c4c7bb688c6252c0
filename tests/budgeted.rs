//! Budgeted search: the oracle's rules, the baselines against independently measured figures, nar's
//! guided search, the `nar search --space` command and the user's own oracle with its journal.

mod common;

use std::collections::HashSet;
use std::sync::OnceLock;

use common::{nar, ok};
use nar::data::Dataset;
use nar::search::domain::Domain;
use nar::search::guided::GuidedSettings;
use nar::search::mean_std;
use nar::search::oracle::{Oracle, QueryError, Scorecard, TableEvaluator};
use nar::search::study::{Curve, Method, run_method};
use nar::space::nb201::ImageDataset as Net;
use nar::space::{Nb201, SpaceKind};

fn dataset() -> &'static Dataset<Nb201> {
    static DS: OnceLock<Dataset<Nb201>> = OnceLock::new();
    DS.get_or_init(|| nar::data::embedded::nb201().unwrap())
}

fn column(name: &str) -> Vec<f64> {
    dataset().metric(name).unwrap().to_vec()
}

#[test]
fn the_oracle_counts_distinct_architectures_and_refuses_past_the_budget() {
    let mut eval = TableEvaluator::new(vec![1.0, 5.0, 3.0, 5.0, f64::NAN]);
    let mut o = Oracle::new(&mut eval, 3);
    assert_eq!(o.query(0).unwrap(), 1.0);
    assert_eq!(o.query(1).unwrap(), 5.0);
    // Asking again is free and answers the same.
    assert_eq!(o.query(0).unwrap(), 1.0);
    assert_eq!(o.spent(), 2);
    // An unlabelled architecture is an error, and costs nothing.
    assert!(matches!(o.query(4), Err(QueryError::Failed(_))));
    assert_eq!(o.spent(), 2);
    assert_eq!(o.query(3).unwrap(), 5.0);
    assert!(matches!(o.query(2), Err(QueryError::BudgetSpent { budget: 3 })));
    assert_eq!(o.query(1).unwrap(), 5.0, "known answers stay free after the budget is spent");
    // The pick: the best validation accuracy, the earliest on ties.
    assert_eq!(o.best(), Some((1, 5.0)));
    assert_eq!(o.history(), &[(0, 1.0), (1, 5.0), (3, 5.0)]);
}

#[test]
fn nb201_neighbours_are_the_24_one_op_changes() {
    let ds = dataset();
    let domain = Domain::all(ds);
    for p in [0, 1234, 15_624] {
        let n = domain.neighbours(p);
        assert_eq!(n.len(), 24);
        assert_eq!(n.iter().collect::<HashSet<_>>().len(), 24);
        let a = ds.archs()[p].ops();
        for q in n {
            let b = ds.archs()[q].ops();
            assert_eq!(a.iter().zip(&b).filter(|(x, y)| x != y).count(), 1);
        }
    }
}

/// Mean test accuracy of the incumbent after `q` queries over `seeds` seeds.
fn mean_at(method: Method, net: Net, val: &str, test: &str, budget: usize, seeds: u64, qs: &[usize]) -> Vec<f64> {
    let ds = dataset();
    let domain = Domain::all(ds);
    let card = Scorecard::new(column(test), test);
    let settings = GuidedSettings::for_space(SpaceKind::Nb201);
    let curves: Vec<Curve> = (0..seeds)
        .map(|seed| {
            let mut eval = TableEvaluator::new(column(val));
            let h = run_method(method, &domain, net, &mut eval, budget, seed, &settings).unwrap();
            assert_eq!(h.len(), budget, "{method} spends the whole budget");
            assert_eq!(h.iter().map(|x| x.0).collect::<HashSet<_>>().len(), budget, "{method} queries distinct archs");
            Curve::new(method, seed, &h, Some(&card), 0.0)
        })
        .collect();
    qs.iter().map(|&q| mean_std(&curves.iter().map(|c| c.test_at(q)).collect::<Vec<_>>()).0).collect()
}

#[test]
fn baselines_reproduce_the_independent_measurements() {
    // docs/design.md §8: REA, LS and random search on the NB201 table, measured with an independent
    // implementation over 100 seeds (mean test accuracy of the incumbent at 50 / 100 / 300 queries).
    // Here 100 seeds of nar's own draws: the means agree to within their standard error (≤ 0.1).
    let cases = [
        (Method::Random, Net::Cifar10, [93.64, 93.79, 93.93]),
        (Method::Rea, Net::Cifar10, [93.89, 94.16, 94.34]),
        (Method::Ls, Net::Cifar10, [93.61, 94.08, 94.36]),
        (Method::Rea, Net::Cifar100, [71.72, 72.58, 73.29]),
        (Method::Ls, Net::ImageNet16, [44.82, 45.82, 46.37]),
    ];
    for (method, net, want) in cases {
        let (val, test) = (format!("{}_val_acc", net.name()), format!("{}_test_acc", net.name()));
        let got = mean_at(method, net, &val, &test, 300, 100, &[50, 100, 300]);
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 0.25, "{method} {net}: {got:?}, expected {want:?}");
        }
    }
}

#[test]
fn guided_search_spends_its_budget_on_distinct_architectures_deterministically() {
    let ds = dataset();
    let domain = Domain::all(ds);
    let settings = GuidedSettings::for_space(SpaceKind::Nb201);
    let run = |seed| {
        let mut eval = TableEvaluator::new(column("cifar10_val_acc"));
        run_method(Method::Nar, &domain, Net::Cifar10, &mut eval, 40, seed, &settings).unwrap()
    };
    let a = run(3);
    assert_eq!(a.len(), 40);
    assert_eq!(a.iter().map(|x| x.0).collect::<HashSet<_>>().len(), 40);
    assert_eq!(a, run(3), "same seed, same queries");
    assert_ne!(a, run(4));
    // After the `init` random queries it queries the ranker's choice among candidates that are mostly
    // neighbours of the best architectures queried so far.
    let near = (settings.init..a.len())
        .filter(|&i| a[..i].iter().any(|&(p, _)| domain.neighbours(p).contains(&a[i].0)))
        .count();
    assert!(near * 2 >= a.len() - settings.init, "{near} of {} are neighbours", a.len() - settings.init);
}

#[test]
fn search_command_writes_the_curves_and_refuses_nonsense() {
    let dir = tempfile::tempdir().unwrap();
    let curve = dir.path().join("curve.csv");
    let json = dir.path().join("study.json");
    let html = dir.path().join("study.html");
    let text = ok(&nar(&[
        "search",
        "--space",
        "nb201",
        "--method",
        "all",
        "--budget",
        "30",
        "--seeds",
        "2",
        "--curve",
        curve.to_str().unwrap(),
        "-o",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]));
    assert!(text.contains("pool 15625 architectures (the whole space)"), "{text}");
    let csv = std::fs::read_to_string(&curve).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("method,seed,queries,best_val,best_test"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4 * 2 * 30);
    for run in rows.chunks(30) {
        assert_eq!(run[0][2], "1");
        assert_eq!(run[29][2], "30");
        let vals: Vec<f64> = run.iter().map(|r| r[3].parse().unwrap()).collect();
        assert!(vals.windows(2).all(|w| w[1] >= w[0]), "the incumbent never gets worse");
    }
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(summary["table"].as_array().unwrap().len(), 4);
    assert_eq!(summary["picks"].as_array().unwrap().len(), 8);
    let page = std::fs::read_to_string(&html).unwrap();
    let svg_start = page.find("<svg").unwrap();
    let svg_end = page.find("</svg>").unwrap() + 6;
    roxmltree::Document::parse(&page[svg_start..svg_end]).unwrap();
    // Usage errors exit 2.
    for args in [&["search", "--space", "nb201", "--seeds", "0"][..], &["search", "--space", "nb201", "--budget", "0"]]
    {
        assert_eq!(nar(args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn the_users_oracle_command_is_journaled_and_resumes_without_retraining() {
    let dir = tempfile::tempdir().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/nb201_table.sh");
    let journal = dir.path().join("journal.jsonl");
    let calls = dir.path().join("calls.log");
    let oracle = format!("NAR_ORACLE_LOG={} sh {} {{arch}}", calls.display(), script.display());
    // REA, 20 queries, one seed; `oracle` adds the command and its journal.
    let rea = |curve: &std::path::Path, oracle: &[&str]| {
        let mut args = vec!["search", "--space", "nb201", "--method", "rea", "--budget", "20", "--seeds", "1"];
        args.extend(oracle);
        args.extend(["--curve", curve.to_str().unwrap()]);
        ok(&nar(&args))
    };
    let search =
        |curve: &std::path::Path| rea(curve, &["--oracle-cmd", &oracle, "--journal", journal.to_str().unwrap()]);
    search(&dir.path().join("a.csv"));
    let count = |p: &std::path::Path| std::fs::read_to_string(p).unwrap().lines().count();
    assert_eq!(count(&calls), 20);
    assert_eq!(count(&journal), 20);
    // The same search through the table oracle queries the same architectures in the same order: the
    // command's answers are the table's.
    let table_curve = dir.path().join("t.csv");
    rea(&table_curve, &[]);
    let vals = |p: &std::path::Path| -> Vec<String> {
        std::fs::read_to_string(p).unwrap().lines().skip(1).map(|l| l.split(',').nth(3).unwrap().to_string()).collect()
    };
    assert_eq!(vals(&dir.path().join("a.csv")), vals(&table_curve));
    // Interrupted after 12 answers: the rerun trains only the 8 missing ones.
    let kept: Vec<String> = std::fs::read_to_string(&journal).unwrap().lines().take(12).map(String::from).collect();
    std::fs::write(&journal, kept.join("\n") + "\n").unwrap();
    std::fs::remove_file(&calls).unwrap();
    search(&dir.path().join("b.csv"));
    assert_eq!(count(&calls), 8);
    assert_eq!(vals(&dir.path().join("b.csv")), vals(&table_curve));
    // A command without {arch}, or one that prints no number, is refused with the reason.
    let o = nar(&["search", "--space", "nb201", "--budget", "5", "--seeds", "1", "--oracle-cmd", "echo 1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("must contain {arch}"));
    let o = nar(&[
        "search",
        "--space",
        "nb201",
        "--method",
        "random",
        "--budget",
        "5",
        "--seeds",
        "1",
        "--oracle-cmd",
        "echo oops {arch}",
        "--journal",
        dir.path().join("j2.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not an accuracy"), "{}", String::from_utf8_lossy(&o.stderr));
}
