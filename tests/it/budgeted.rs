//! Budgeted search: the oracle's rules, the baselines against independently measured figures, nar's
//! guided search, the `nar search --space` command and the user's own oracle with its journal.

use crate::common;

use std::collections::HashSet;

use common::{nar, ok};
use nar::search::budgeted::{Curve, Method, RunHistory, Setup, run_method};
use nar::search::domain::{Bound, Constraint, Domain, Equivalence};
use nar::search::guided::GuidedSettings;
use nar::search::inputs::FeatureCache;
use nar::search::oracle::{Oracle, QueryError, Scorecard, TableEvaluator};
use nar::space::{SearchSpace, SpaceKind};
use nar::spaces::Nb201;
use nar::spaces::nb201::ImageDataset as Net;
use nar::stats::mean_std;

fn column(name: &str) -> Vec<f64> {
    common::nb201_table().metric(name).unwrap().to_vec()
}

/// Runs `method` on `domain` with the table's `val` column: the query history.
fn run_on(
    domain: &Domain<Nb201>,
    net: Net,
    method: Method,
    budget: usize,
    batch: Option<usize>,
    seed: u64,
) -> Vec<(usize, f64)> {
    let settings = GuidedSettings::for_space(SpaceKind::Nb201);
    let features = FeatureCache::new(common::nb201_table().archs(), net);
    let setup = Setup { domain, features: &features, network: net, budget, batch, guided: &settings, costs: None };
    let mut eval = TableEvaluator::new(column(&format!("{}_val_acc", net.name())));
    run_method(method, &setup, &mut eval, seed).unwrap().answered
}

#[test]
fn the_oracle_counts_distinct_architectures_and_refuses_past_the_budget() {
    let mut eval = TableEvaluator::new(vec![1.0, 5.0, 3.0, 5.0, f64::NAN]);
    let mut o = Oracle::new(&mut eval, 4);
    assert_eq!(o.query(0).unwrap(), 1.0);
    assert_eq!(o.query(1).unwrap(), 5.0);
    // Asking again is free and answers the same.
    assert_eq!(o.query(0).unwrap(), 1.0);
    assert_eq!(o.spent(), 2);
    // An unlabelled architecture fails: its query is spent, asking again answers the failure, free.
    assert!(matches!(o.query(4), Err(QueryError::Failed(r)) if r.contains("position 4 has no validation accuracy")));
    assert!(matches!(o.query(4), Err(QueryError::Failed(_))));
    assert_eq!((o.spent(), o.answered(), o.failures().len()), (3, 2, 1));
    assert_eq!(o.query(3).unwrap(), 5.0);
    assert!(matches!(o.query(2), Err(QueryError::BudgetSpent { budget: 4 })));
    assert_eq!(o.query(1).unwrap(), 5.0, "known answers stay free after the budget is spent");
    // The pick: the best validation accuracy, the earliest on ties; a failed query is never picked.
    assert_eq!(o.best(), Some((1, 5.0)));
    assert_eq!(o.history(), [(0, 1.0), (1, 5.0), (3, 5.0)]);
    // An oracle whose first queries all fail is broken, not the architectures: the search stops.
    let mut eval = TableEvaluator::new(vec![f64::NAN; 10]);
    let mut o = Oracle::new(&mut eval, 10);
    let e = o.ask_all(&[0, 1, 2, 3, 4, 5]).err().unwrap().to_string();
    assert!(
        e.starts_with("the oracle's first 5 queries all failed; the last one: the architecture at position 4"),
        "{e}"
    );
}

#[test]
fn nb201_neighbours_are_the_24_one_op_changes() {
    let ds = common::nb201_table();
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
    let domain = Domain::all(common::nb201_table());
    let card = Scorecard::new(column(test), test);
    assert_eq!(val, format!("{}_val_acc", net.name()));
    let curves: Vec<Curve> = (0..seeds)
        .map(|seed| {
            let h = run_on(&domain, net, method, budget, None, seed);
            assert_eq!(h.len(), budget, "{method} spends the whole budget");
            assert_eq!(h.iter().map(|x| x.0).collect::<HashSet<_>>().len(), budget, "{method} queries distinct archs");
            Curve::new(method, seed, &RunHistory::answered(h), Some(&card), 0.0)
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
fn guided_search_spends_its_budget_on_distinct_functions_deterministically() {
    let ds = common::nb201_table();
    let domain = Domain::all(ds).with_equivalence(Equivalence::Canonical);
    let run = |seed| run_on(&domain, Net::Cifar10, Method::Nar, 40, None, seed);
    let a = run(3);
    assert_eq!(a.len(), 40);
    let functions: HashSet<_> = a.iter().map(|x| ds.archs()[x.0].function()).collect();
    assert_eq!(functions.len(), 40, "no two queries compute the same function");
    assert_eq!(a, run(3), "same seed, same queries");
    assert_ne!(a, run(4));
    // After the random start, it queries what the predictor scores best: better than the start.
    let settings = GuidedSettings::for_space(SpaceKind::Nb201);
    let (start, rest) = a.split_at(settings.init);
    let mean = |h: &[(usize, f64)]| h.iter().map(|x| x.1).sum::<f64>() / h.len() as f64;
    assert!(mean(rest) > mean(start) + 2.0, "guided {:.2} vs random start {:.2}", mean(rest), mean(start));
}

#[test]
fn equivalent_cells_are_one_query_for_every_method() {
    let ds = common::nb201_table();
    let domain = Domain::all(ds).with_equivalence(Equivalence::Canonical);
    assert_eq!(domain.distinct(), 4660);
    for method in Method::ALL {
        let h = run_on(&domain, Net::Cifar10, method, 60, None, 1);
        assert_eq!(h.len(), 60, "{method}");
        let classes: HashSet<u32> = h.iter().map(|x| domain.class(x.0)).collect();
        assert_eq!(classes.len(), 60, "{method} queried two equivalent cells");
    }
    // The oracle answers an equivalent cell from the one queried, free.
    let val = column("cifar10_val_acc");
    let mut eval = TableEvaluator::new(val.clone());
    let mut o = Oracle::with_classes(&mut eval, 5, domain.classes(), domain.stand_ins());
    let (a, b) =
        (ds.position(&1).unwrap(), (0..ds.len()).find(|&q| q != 1 && domain.class(q) == domain.class(1)).unwrap());
    let v = o.query(a).unwrap();
    assert_eq!(o.query(b).unwrap(), v);
    assert_eq!(o.spent(), 1);
    assert!(o.is_queried(b));
    // Whichever member is asked first, the class's canonical cell is what is evaluated: a cell whose
    // own table entry differs from its canonical cell's is answered with the canonical cell's.
    let archs = ds.archs();
    let canonical = |p: usize| ds.position(&<Nb201 as SearchSpace>::canonical(&archs[p]).index()).unwrap();
    let b = (0..ds.len()).find(|&q| canonical(q) != q && val[q] != val[canonical(q)]).unwrap();
    let c = canonical(b);
    let mut eval = TableEvaluator::new(val.clone());
    let mut o = Oracle::with_classes(&mut eval, 5, domain.classes(), domain.stand_ins());
    assert_eq!(o.query(b).unwrap(), val[c]);
    assert_eq!(o.history(), [(c, val[c])]);
    assert_eq!(o.query(c).unwrap(), val[c]);
    assert_eq!(o.spent(), 1);
}

/// nar's guided search for the front (`mo-nar`) spends its budget on distinct functions, the same seed
/// the same queries, and its fronts cover more of the true front's hypervolume than random search's on
/// the same seeds.
#[test]
fn the_guided_front_search_spends_distinct_queries_and_beats_random_search() {
    let ds = common::nb201_table();
    let net = Net::Cifar10;
    let domain = Domain::all(ds).with_equivalence(Equivalence::Canonical);
    let val = column("cifar10_val_acc");
    let costs: Vec<Vec<f64>> = ds
        .archs()
        .iter()
        .map(|a| vec![<Nb201 as nar::benchmark::Benchmark>::cost(a, net).total_flops as f64])
        .collect();
    let objectives = nar::search::front::Objectives {
        names: vec!["val".into(), "flops".into()],
        values: (0..ds.len()).map(|p| vec![-val[p], costs[p][0]]).collect(),
    };
    let front = nar::search::front::TrueFront::of(&objectives, domain.representatives()).unwrap();
    assert_eq!(front.members.len(), 14, "NB201 CIFAR-10's front of val against FLOPs over its 4,660 classes");
    let settings = GuidedSettings::for_space(SpaceKind::Nb201);
    let features = FeatureCache::new(ds.archs(), net);
    let setup = Setup {
        domain: &domain,
        features: &features,
        network: net,
        budget: 64,
        batch: None,
        guided: &settings,
        costs: Some(&costs),
    };
    let run = |method, seed| {
        let mut eval = TableEvaluator::new(val.clone());
        run_method(method, &setup, &mut eval, seed).unwrap()
    };
    let hv = |method| {
        (0..3)
            .map(|seed| {
                let h = run(method, seed);
                assert_eq!(h.answered.len(), 64, "{method}");
                let classes: HashSet<u32> = h.answered.iter().map(|x| domain.class(x.0)).collect();
                assert_eq!(classes.len(), 64, "{method} queried two equivalent cells");
                let queried: Vec<usize> = h.answered.iter().map(|x| x.0).collect();
                front.measure(&objectives, &queried, domain.classes()).hypervolume
            })
            .sum::<f64>()
            / 3.0
    };
    assert_eq!(run(Method::MoNar, 7).answered, run(Method::MoNar, 7).answered, "same seed, same queries");
    let (guided, random) = (hv(Method::MoNar), hv(Method::Random));
    assert!(guided > random + 0.03, "mo-nar {guided:.3} vs random {random:.3}");
}

#[test]
fn batches_and_constraints_hold_for_every_method() {
    let ds = common::nb201_table();
    let net = Net::Cifar10;
    let c = Constraint::model(Some(600_000), None);
    let domain = Domain::all(ds).constrained(&c, net, None).unwrap().with_equivalence(Equivalence::Canonical);
    // docs/design.md §3: 13,075 NB201 cells have at most 600,000 parameters on CIFAR-10.
    assert_eq!(domain.size(), 13_075);
    for method in Method::ALL {
        for batch in [1, 4] {
            let h = run_on(&domain, net, method, 50, Some(batch), 2);
            assert_eq!(h.len(), 50, "{method} batch {batch}");
            for &(p, _) in &h {
                let cost = <Nb201 as nar::benchmark::Benchmark>::cost(&ds.archs()[p], net);
                assert!(cost.total_params <= 600_000, "{method} queried {} params", cost.total_params);
            }
        }
    }
    // REA in batches of 4 breeds 4 children from one population: another sequence than one at a time.
    assert_ne!(run_on(&domain, net, Method::Rea, 50, Some(4), 2), run_on(&domain, net, Method::Rea, 50, Some(1), 2));
    let none = Constraint::model(Some(1), None);
    let e = Domain::all(ds).constrained(&none, net, None).err().unwrap().to_string();
    assert_eq!(e, "no architecture of the 15625 in the pool meets the constraint (params ≤ 1)");
    // Any cost column of the dataset bounds the pool too (the table's training time here), with the
    // cost model's: exactly the architectures within both.
    let time = "cifar10_valid_train_time_200ep_s";
    let bounds = vec![Bound::parse(&format!("{time}=1500")).unwrap(), Bound::parse("params=600000").unwrap()];
    let c = Constraint::new(bounds).unwrap();
    let domain = Domain::all(ds).constrained(&c, net, Some(ds)).unwrap();
    let col = ds.metric(time).unwrap();
    let within = (0..ds.len())
        .filter(|&p| {
            col[p] <= 1500.0 && <Nb201 as nar::benchmark::Benchmark>::cost(&ds.archs()[p], net).total_params <= 600_000
        })
        .count();
    assert!(within > 1000 && within < 13_075, "{within}");
    assert_eq!(domain.size(), within);
    assert_eq!(c.to_string(), format!("{time} ≤ 1500, params ≤ 600000"));
    // An accuracy is not a cost; an unknown cost names the costs there are; a cost bounded twice.
    let refused = |spec: &str| {
        let c = Constraint::new(vec![Bound::parse(spec).unwrap()]).unwrap();
        Domain::all(ds).constrained(&c, net, Some(ds)).err().unwrap().to_string()
    };
    assert!(refused("cifar10_val_acc=50").contains("an accuracy is not a cost"));
    assert_eq!(refused("latency=1"), format!("--max latency: no such cost; costs: params, flops, {time}"));
    let twice = vec![Bound::parse("params=1").unwrap(), Bound::parse("params=2").unwrap()];
    assert_eq!(Constraint::new(twice).unwrap_err(), "params is bounded twice");
    assert_eq!(Bound::parse("params").unwrap_err(), "\"params\": expected NAME=VALUE (e.g. params=600000)");
    assert!(Bound::parse("params=-1").is_err() && Bound::parse("params=inf").is_err());
    // A summary the first releases wrote reads as the same constraint.
    let old: Constraint = serde_json::from_str(r#"{"max_params": 600000, "max_flops": null}"#).unwrap();
    assert_eq!(old, Constraint::model(Some(600_000), None));
    let again: Constraint = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(again, c);
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
    assert!(
        text.contains(
            "pool 15625 architectures (the whole space, 4660 distinct functions, equivalent cells one query)"
        ),
        "{text}"
    );
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
    let sp = ["search", "--space", "nb201", "--budget", "20"];
    let bad: [&[&str]; 9] = [
        &["--seeds", "0"],
        &["--seeds", "300000000"],
        &["--budget", "0"],
        &["--batch", "0"],
        &["--max-params", "-5"],
        &["--max-flops", "many"],
        &["--first-seed", "-1"],
        &["--equivalence", "iso"],
        &["--guided", "acquisition=greedy"],
    ];
    for extra in bad {
        let args: Vec<&str> = sp.iter().chain(extra).copied().collect();
        let o = nar(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
    // No output onto an input (a metrics file, through a link too) or onto another output.
    let metrics = dir.path().join("sample.csv");
    std::fs::copy(common::data_file("nb101/nb101_subset_1k.csv"), &metrics).unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&metrics, &link).unwrap();
    let before = std::fs::read(&metrics).unwrap();
    let m = metrics.to_str().unwrap();
    for (out_flag, target) in [("--curve", m), ("-o", link.to_str().unwrap()), ("--html", m)] {
        let o = nar(&["search", "--space", "nb101", "-m", m, "--budget", "5", "--seeds", "1", out_flag, target]);
        assert_eq!(o.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&o.stderr).contains("is the input"), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(std::fs::read(&metrics).unwrap(), before, "the input is untouched");
    let twice = dir.path().join("twice.json");
    let t = twice.to_str().unwrap();
    let o = nar(&["search", "--space", "nb201", "--budget", "5", "--seeds", "1", "-o", t, "--curve", t]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("is given for two outputs"));
    assert!(!twice.exists());
    // The task: `--task` and its old name `--dataset` are one flag, written `network` in the summary as
    // before; a task the space does not have is refused naming the ones it has; an unknown name is a
    // usage error listing every space's tasks.
    let mut summaries = Vec::new();
    for flag in ["--task", "--dataset"] {
        let out = dir.path().join(format!("task{flag}.json"));
        let o = nar(&[
            "search",
            "--space",
            "nb201",
            "--budget",
            "5",
            "--seeds",
            "1",
            flag,
            "cifar100",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!((s["network"].as_str(), s["val_metric"].as_str()), (Some("cifar100"), Some("cifar100_val_acc")));
        // The picks and every method's curve (not its timing).
        let curves: Vec<serde_json::Value> =
            s["table"].as_array().unwrap().iter().map(|r| r["cells"].clone()).collect();
        summaries.push((s["picks"].clone(), curves));
    }
    assert_eq!(summaries[0], summaries[1]);
    let o = nar(&["search", "--space", "nb101", "-m", m, "--budget", "5", "--seeds", "1", "--task", "cifar100"]);
    assert_eq!(o.status.code(), Some(2), "a task the space does not have is a usage error");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("NAS-Bench-101 has only the cifar10 network, not cifar100"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = nar(&["search", "--space", "nb201", "--task", "mnist"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--task: nb201 has no task mnist; its tasks: cifar10, cifar100, imagenet16"), "{err}");
    // Budgeted-search flags without --space (with a run directory) are refused, not ignored.
    for flag in [&["--method", "rea"][..], &["--budget", "10"], &["--batch", "2"], &["-o", "x.json"]] {
        let args: Vec<&str> = ["search", "some-run"].iter().chain(flag).copied().collect();
        assert_eq!(nar(&args).status.code(), Some(2), "{args:?}");
    }
    // Errors the arguments only show together: named, nothing written.
    let out = dir.path().join("none.json");
    for (extra, says) in [
        (&["--batch", "21"][..], "the batch must hold 1 to 20 architectures (the budget), found 21"),
        (&["--max-params", "10"], "no architecture of the 15625 in the pool meets the constraint (params ≤ 10)"),
        (&["--max", "params=10"], "no architecture of the 15625 in the pool meets the constraint (params ≤ 10)"),
        (&["--max", "params=10", "--max-params", "5"], "--max: params is bounded twice"),
        (&["--max", "cifar10_val_acc=50"], "an accuracy is not a cost"),
        (&["--first-seed", "18446744073709551615", "--seeds", "2"], "run past the largest seed"),
        (&["--method", "nar", "--guided", "kappa=1,kappa=2"], "--guided \"kappa=1,kappa=2\": kappa is given twice"),
        (
            &["--method", "nar", "--batch", "4", "--guided", "per_round=5"],
            "sets per_round, and --batch 4 sets the round size too",
        ),
        (
            &["--method", "nar", "--guided", "parents=0,far_parents=0,sampled=0,random=0,local=0,score_all=100"],
            "no candidate source is left (parents, far_parents, sampled, random and local are 0) and the pool of 15625",
        ),
    ] {
        let mut args: Vec<&str> = sp.iter().chain(extra).copied().collect();
        args.extend(["-o", out.to_str().unwrap()]);
        let o = nar(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(says), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(!out.exists());
    }
    let o = nar(&["search", "--space", "nb201", "--budget", "5000", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let says =
        "the budget of 5000 queries is more than the pool holds: 4660 distinct queries among its 15625 architectures";
    assert!(String::from_utf8_lossy(&o.stderr).contains(says), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.exists());
}

#[test]
fn the_users_oracle_command_is_journaled_and_resumes_without_retraining() {
    let dir = tempfile::tempdir().unwrap();
    let script = table_oracle();
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
    assert_eq!(count(&journal), 21, "a header and 20 answers");
    // The same search through the table oracle queries the same architectures in the same order: the
    // command's answers are the table's.
    let table_curve = dir.path().join("t.csv");
    rea(&table_curve, &[]);
    let vals = |p: &std::path::Path| -> Vec<String> {
        std::fs::read_to_string(p).unwrap().lines().skip(1).map(|l| l.split(',').nth(3).unwrap().to_string()).collect()
    };
    assert_eq!(vals(&dir.path().join("a.csv")), vals(&table_curve));
    // Interrupted after 12 answers: the rerun trains only the 8 missing ones.
    let kept: Vec<String> = std::fs::read_to_string(&journal).unwrap().lines().take(13).map(String::from).collect();
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

/// The journal as a hostile user (or a crash) leaves it: a torn last line is dropped and reported, a torn
/// line elsewhere, an entry whose architecture is not its id's, or an answer off the accuracy range is an
/// error naming the line; a second search on a journal in use is refused; an unwritable journal is refused
/// before any training.
#[test]
fn the_journal_is_checked_locked_and_resumes_past_a_torn_line() {
    use nar::search::command::{CommandEvaluator, CommandOptions};
    use nar::search::journal::Header;
    let ds = nar::spaces::nb201::embedded::nb201().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let cmd = "echo 50 # {arch}";
    let header = |command: &str, dataset: &str| {
        let h = Header {
            nar_journal: 1,
            space: "nb201".into(),
            dataset: dataset.into(),
            command: command.into(),
            declaration: None,
        };
        serde_json::to_string(&h).unwrap() + "\n"
    };
    let entry = |i: usize, val: f64| format!("{{\"id\":\"{i}\",\"arch\":\"{}\",\"val\":{val:?}}}\n", ds.archs()[i]);
    let open_with = |text: &str, command: &str, reuse: bool| {
        std::fs::write(&journal, text).unwrap();
        let options = CommandOptions { journal_reuse: reuse, ..CommandOptions::default() };
        CommandEvaluator::new(&ds, command, &journal, "cifar10", &options).map_err(|e| format!("{e:#}"))
    };
    let open = |text: &str| open_with(&(header(cmd, "cifar10") + text), cmd, false);
    // Two answers and half of a third (no line end): the half is dropped, the two are kept.
    let torn = format!("{}{}{{\"id\":\"9\",\"ar", entry(3, 91.0), entry(7, 85.5));
    let mut e = open(&torn).unwrap();
    assert_eq!((e.journaled(), e.dropped_line()), (2, Some(4)));
    // The fragment is cut off the file: the next answer starts a line of its own, and the journal
    // reads back whole, with it.
    let whole = header(cmd, "cifar10") + &entry(3, 91.0) + &entry(7, 85.5);
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), whole);
    let mut oracle = Oracle::new(&mut e, 5);
    assert_eq!(oracle.query(9).unwrap(), 50.0);
    drop(oracle);
    drop(e);
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.starts_with(&whole) && text.ends_with('\n') && text.lines().count() == 4, "{text}");
    let e = open_with(&text, cmd, false).unwrap();
    assert_eq!((e.journaled(), e.dropped_line()), (3, None));
    drop(e);
    // A whole last entry that only lacks its line end is kept, and given one.
    let e = open(&(entry(3, 91.0) + entry(7, 85.5).trim_end())).unwrap();
    assert_eq!((e.journaled(), e.dropped_line()), (2, None));
    drop(e);
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), whole);
    // A journal whose only line was a torn fragment is cut to nothing and gets its header.
    let e = open_with("{\"id\":\"9\",\"ar", cmd, true).unwrap();
    assert_eq!((e.journaled(), e.dropped_line()), (0, Some(1)));
    drop(e);
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), header(cmd, "cifar10"));
    // The same torn line in the middle is no crash's doing.
    let e = open(&format!("{}{{\"id\":\"9\",\"ar\n{}", entry(3, 91.0), entry(7, 85.5))).err().unwrap();
    assert!(e.contains("j.jsonl") && e.contains("line 3: not a journal entry"), "{e}");
    let wrong_arch = entry(3, 91.0).replace("\"3\"", "\"4\"");
    let e = open(&wrong_arch).err().unwrap();
    assert!(e.contains("line 2: field `arch`") && e.contains("is not the architecture of id 4"), "{e}");
    let e = open(&entry(3, 250.0)).err().unwrap();
    assert!(e.contains("line 2: field `val`: 250 is not an accuracy (0 to 100)"), "{e}");
    // Two different answers for one architecture are refused, naming both lines; the same one twice is kept.
    let e = open(&(entry(3, 91.0) + &entry(7, 85.5) + &entry(3, 90.0))).err().unwrap();
    assert!(e.contains("line 4: field `val`: 90 answers id 3 again, which line 2 answered 91"), "{e}");
    assert_eq!(open(&(entry(3, 91.0) + &entry(3, 91.0))).unwrap().journaled(), 1);
    // An id spelled otherwise than nar writes it (it would be looked up under another key and ignored).
    let e = open(&entry(3, 91.0).replace("\"id\":\"3\"", "\"id\":\"003\"")).err().unwrap();
    assert!(e.contains("line 2: field `id`: \"003\" is not written as nar writes this id (\"3\")"), "{e}");
    // The header names what the answers are answers to: another dataset is refused, another command
    // (or no header, an earlier release's journal) unless --journal-reuse.
    let e = open_with(&(header(cmd, "cifar100") + &entry(3, 91.0)), cmd, true).err().unwrap();
    assert!(e.contains("it holds answers on dataset cifar100; this search is on cifar10"), "{e}");
    let other = header("python train.py {arch}", "cifar10") + &entry(3, 91.0);
    let e = open_with(&other, cmd, false).err().unwrap();
    assert!(
        e.contains("\"python train.py {arch}\"") && e.contains("\"echo 50 # {arch}\"") && e.contains("--journal-reuse"),
        "{e}"
    );
    assert_eq!(open_with(&other, cmd, true).unwrap().journaled(), 1);
    let e = open_with(&entry(3, 91.0), cmd, false).err().unwrap();
    assert!(e.contains("it has no header line") && e.contains("--journal-reuse"), "{e}");
    assert_eq!(open_with(&entry(3, 91.0), cmd, true).unwrap().journaled(), 1);
    // While one search holds the journal, a second is refused; once it is done, the journal is free.
    let first = open(&entry(3, 91.0)).unwrap();
    let e = CommandEvaluator::new(&ds, cmd, &journal, "cifar10", &CommandOptions::default())
        .map_err(|e| format!("{e:#}"))
        .err()
        .unwrap();
    assert!(e.contains("another search is using it"), "{e}");
    drop(first);
    let mut again = CommandEvaluator::new(&ds, cmd, &journal, "cifar10", &CommandOptions::default()).unwrap();
    // The journal's answer is returned without running the command; a new one is run and appended,
    // with the time it took.
    let mut oracle = Oracle::new(&mut again, 5);
    assert_eq!(oracle.query(3).unwrap(), 91.0);
    assert_eq!(oracle.query(5).unwrap(), 50.0);
    drop(oracle);
    drop(again);
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.starts_with(&(header(cmd, "cifar10") + &entry(3, 91.0))), "{text}");
    let last: serde_json::Value = serde_json::from_str(text.lines().nth(2).unwrap()).unwrap();
    assert_eq!((last["id"].as_str(), last["val"].as_f64()), (Some("5"), Some(50.0)), "{text}");
    assert!(last["wall_s"].as_f64().is_some_and(|w| (0.0..30.0).contains(&w)), "{text}");
    // An answer off the range is a failed call, journaled with its reason, never an accuracy; a new
    // journal starts with its header.
    std::fs::write(&journal, "").unwrap();
    let big_cmd = "echo 250 # {arch}";
    let mut big = CommandEvaluator::new(&ds, big_cmd, &journal, "cifar10", &CommandOptions::default()).unwrap();
    let mut oracle = Oracle::new(&mut big, 5);
    let e = oracle.query(5).err().unwrap().to_string();
    assert!(e.contains("printed 250") && e.contains("not an accuracy (0 to 100)"), "{e}");
    drop(oracle);
    drop(big);
    let text = std::fs::read_to_string(&journal).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!((lines.len(), lines[0]), (2, header(big_cmd, "cifar10").trim_end()), "{text}");
    assert!(lines[1].contains("\"failed\":\"the oracle command printed 250") && !lines[1].contains("\"val\""));
    // The failure is journaled: reopened, it answers as failed without running the command (no
    // retries), or runs it again with `retries` left.
    let mut j = CommandEvaluator::new(&ds, big_cmd, &journal, "cifar10", &CommandOptions::default()).unwrap();
    assert!(matches!(Oracle::new(&mut j, 5).query(5), Err(QueryError::Failed(r)) if r.contains("printed 250")));
    drop(j);
    assert_eq!(std::fs::read_to_string(&journal).unwrap().lines().count(), 2, "nothing was run");
    let retry = CommandOptions { retries: 2, ..CommandOptions::default() };
    let mut j = CommandEvaluator::new(&ds, big_cmd, &journal, "cifar10", &retry).unwrap();
    assert!(Oracle::new(&mut j, 5).query(5).is_err());
    drop(j);
    assert_eq!(std::fs::read_to_string(&journal).unwrap().lines().count(), 4, "two more attempts, journaled");
    // An entry holds an answer or a failure.
    let e = open(&entry(3, 91.0).replace("\"val\":91.0", "\"val\":91.0,\"failed\":\"x\"")).err().unwrap();
    assert!(e.contains("line 2: an entry holds either `val` (an answer) or `failed` (its reason)"), "{e}");
    // A journal that cannot be written is refused before any training.
    let e =
        CommandEvaluator::new(&ds, cmd, &dir.path().join("no/such/dir/j.jsonl"), "cifar10", &CommandOptions::default())
            .map_err(|e| format!("{e:#}"))
            .err()
            .unwrap();
    assert!(e.contains("cannot open the journal") && e.contains("for writing"), "{e}");
}

/// Whether process `pid` is gone (or a zombie nobody has reaped yet).
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// The oracle script that answers from the NB201 table (`tests/oracle/nb201_table.sh`).
fn table_oracle() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/nb201_table.sh")
}

/// `nar search` with random search on NB201 through `oracle`, `parallel` calls at once, journaled in
/// `journal`; `extra` arguments after.
fn random_oracle_search<'a>(
    budget: &'a str,
    parallel: &'a str,
    oracle: &'a str,
    journal: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec!["search", "--space", "nb201", "--method", "random", "--budget", budget, "--seeds", "1"];
    args.extend(["--parallel", parallel, "--oracle-cmd", oracle, "--journal", journal]);
    args.extend(extra);
    args
}

/// Starts nar in the background with its standard output discarded (`stderr` as given).
fn spawn_nar(args: &[&str], stderr: std::process::Stdio) -> std::process::Child {
    common::nar_command(args).stdout(std::process::Stdio::null()).stderr(stderr).spawn().unwrap()
}

fn wait_until(what: &str, ok: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !ok() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The oracle command as a training job: its standard error reaches the user as it runs, its standard
/// output is read with a bound (the last line counts), `--timeout` stops it and everything it started,
/// and SIGTERM to nar stops the command's whole process group (no training left running).
#[test]
fn the_oracle_command_streams_its_errors_is_bounded_timed_and_stopped_with_nar() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let search = |oracle: &str, extra: &[&str]| {
        let mut args = vec!["search", "--space", "nb201", "--method", "random", "--budget", "2", "--seeds", "1"];
        args.extend(["--oracle-cmd", oracle, "--journal", journal.to_str().unwrap()]);
        args.extend(extra);
        nar(&args)
    };
    // 300 kB of output before the answer: only the tail is kept, and its last line is the answer.
    let chatty = "echo training-progress >&2; head -c 300000 /dev/zero | tr '\\0' x; echo; echo 61.5 # {arch}";
    let (curve, html) = (dir.path().join("c.csv"), dir.path().join("p.html"));
    let o = search(chatty, &["--curve", curve.to_str().unwrap(), "--html", html.to_str().unwrap()]);
    ok(&o);
    assert_eq!(String::from_utf8_lossy(&o.stderr).matches("training-progress").count(), 2);
    let text = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(text.lines().skip(1).filter(|l| l.contains("\"val\":61.5")).count(), 2, "{text}");
    // Without a test accuracy the curve leaves its field empty and the page draws the validation
    // accuracy: no NaN anywhere.
    let csv = std::fs::read_to_string(&curve).unwrap();
    assert_eq!(csv.lines().skip(1).collect::<Vec<_>>(), ["random,0,1,61.5,", "random,0,2,61.5,"], "{csv}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("NaN") && page.contains("61.5"), "the page has NaN or lacks the answer");
    // Past --timeout the call is stopped with what it started (the background sleep), and the search
    // stops with the reason.
    let pidfile = dir.path().join("pid");
    let sleeper = format!("sleep 60 & echo $! > {}; wait # {{arch}}", pidfile.display());
    std::fs::remove_file(&journal).unwrap();
    let started = std::time::Instant::now();
    let o = search(&sleeper, &["--timeout", "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("ran past --timeout 1 s"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let pid = std::fs::read_to_string(&pidfile).unwrap().trim().to_string();
    wait_until("the timed-out sleep to be gone", || gone(&pid));
    // SIGTERM to nar mid-call: nar exits 143 and the command's group goes with it.
    std::fs::remove_file(&journal).unwrap();
    std::fs::remove_file(&pidfile).unwrap();
    let args = random_oracle_search("2", "1", &sleeper, journal.to_str().unwrap(), &[]);
    let mut child = spawn_nar(&args, std::process::Stdio::null());
    wait_until("the oracle to start", || std::fs::read_to_string(&pidfile).is_ok_and(|t| t.ends_with('\n')));
    let pid = std::fs::read_to_string(&pidfile).unwrap().trim().to_string();
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(child.wait().unwrap().code(), Some(143));
    wait_until("the oracle's sleep to be stopped with nar", || gone(&pid));
    // The journal holds its header and no answer.
    assert_eq!(std::fs::read_to_string(&journal).unwrap().lines().count(), 1);
    // SIGKILL to nar mid-call (no chance to stop anything): the call's guard stops the command's group,
    // so a resume cannot find the architecture still training.
    std::fs::remove_file(&journal).unwrap();
    std::fs::remove_file(&pidfile).unwrap();
    let mut child = spawn_nar(&args, std::process::Stdio::null());
    wait_until("the oracle to start", || std::fs::read_to_string(&pidfile).is_ok_and(|t| t.ends_with('\n')));
    let pid = std::fs::read_to_string(&pidfile).unwrap().trim().to_string();
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&child.wait().unwrap()), Some(libc::SIGKILL));
    wait_until("the oracle's sleep to be stopped after nar was killed", || gone(&pid));
    // A command that answers but leaves a process outside its group holding its standard output: the
    // answer is the command's when it exits, and nar stops reading a bounded time after (2 calls here).
    std::fs::remove_file(&journal).unwrap();
    std::fs::remove_file(&pidfile).unwrap();
    let detached = format!("setsid sleep 60 & echo $! >> {}; echo 71.25 # {{arch}}", pidfile.display());
    let started = std::time::Instant::now();
    let o = search(&detached, &[]);
    ok(&o);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    let text = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(text.lines().skip(1).filter(|l| l.contains("\"val\":71.25")).count(), 2, "{text}");
    for pid in std::fs::read_to_string(&pidfile).unwrap().split_whitespace() {
        // SAFETY: a signal to a sleep this test started.
        unsafe { libc::kill(pid.parse().unwrap(), libc::SIGKILL) };
    }
    // --timeout is for the oracle command, and a positive number of seconds.
    for bad in [&["--timeout", "5"][..], &["--oracle-cmd", "echo 1 {arch}", "--timeout", "0"][..]] {
        let mut args = vec!["search", "--space", "nb201", "--budget", "2", "--seeds", "1"];
        args.extend(bad);
        assert_eq!(nar(&args).status.code(), Some(2), "{bad:?}");
    }
}

/// A journal's entries without their wall times, sorted (the arrival order of parallel calls varies).
fn journal_entries(journal: &std::path::Path) -> Vec<String> {
    let mut entries: Vec<String> = std::fs::read_to_string(journal)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let mut e: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(e.as_object_mut().unwrap().remove("wall_s").is_some_and(|w| w.as_f64().unwrap() >= 0.0), "{l}");
            e.to_string()
        })
        .collect();
    entries.sort();
    entries
}

/// `--parallel 4`: calls run at once (their start and end times overlap, never more than four), and
/// the synchronous methods propose and answer what they do one call at a time: the same curves (random
/// search in batches of 4, local search's neighbourhoods, the guided search's rounds) and the same
/// journal entries. REA is asynchronous: it keeps 4 children running and spends its budget.
#[test]
fn parallel_calls_overlap_and_change_nothing_the_search_finds() {
    let dir = tempfile::tempdir().unwrap();
    let script = table_oracle();
    let times = dir.path().join("times.log");
    let oracle = format!(
        "echo start $(date +%s%N) >> {t}; sleep 0.2; echo end $(date +%s%N) >> {t}; sh {} {{arch}}",
        script.display(),
        t = times.display()
    );
    let search = |method: &str, budget: &str, parallel: Option<&str>, name: &str| {
        let curve = dir.path().join(format!("{name}.csv"));
        let journal = dir.path().join(format!("{name}.jsonl"));
        let mut args = vec!["search", "--space", "nb201", "--method", method, "--budget", budget, "--seeds", "1"];
        args.extend(["--batch", "4", "--oracle-cmd", &oracle, "--journal", journal.to_str().unwrap()]);
        args.extend(["--curve", curve.to_str().unwrap()]);
        if let Some(k) = parallel {
            args.extend(["--parallel", k]);
        }
        ok(&nar(&args));
        (std::fs::read_to_string(&curve).unwrap(), journal_entries(&journal))
    };
    let most_at_once = || {
        let text = std::fs::read_to_string(&times).unwrap();
        std::fs::remove_file(&times).unwrap();
        let mut events: Vec<(u128, i32)> = text
            .lines()
            .map(|l| {
                let (kind, t) = l.split_once(' ').unwrap();
                (t.parse().unwrap(), if kind == "start" { 1 } else { -1 })
            })
            .collect();
        events.sort();
        events
            .iter()
            .scan(0, |n, &(_, d)| {
                *n += d;
                Some(*n)
            })
            .max()
            .unwrap()
    };
    // The guided search: a random start of 12 (10 rounded up to rounds of 4), then a round of 4.
    for (method, budget) in [("random", "12"), ("ls", "12"), ("nar", "16")] {
        let one = search(method, budget, None, &format!("{method}-1"));
        assert_eq!(most_at_once(), 1, "{method}: one call at a time without --parallel");
        let four = search(method, budget, Some("4"), &format!("{method}-4"));
        let k = most_at_once();
        assert!((2..=4).contains(&k), "{method}: {k} calls at once with --parallel 4");
        assert_eq!(one, four, "{method}: --parallel 4 changed the curve or the answers");
    }
    let (curve, entries) = search("rea", "16", Some("4"), "rea-4");
    assert!((2..=4).contains(&most_at_once()));
    assert_eq!((curve.lines().count(), entries.len()), (17, 16), "{curve}");
    let o = nar(&["search", "--space", "nb201", "--budget", "2", "--oracle-cmd", "echo 1 {arch}", "--parallel", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

/// An oracle that fails every other call (a non-zero exit, then a worker killed by SIGKILL, in turn):
/// each failure is journaled with its reason, spends its query, is never picked, and the summary lists
/// it; `--retries 1` runs each again (and here it then answers); the search goes on either way.
#[test]
fn failed_calls_are_journaled_listed_and_retried() {
    let dir = tempfile::tempdir().unwrap();
    let script = table_oracle();
    let count = dir.path().join("count");
    std::fs::write(&count, "0").unwrap();
    // Calls 1, 5, 9 … exit 3; calls 3, 7, 11 … are killed; the even ones answer.
    let oracle = format!(
        "n=$(cat {c}); echo $((n + 1)) > {c}; case $((n % 4)) in 1) echo bad >&2; exit 3;; 3) kill -KILL $$;; esac; sh {} {{arch}}",
        script.display(),
        c = count.display()
    );
    let search = |journal: &str, extra: &[&str]| {
        let journal = dir.path().join(journal);
        let mut args = vec!["search", "--space", "nb201", "--method", "rea", "--budget", "12", "--seeds", "1"];
        let curve = dir.path().join("c.csv");
        args.extend([
            "--oracle-cmd",
            &oracle,
            "--journal",
            journal.to_str().unwrap(),
            "--curve",
            curve.to_str().unwrap(),
        ]);
        args.extend(extra);
        let o = nar(&args);
        ok(&o);
        (String::from_utf8_lossy(&o.stdout).into_owned(), journal_entries(&journal))
    };
    let (out, entries) = search("j.jsonl", &[]);
    let failed: Vec<&String> = entries.iter().filter(|e| e.contains("\"failed\"")).collect();
    assert_eq!((entries.len(), failed.len()), (12, 6), "{entries:?}");
    assert_eq!(failed.iter().filter(|e| e.contains("failed (exit status: 3)") && e.contains("bad")).count(), 3);
    assert_eq!(failed.iter().filter(|e| e.contains("signal: 9")).count(), 3, "{failed:?}");
    assert!(out.contains("failed queries (6; each spent its query, none is picked)"), "{out}");
    // The table counts failed queries among the queries spent.
    let curve = std::fs::read_to_string(dir.path().join("c.csv")).unwrap();
    let numbers: Vec<&str> = curve.lines().skip(1).map(|l| l.split(',').nth(2).unwrap()).collect();
    assert_eq!(numbers, ["1", "3", "5", "7", "9", "11"], "{curve}");
    // The pick is the best answered one.
    let best = entries.iter().filter_map(|e| serde_json::from_str::<serde_json::Value>(e).unwrap()["val"].as_f64());
    let best = best.fold(f64::MIN, f64::max);
    assert!(out.contains(&format!("{best:.2} ± 0.00")), "{out}");
    // With a retry each failure runs again, and the next call answers: the first architecture answers
    // at once, each of the other 11 fails once and answers on its retry.
    std::fs::write(&count, "0").unwrap();
    let (out, entries) = search("k.jsonl", &["--retries", "1"]);
    let failed = entries.iter().filter(|e| e.contains("\"failed\"")).count();
    assert_eq!((entries.len(), failed), (23, 11), "{entries:?}");
    assert!(!out.contains("failed queries"), "{out}");
}

/// Nothing answered is lost when nar is killed (SIGKILL, no chance to clean up) at any moment with four
/// calls running: every journal line is whole (or a torn last line, dropped on resume), and the resumed
/// search runs no architecture the journal answered and ends with the whole budget answered.
#[test]
fn a_killed_search_loses_no_answer_and_resumes_spending_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let script = table_oracle();
    let calls = dir.path().join("calls.log");
    let journal = dir.path().join("j.jsonl");
    // Calls of 50 to 150 ms, logged when they start.
    let oracle =
        format!("echo {{arch}} >> {}; sleep 0.$(( $$ % 10 + 5 )); sh {} {{arch}}", calls.display(), script.display());
    let args = random_oracle_search("40", "4", &oracle, journal.to_str().unwrap(), &[]);
    let answered = || -> HashSet<String> {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        let lines: Vec<&str> = text.lines().skip(1).collect();
        let whole = if text.ends_with('\n') { lines.len() } else { lines.len().saturating_sub(1) };
        lines[..whole]
            .iter()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["arch"].as_str().unwrap().to_string())
            .collect()
    };
    for kill_after in [3, 11, 23] {
        let mut child = spawn_nar(&args, std::process::Stdio::null());
        wait_until("answers to be journaled", || answered().len() >= kill_after);
        child.kill().unwrap();
        child.wait().unwrap();
        let before = answered();
        // The calls the killed nar left running end on their own; then the log starts afresh.
        std::thread::sleep(std::time::Duration::from_millis(400));
        std::fs::write(&calls, "").unwrap();
        if kill_after == 23 {
            let o = nar(&args);
            ok(&o);
            let rerun: Vec<String> = std::fs::read_to_string(&calls).unwrap().lines().map(String::from).collect();
            assert!(rerun.iter().all(|a| !before.contains(a)), "an answered architecture was trained again");
            assert_eq!(answered().len(), 40);
            assert_eq!(rerun.len(), 40 - before.len(), "each missing one trained once");
        }
    }
}

/// `--on-interrupt wait`: Ctrl-C starts no new call, lets the running ones finish and be journaled, and
/// nar exits 130 with a journal that resumes; the default (`cancel`) stops them, nothing journaled.
#[test]
fn an_interrupt_waits_for_or_cancels_the_running_calls() {
    let dir = tempfile::tempdir().unwrap();
    let script = table_oracle();
    let calls = dir.path().join("calls.log");
    let oracle = format!("echo {{arch}} >> {}; sleep 1; sh {} {{arch}}", calls.display(), script.display());
    for (mode, answers) in [("wait", 2), ("cancel", 0)] {
        let journal = dir.path().join(format!("{mode}.jsonl"));
        std::fs::write(&calls, "").unwrap();
        let args = random_oracle_search("6", "2", &oracle, journal.to_str().unwrap(), &["--on-interrupt", mode]);
        let child = spawn_nar(&args, std::process::Stdio::piped());
        wait_until("two calls to start", || std::fs::read_to_string(&calls).unwrap().lines().count() == 2);
        // SAFETY: a signal to the child this test started.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(130), "{mode}: {err}");
        assert_eq!(std::fs::read_to_string(&calls).unwrap().lines().count(), 2, "{mode}: no new call started");
        assert_eq!(journal_entries(&journal).len(), answers, "{mode}: {err}");
        if mode == "wait" {
            assert!(err.contains("waiting for the running ones") && err.contains("the same command resumes"), "{err}");
            // The resumed search answers those two from the journal and trains the other four.
            std::fs::write(&calls, "").unwrap();
            ok(&nar(&args));
            assert_eq!(std::fs::read_to_string(&calls).unwrap().lines().count(), 4);
            assert_eq!(journal_entries(&journal).len(), 6);
        }
    }
}

/// A full disk mid-append (a real ENOSPC, on a tmpfs of four pages with three taken): nar stops with the
/// reason, the journal ends in a torn line; once there is room, the same command resumes, cuts the
/// fragment off, loses no answer and trains none twice, and the journal reads back whole.
#[test]
fn a_full_disk_leaves_a_journal_that_resumes_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (mnt, calls, out) = (dir.path().join("mnt"), dir.path().join("calls.log"), dir.path().join("out"));
    std::fs::create_dir(&mnt).unwrap();
    let oracle = format!("echo {{arch}} >> {}; sh {} {{arch}}", calls.display(), table_oracle().display());
    let journal = mnt.join("j.jsonl");
    let args = random_oracle_search("60", "1", &oracle, journal.to_str().unwrap(), &[]);
    let quoted: Vec<String> = args.iter().map(|a| format!("'{}'", a.replace('\'', r"'\''"))).collect();
    let run = format!("{} {}", env!("CARGO_BIN_EXE_nar"), quoted.join(" "));
    // In a mount namespace of its own, so that the tmpfs goes with the script.
    let script = format!(
        "set -u\nmount -t tmpfs -o size=16k tmpfs {mnt}\nhead -c 12288 /dev/zero > {mnt}/filler\n\
         {run} > /dev/null 2> {out}.err1; echo $? > {out}.rc1\ncp {mnt}/j.jsonl {out}.full\n\
         rm {mnt}/filler\n: > {calls}\n{run} > /dev/null 2> {out}.err2; echo $? > {out}.rc2\n\
         cp {mnt}/j.jsonl {out}.after\n",
        mnt = mnt.display(),
        out = out.display(),
        calls = calls.display(),
    );
    let o = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = |ext: &str| std::fs::read_to_string(format!("{}.{ext}", out.display())).unwrap();
    // The first search ran out of room: exit 1, saying so, its journal ending in a fragment.
    assert_eq!(read("rc1").trim(), "1", "{}", read("err1"));
    assert!(read("err1").contains("No space left on device"), "{}", read("err1"));
    let full = read("full");
    assert!(!full.ends_with('\n'), "the full disk left no torn line");
    let before: Vec<&str> = full.lines().skip(1).filter(|l| l.ends_with('}')).collect();
    assert!(before.len() > 10, "{} answers before the disk was full", before.len());
    // The resumed search ends with every query answered, each line whole, none trained twice.
    assert_eq!(read("rc2").trim(), "0", "{}", read("err2"));
    let after = read("after");
    assert!(after.ends_with('\n'));
    let entries: Vec<serde_json::Value> = after.lines().skip(1).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(entries.len(), 60);
    let archs: HashSet<&str> = entries.iter().map(|e| e["arch"].as_str().unwrap()).collect();
    assert_eq!(archs.len(), 60);
    assert!(after.starts_with(&full[..full.rfind('\n').unwrap() + 1]), "an answer before the full disk was lost");
    let rerun = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(rerun.lines().count(), 60 - before.len(), "each missing one trained once");
}

/// A journal is a regular file: a FIFO (which would block the open) or a device (which fails the sync)
/// is refused at once, naming it, before any call.
#[test]
fn a_journal_that_is_not_a_regular_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path this test owns.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let calls = dir.path().join("calls.log");
    let oracle = format!("echo {{arch}} >> {}; echo 50", calls.display());
    for journal in [fifo.to_str().unwrap(), "/dev/null"] {
        let started = std::time::Instant::now();
        let o = nar(&random_oracle_search("2", "1", &oracle, journal, &[]));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{journal}: {err}");
        assert!(err.contains(journal) && err.contains("is not a regular file"), "{journal}: {err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{journal}: it waited");
        assert!(!calls.exists(), "{journal}: an oracle call ran");
    }
}

/// The largest seed exists: `--first-seed 18446744073709551615 --seeds 1` runs it (one past it does not).
#[test]
fn the_largest_seed_runs_alone() {
    let text = ok(&nar(&[
        "search",
        "--space",
        "nb201",
        "--method",
        "random",
        "--budget",
        "3",
        "--first-seed",
        "18446744073709551615",
        "--seeds",
        "1",
    ]));
    assert!(text.contains("seeds 18446744073709551615–18446744073709551615, budget 3;"), "{text}");
}

/// `--objectives val,flops`: the pool's true front, found here by a sweep over the table independent of
/// nar's Pareto code, is the summary's; every run's front is measured against it at each budget (the
/// normalised hypervolume and the fraction found in [0, 1], rising with the queries; IGD falling);
/// objectives that are not val and a cost, or an accuracy given as a cost, are refused.
#[test]
fn several_objectives_measure_each_runs_front_against_the_true_front() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("front.json");
    let (curve, html) = (dir.path().join("front.csv"), dir.path().join("front.html"));
    let o = nar(&[
        "search",
        "--space",
        "nb201",
        "--method",
        "random",
        "--budget",
        "100",
        "--seeds",
        "3",
        "--objectives",
        "val,flops",
        "-o",
        out.to_str().unwrap(),
        "--curve",
        curve.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    ok(&o);
    // The curve CSV carries each run's front measures after every query; its last points are the
    // table's at the budget.
    let csv = std::fs::read_to_string(&curve).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("method,seed,queries,best_val,best_test,hypervolume,found,igd"));
    let rows: Vec<Vec<f64>> = lines.map(|l| l.split(',').skip(1).map(|x| x.parse().unwrap()).collect()).collect();
    assert_eq!(rows.len(), 300);
    let last: Vec<f64> = rows.iter().filter(|r| r[1] == 100.0).map(|r| r[4]).collect();
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<h2>Several objectives</h2>") && page.contains("normalised by the true front's ideal"));
    assert!(page.contains("Fronts at 100 queries: validation accuracy against flops"));
    for svg in page.split("<svg").skip(1) {
        roxmltree::Document::parse(&format!("<svg{}", &svg[..svg.find("</svg>").unwrap() + 6])).unwrap();
    }
    assert!(String::from_utf8_lossy(&o.stdout).contains("front: val vs flops"));
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let f = &s["front"];
    assert_eq!(f["objectives"], serde_json::json!(["val", "flops"]));
    // The true front by a sweep: in increasing FLOPs, an architecture is on it when its accuracy is
    // the best of its FLOPs and above every accuracy of fewer FLOPs.
    let ds = common::nb201_table();
    let val = ds.metric("cifar10_val_acc").unwrap();
    let flops: Vec<u64> =
        ds.archs().iter().map(|a| <Nb201 as nar::benchmark::Benchmark>::cost(a, Net::Cifar10).total_flops).collect();
    // With the equivalence rule (the default) a class is one query, answered by its canonical cell:
    // the true front is the canonical cells'.
    let mut order: Vec<usize> =
        (0..ds.len()).filter(|&p| <Nb201 as SearchSpace>::canonical(&ds.archs()[p]) == ds.archs()[p]).collect();
    assert_eq!(order.len(), 4660);
    order.sort_by_key(|&p| flops[p]);
    let mut expected = Vec::new();
    let mut best = f64::NEG_INFINITY;
    let mut i = 0;
    while i < order.len() {
        let group: Vec<usize> = order[i..].iter().copied().take_while(|&p| flops[p] == flops[order[i]]).collect();
        let top = group.iter().map(|&p| val[p]).fold(f64::NEG_INFINITY, f64::max);
        if top > best {
            expected.extend(group.iter().copied().filter(|&p| val[p] == top));
            best = top;
        }
        i += group.len();
    }
    expected.sort_unstable();
    let ids: Vec<String> = expected.iter().map(|p| p.to_string()).collect();
    let got: Vec<String> =
        f["true_front"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, ids);
    for m in f["true_front"].as_array().unwrap() {
        let p: usize = m["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(m["values"], serde_json::json!([val[p], flops[p] as f64]));
    }
    let cells = f["table"][0]["cells"].as_array().unwrap();
    assert_eq!(f["table"][0]["method"], "random");
    let mean = last.iter().sum::<f64>() / last.len() as f64;
    assert!((cells.last().unwrap()["hypervolume"][0].as_f64().unwrap() - mean).abs() < 1e-12);
    let at = |k: usize, what: &str| cells[k][what][0].as_f64().unwrap();
    for k in 0..cells.len() {
        for what in ["hypervolume", "found"] {
            assert!((0.0..=1.0).contains(&at(k, what)), "{what} {}", at(k, what));
        }
    }
    let last = cells.len() - 1;
    assert!(at(last, "hypervolume") >= at(0, "hypervolume") && at(last, "found") >= at(0, "found"));
    assert!(at(last, "igd") <= at(0, "igd"));
    for (objectives, says) in [
        ("flops", "give val first, then one or more costs"),
        ("val", "give val first, then one or more costs"),
        ("val,flops,flops", "flops is given twice"),
        ("val,cifar10_test_acc", "cifar10_test_acc is an accuracy, not a cost"),
        ("val,latency", "latency is not a cost of this space; costs: params, flops, cifar10_valid_train_time_200ep_s"),
    ] {
        let o = nar(&["search", "--space", "nb201", "--budget", "5", "--seeds", "1", "--objectives", objectives]);
        assert_eq!(o.status.code(), Some(2), "{objectives}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(says),
            "{objectives}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // The multi-objective methods spend the budget, the same seed the same queries; they need objectives.
    let mo = |name: &str| {
        let out = dir.path().join(format!("{name}.json"));
        ok(&nar(&[
            "search",
            "--space",
            "nb201",
            "--method",
            "all",
            "--budget",
            "60",
            "--seeds",
            "2",
            "--objectives",
            "val,params",
            "-o",
            out.to_str().unwrap(),
        ]));
        let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        s
    };
    let (a, b) = (mo("a"), mo("b"));
    assert_eq!(a["picks"], b["picks"]);
    assert_eq!(a["front"]["table"], b["front"]["table"]);
    let methods: Vec<&str> =
        a["front"]["table"].as_array().unwrap().iter().map(|r| r["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["nar", "random", "rea", "ls", "mo-nar", "mo-rea", "mo-ls"]);
    for row in a["table"].as_array().unwrap() {
        assert_eq!(row["cells"].as_array().unwrap().last().unwrap()["queries"], 60, "{}", row["method"]);
    }
    let o = nar(&["search", "--space", "nb201", "--budget", "5", "--method", "mo-rea"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("mo-rea weighs accuracy against costs: give --objectives"));
}

/// `--objectives` with the user's oracle command: no true front, so each run's front is measured by its
/// hypervolume in raw units — here recomputed from the journal's answers and the cost model's FLOPs
/// (accuracy from 0, FLOPs from NB201's largest) —, and the guided front search (`mo-nar`) queries the
/// same architectures through the command as through the table. A cost column with a missing or a
/// negative value is refused, naming the architecture.
#[test]
fn several_objectives_with_the_users_oracle_measure_the_raw_hypervolume() {
    let dir = tempfile::tempdir().unwrap();
    let script = table_oracle();
    let journal = dir.path().join("journal.jsonl");
    let (out, curve, table_curve) = (dir.path().join("s.json"), dir.path().join("c.csv"), dir.path().join("t.csv"));
    let oracle = format!("sh {} {{arch}}", script.display());
    let args = |curve: &std::path::Path| {
        vec![
            "search".to_string(),
            "--space".into(),
            "nb201".into(),
            "--method".into(),
            "mo-nar".into(),
            "--budget".into(),
            "20".into(),
            "--seeds".into(),
            "1".into(),
            "--objectives".into(),
            "val,flops".into(),
            "--curve".into(),
            curve.to_str().unwrap().into(),
        ]
    };
    let mut with_cmd = args(&curve);
    with_cmd.extend(["--oracle-cmd".into(), oracle, "--journal".into(), journal.to_str().unwrap().into()]);
    with_cmd.extend(["-o".into(), out.to_str().unwrap().into()]);
    let o = nar(&with_cmd.iter().map(String::as_str).collect::<Vec<_>>());
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("no true front (the user's oracle)"));
    ok(&nar(&args(&table_curve).iter().map(String::as_str).collect::<Vec<_>>()));
    let column = |p: &std::path::Path, k: usize| -> Vec<String> {
        std::fs::read_to_string(p).unwrap().lines().skip(1).map(|l| l.split(',').nth(k).unwrap().to_string()).collect()
    };
    assert_eq!(column(&curve, 3), column(&table_curve, 3), "the same answers in the same order");
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(s["front"]["raw"], true);
    assert_eq!(s["front"]["true_front"], serde_json::json!([]));
    // The raw hypervolume after the last answer, from the journal.
    let ds = common::nb201_table();
    let flops = |p: usize| <Nb201 as nar::benchmark::Benchmark>::cost(&ds.archs()[p], Net::Cifar10).total_flops as f64;
    let largest = (0..ds.len()).map(flops).fold(0.0, f64::max);
    let mut answers: Vec<(f64, f64)> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let j: serde_json::Value = serde_json::from_str(l).unwrap();
            let p = ds.position(&<Nb201 as SearchSpace>::parse_id(j["id"].as_str().unwrap()).unwrap()).unwrap();
            (flops(p), j["val"].as_f64().unwrap())
        })
        .collect();
    assert_eq!(answers.len(), 20);
    answers.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let (mut volume, mut best) = (0.0, 0.0);
    for &(f, v) in &answers {
        if v > best {
            // In increasing cost, each answer better than every cheaper one adds the strip from its
            // cost to the largest, between the best so far and its accuracy.
            volume += (largest - f) * (v - best);
            best = v;
        }
    }
    let hv: Vec<f64> = column(&curve, 5).iter().map(|x| x.parse().unwrap()).collect();
    assert!((hv.last().unwrap() - volume).abs() <= 1e-9 * volume, "{} vs {volume}", hv.last().unwrap());
    assert!(hv.windows(2).all(|w| w[0] <= w[1]));
    // A cost column with a missing or a negative value, where it is to be minimised.
    let table = std::fs::read_to_string(common::data_file("nb201/nb201_accuracy.csv")).unwrap();
    // (A duration, `…time…` or `…latency…`, is refused negative when the table is read; `energy_mj` is
    // any number there.)
    for (bad, says) in
        [("", "energy_mj of architecture 7 has no value"), ("-3", "energy_mj of architecture 7 is negative (-3)")]
    {
        let mut lines = table.lines();
        let mut csv = format!("{},energy_mj\n", lines.next().unwrap());
        for (i, l) in lines.enumerate() {
            let v = if i == 7 { bad.to_string() } else { format!("{}", 1.0 + i as f64) };
            csv.push_str(&format!("{l},{v}\n"));
        }
        let path = dir.path().join("energy.csv");
        std::fs::write(&path, csv).unwrap();
        let o = nar(&[
            "search",
            "--space",
            "nb201",
            "-m",
            path.to_str().unwrap(),
            "--budget",
            "5",
            "--seeds",
            "1",
            "--objectives",
            "val,energy_mj",
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stderr).contains(says), "{}", String::from_utf8_lossy(&o.stderr));
    }
}
