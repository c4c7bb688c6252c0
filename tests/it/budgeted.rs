//! Budgeted search: the oracle's rules, the baselines against independently measured figures, nar's
//! guided search, the `nar search --space` command and the user's own oracle with its journal.

use crate::common;

use std::collections::HashSet;
use std::sync::OnceLock;

use common::{nar, ok};
use nar::data::Dataset;
use nar::search::budgeted::{Curve, Method, Setup, run_method};
use nar::search::domain::{Constraint, Domain, Equivalence};
use nar::search::guided::GuidedSettings;
use nar::search::inputs::FeatureCache;
use nar::search::oracle::{Oracle, QueryError, Scorecard, TableEvaluator};
use nar::space::nb201::ImageDataset as Net;
use nar::space::{Nb201, SpaceKind};
use nar::stats::mean_std;

fn dataset() -> &'static Dataset<Nb201> {
    static DS: OnceLock<Dataset<Nb201>> = OnceLock::new();
    DS.get_or_init(|| nar::data::embedded::nb201().unwrap())
}

fn column(name: &str) -> Vec<f64> {
    dataset().metric(name).unwrap().to_vec()
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
    let features = FeatureCache::new(dataset().archs(), net);
    let setup = Setup { domain, features: &features, network: net, budget, batch, guided: &settings };
    let mut eval = TableEvaluator::new(column(&format!("{}_val_acc", net.name())));
    run_method(method, &setup, &mut eval, seed).unwrap()
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
    let domain = Domain::all(dataset());
    let card = Scorecard::new(column(test), test);
    assert_eq!(val, format!("{}_val_acc", net.name()));
    let curves: Vec<Curve> = (0..seeds)
        .map(|seed| {
            let h = run_on(&domain, net, method, budget, None, seed);
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
fn guided_search_spends_its_budget_on_distinct_functions_deterministically() {
    let ds = dataset();
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
    let ds = dataset();
    let domain = Domain::all(ds).with_equivalence(Equivalence::Canonical);
    assert_eq!(domain.distinct(), 4660);
    for method in Method::ALL {
        let h = run_on(&domain, Net::Cifar10, method, 60, None, 1);
        assert_eq!(h.len(), 60, "{method}");
        let classes: HashSet<u32> = h.iter().map(|x| domain.class(x.0)).collect();
        assert_eq!(classes.len(), 60, "{method} queried two equivalent cells");
    }
    // The oracle answers an equivalent cell from the one queried, free.
    let mut eval = TableEvaluator::new(column("cifar10_val_acc"));
    let mut o = Oracle::with_classes(&mut eval, 5, domain.classes());
    let (a, b) =
        (ds.position(&1).unwrap(), (0..ds.len()).find(|&q| q != 1 && domain.class(q) == domain.class(1)).unwrap());
    let v = o.query(a).unwrap();
    assert_eq!(o.query(b).unwrap(), v);
    assert_eq!(o.spent(), 1);
    assert!(o.is_queried(b));
}

#[test]
fn batches_and_constraints_hold_for_every_method() {
    let ds = dataset();
    let net = Net::Cifar10;
    let c = Constraint { max_params: Some(600_000), max_flops: None };
    let domain = Domain::all(ds).constrained(c, net).unwrap().with_equivalence(Equivalence::Canonical);
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
    let none = Constraint { max_params: Some(1), max_flops: None };
    let e = Domain::all(ds).constrained(none, net).err().unwrap().to_string();
    assert_eq!(e, "no architecture of the 15625 in the pool meets the constraint (params ≤ 1)");
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
        (&["--first-seed", "18446744073709551615", "--seeds", "2"], "run past the largest seed"),
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
    use nar::search::command::{CommandEvaluator, CommandOptions, Header};
    use nar::search::oracle::Evaluator;
    let ds = nar::data::embedded::nb201().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("j.jsonl");
    let cmd = "echo 50 # {arch}";
    let header = |command: &str, dataset: &str| {
        let h = Header { nar_journal: 1, space: "nb201".into(), dataset: dataset.into(), command: command.into() };
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
    let e = open(&torn).unwrap();
    assert_eq!((e.journaled(), e.dropped_line()), (2, Some(4)));
    drop(e);
    // The same torn line in the middle is no crash's doing.
    let e = open(&format!("{}{{\"id\":\"9\",\"ar\n{}", entry(3, 91.0), entry(7, 85.5))).err().unwrap();
    assert!(e.contains("j.jsonl") && e.contains("line 3: not a journal entry"), "{e}");
    let wrong_arch = entry(3, 91.0).replace("\"3\"", "\"4\"");
    let e = open(&wrong_arch).err().unwrap();
    assert!(e.contains("line 2: field `arch`") && e.contains("is not the architecture of id 4"), "{e}");
    let e = open(&entry(3, 250.0)).err().unwrap();
    assert!(e.contains("line 2: field `val`: 250 is not an accuracy (0 to 100)"), "{e}");
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
    // The journal's answer is returned without running the command; a new one is run and appended.
    assert_eq!(again.evaluate(3).unwrap(), 91.0);
    assert_eq!(again.evaluate(5).unwrap(), 50.0);
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), header(cmd, "cifar10") + &entry(3, 91.0) + &entry(5, 50.0));
    drop(again);
    // An answer off the range is refused, and not journaled; a new journal starts with its header.
    std::fs::write(&journal, "").unwrap();
    let big_cmd = "echo 250 # {arch}";
    let mut big = CommandEvaluator::new(&ds, big_cmd, &journal, "cifar10", &CommandOptions::default()).unwrap();
    let e = format!("{:#}", big.evaluate(5).err().unwrap());
    assert!(e.contains("printed 250") && e.contains("not an accuracy (0 to 100)"), "{e}");
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), header(big_cmd, "cifar10"));
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
    let mut args = vec!["search", "--space", "nb201", "--method", "random", "--budget", "2", "--seeds", "1"];
    args.extend(["--oracle-cmd", &sleeper, "--journal", journal.to_str().unwrap()]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nar"))
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the oracle to start", || std::fs::read_to_string(&pidfile).is_ok_and(|t| t.ends_with('\n')));
    let pid = std::fs::read_to_string(&pidfile).unwrap().trim().to_string();
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(child.wait().unwrap().code(), Some(143));
    wait_until("the oracle's sleep to be stopped with nar", || gone(&pid));
    // The journal holds its header and no answer.
    assert_eq!(std::fs::read_to_string(&journal).unwrap().lines().count(), 1);
    // --timeout is for the oracle command, and a positive number of seconds.
    for bad in [&["--timeout", "5"][..], &["--oracle-cmd", "echo 1 {arch}", "--timeout", "0"][..]] {
        let mut args = vec!["search", "--space", "nb201", "--budget", "2", "--seeds", "1"];
        args.extend(bad);
        assert_eq!(nar(&args).status.code(), Some(2), "{bad:?}");
    }
}

/// `--parallel 4`: calls of a batch run at once (their start and end times overlap, never more than
/// four), and the search proposes and answers what it does one call at a time: the same curves (random
/// search and REA in batches of 4, REA's first population, local search's neighbourhoods) and the same
/// journal entries.
#[test]
fn parallel_calls_overlap_and_change_nothing_the_search_finds() {
    let dir = tempfile::tempdir().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/nb201_table.sh");
    let times = dir.path().join("times.log");
    let oracle = format!(
        "echo start $(date +%s%N) >> {t}; sleep 0.2; echo end $(date +%s%N) >> {t}; sh {} {{arch}}",
        script.display(),
        t = times.display()
    );
    let search = |method: &str, parallel: Option<&str>, name: &str| {
        let curve = dir.path().join(format!("{name}.csv"));
        let journal = dir.path().join(format!("{name}.jsonl"));
        let mut args = vec!["search", "--space", "nb201", "--method", method, "--budget", "12", "--seeds", "1"];
        args.extend(["--batch", "4", "--oracle-cmd", &oracle, "--journal", journal.to_str().unwrap()]);
        args.extend(["--curve", curve.to_str().unwrap()]);
        if let Some(k) = parallel {
            args.extend(["--parallel", k]);
        }
        ok(&nar(&args));
        let mut entries: Vec<String> =
            std::fs::read_to_string(&journal).unwrap().lines().skip(1).map(String::from).collect();
        entries.sort();
        (std::fs::read_to_string(&curve).unwrap(), entries)
    };
    let most_at_once = || {
        let text = std::fs::read_to_string(&times).unwrap();
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
    for method in ["random", "rea", "ls"] {
        let one = search(method, None, &format!("{method}-1"));
        assert_eq!(most_at_once(), 1, "{method}: one call at a time without --parallel");
        std::fs::remove_file(&times).unwrap();
        let four = search(method, Some("4"), &format!("{method}-4"));
        let k = most_at_once();
        assert!((2..=4).contains(&k), "{method}: {k} calls at once with --parallel 4");
        std::fs::remove_file(&times).unwrap();
        assert_eq!(one, four, "{method}: --parallel 4 changed the curve or the answers");
    }
    let o = nar(&["search", "--space", "nb201", "--budget", "2", "--oracle-cmd", "echo 1 {arch}", "--parallel", "0"]);
    assert_eq!(o.status.code(), Some(2));
}
