//! `nar run`, `nar train --resume`, `nar eval`, `nar search` and `nar rank` end to end, with a tiny
//! configuration on the real NB201 table.

use crate::common;

use common::{nar, ok, tiny_config_file};
use nar::ranker::checkpoint::Checkpoint;
use nar::run_dir::RunDir;

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
        "--compare-seeds",
        "2",
    ]));
    assert!(text.contains("held-out architectures   15275"), "{text}");
    // The budgeted comparison at NAR's search's budget: the four methods, two seeds.
    assert!(text.contains("== budgeted search at the same budget"), "{text}");
    assert!(text.contains("seeds 0–1, budget 350;"), "{text}");
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
        run.comparison_path(),
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
    assert_eq!(eval.confusion.unwrap().iter().flatten().sum::<usize>(), 15_275);
    assert_eq!(run.read_search().unwrap().unwrap().len(), 2);
    let compared = run.read_comparison().unwrap().unwrap();
    assert_eq!((compared.budget, compared.seeds, compared.table.len()), (350, 2, 4));
    let methods: Vec<&str> = compared.table.iter().map(|r| r.method.name()).collect();
    assert_eq!(methods, ["nar", "random", "rea", "ls"]);
    for r in &compared.table {
        let last = r.cells.last().unwrap();
        assert_eq!(last.queries, 350);
        assert!(last.val.0 <= compared.target.as_ref().unwrap().1, "no method beats the pool's best validation");
    }
    // The report names the dataset by its file name, not by a path of this machine.
    let html = std::fs::read_to_string(run.report_path()).unwrap();
    assert!(html.contains("<td>dataset</td><td>dataset.nar</td>"), "report header");
    assert!(html.contains("<h2>Budgeted search at the run's budget</h2><p class=\"note\">nar's guided search"));
    assert!(!html.contains(dir.path().to_str().unwrap()), "the report holds a local path");

    // `nar run` evaluated with tiers; `nar eval` by default runs the score alone (no decoder): the same
    // scores to the last bit, no tier figures.
    let with_tiers = std::fs::read_to_string(run.predictions_path()).unwrap();
    let text = ok(&nar(&["eval", out.to_str().unwrap()]));
    assert!(text.contains("tier accuracy            not computed (--tiers)"), "{text}");
    assert!(text.contains("predicted best           true rank ") && text.contains("   floor: rank "), "{text}");
    assert!(text.contains("best of predicted top 50 ") && text.contains("(regret "), "{text}");
    let eval = run.read_eval().unwrap().unwrap();
    assert_eq!((eval.tier_acc, eval.confusion), (None, None));
    let top = eval.top.as_ref().unwrap();
    assert!(top.rank_of_predicted_best >= 1 && top.rank_of_predicted_best <= 15_275);
    assert_eq!(top.best_in_top.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec![10, 50]);
    assert!(top.best_in_top[0].1 <= top.best_in_top[1].1 && top.best_in_top[1].1 <= top.best);
    let score_only = std::fs::read_to_string(run.predictions_path()).unwrap();
    let column = |text: &str, name: &str| -> Vec<String> {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let i = r.headers().unwrap().iter().position(|h| h == name).unwrap();
        r.records().map(|rec| rec.unwrap()[i].to_string()).collect()
    };
    assert_eq!(column(&with_tiers, "score"), column(&score_only, "score"));
    assert_eq!(column(&score_only, "score").len(), 15_275);
    assert!(column(&score_only, "predicted_tier").iter().all(String::is_empty));
    assert!(column(&with_tiers, "predicted_tier").iter().all(|t| t.parse::<usize>().unwrap() < 5));
    let text = ok(&nar(&["eval", out.to_str().unwrap(), "--tiers"]));
    assert!(text.contains("tier accuracy            0."), "{text}");
    assert_eq!(std::fs::read_to_string(run.predictions_path()).unwrap(), with_tiers);

    // Rank the whole space with the trained ranker: the score alone, then with tiers (same scores).
    let text = ok(&nar(&["rank", out.to_str().unwrap(), "--top", "3"]));
    assert!(text.contains("ranked 15625 architectures"), "{text}");
    let ranking = std::fs::read_to_string(run.ranking_path()).unwrap();
    assert_eq!(ranking.lines().count(), 15_626);
    assert!(ranking.starts_with("index,predicted_score\n0,"), "{}", &ranking[..40]);
    let tiered = dir.path().join("tiered.csv");
    let text = ok(&nar(&["rank", out.to_str().unwrap(), "--tiers", "-o", tiered.to_str().unwrap()]));
    assert!(text.contains("tier "), "{text}");
    let tiered = std::fs::read_to_string(&tiered).unwrap();
    assert!(tiered.starts_with("index,predicted_score,predicted_tier\n"));
    assert_eq!(column(&tiered, "predicted_score"), column(&ranking, "predicted_score"));
    assert_eq!(column(&tiered, "index"), (0..15_625).map(|i| i.to_string()).collect::<Vec<_>>());
    // The held-out scores of `nar eval` are the ranking's for the same architectures.
    let by_index: std::collections::HashMap<String, f64> = column(&ranking, "index")
        .into_iter()
        .zip(column(&ranking, "predicted_score").iter().map(|v| v.parse().unwrap()))
        .collect();
    for (pos, score) in column(&score_only, "position").iter().zip(column(&score_only, "score")).take(500) {
        let s: f64 = score.parse().unwrap();
        assert!((by_index[pos] - s).abs() <= 5e-7, "architecture {pos}: {} vs {s}", by_index[pos]);
    }
}

/// `nar rank` on an NB101 run trained on the 1,000-cell sample scores all 423,624 cells of the space
/// (enumerated, not read from the dataset), with the sample's known accuracies beside the best.
#[test]
#[ignore = "ranks all of NB101 (about a minute with the tiny model); run by .ci/run"]
fn rank_scores_the_whole_nb101_space() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("tiny101.yaml");
    std::fs::write(&cfg, common::tiny_nb101_config()).unwrap();
    let data = common::nb101_sample_store(dir.path());
    let out = dir.path().join("run");
    let (cfg, data, out_s) = (cfg.to_str().unwrap(), data.to_str().unwrap(), out.to_str().unwrap());
    ok(&nar(&[
        "train",
        "--config",
        cfg,
        "--data",
        data,
        "--out",
        out_s,
        "--epochs",
        "1",
        "--budget",
        "424",
        "--no-report",
    ]));
    let text = ok(&nar(&["rank", out_s, "--top", "2000"]));
    assert!(text.contains("ranked 423624 architectures"), "{text}");
    let ranking = std::fs::read_to_string(RunDir::open(&out).unwrap().ranking_path()).unwrap();
    let mut lines = ranking.lines();
    assert_eq!(lines.next(), Some("unique_hash,predicted_score"));
    let hashes: Vec<&str> = lines.map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(hashes.len(), 423_624);
    assert!(hashes.windows(2).all(|w| w[0] < w[1]), "canonical (hash) order");
    // The 1,000 cells of the sample are among them.
    let set: std::collections::HashSet<&str> = hashes.iter().copied().collect();
    assert!(common::nb101_subset().iter().all(|r| set.contains(r.hash.as_str())));
    assert!(text.contains("(val_acc_108ep 0.") || text.contains("(val_acc_108ep"), "{text}");
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

/// `nar run` with nar's recommended predictors (`configs/*-best.yaml`: ensembles of tree models and ranking
/// networks), which predict scores only: the held-out evaluation on the
/// score, no reference search (said why, on the terminal and in the report), the budgeted comparison
/// with the run's own predictor in the guided search, the report — exit 0.
#[test]
fn run_works_with_the_recommended_score_only_predictors() {
    let dir = tempfile::tempdir().unwrap();
    let nb101 = common::data_file("nb101/nb101_subset_1k.csv");
    for (space, data, model, budget, held_out) in
        [("nb201", None, "ensemble", 50, "15575"), ("nb101", Some(nb101.to_str().unwrap()), "ensemble", 60, "940")]
    {
        let cfg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("configs/{space}-best.yaml"));
        let out = dir.path().join(space);
        let budget_s = budget.to_string();
        let mut args = vec![
            "run",
            "--space",
            space,
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--budget",
            &budget_s,
            "--compare-seeds",
            "1",
        ];
        if let Some(d) = data {
            args.extend(["--metrics", d]);
        }
        let text = ok(&nar(&args));
        assert!(text.contains(&format!("held-out architectures   {held_out}")), "{space}: {text}");
        assert!(
            text.contains(&format!("not run: NAR's reference search samples from the predicted top tier, and this run's model (`model: {model}`) predicts scores only")),
            "{space}: {text}"
        );
        assert!(text.contains(&format!("seeds 0–0, budget {budget};")), "{space}: {text}");
        let run = RunDir::open(&out).unwrap();
        assert!(!run.search_path().exists(), "{space}: no reference search");
        let eval = run.read_eval().unwrap().unwrap();
        assert_eq!((eval.held_out, eval.tier_acc, eval.confusion.is_none()), (held_out.parse().unwrap(), None, true));
        let compared = run.read_comparison().unwrap().unwrap();
        assert_eq!((compared.budget, compared.seeds), (budget, 1));
        let methods: Vec<&str> = compared.table.iter().map(|r| r.method.name()).collect();
        assert_eq!(methods, ["nar", "random", "rea", "ls"]);
        assert!(compared.table.iter().all(|r| r.cells.last().unwrap().queries == budget));
        let html = std::fs::read_to_string(run.report_path()).unwrap();
        assert!(
            html.contains(&format!("<h2>Search</h2><p class=\"note\">NAR's reference search samples from the predicted top tier, and this run's model (`model: {model}`) predicts scores only")),
            "{space}: report search section"
        );
        assert!(
            html.contains(&format!(
                "nar's guided search (method nar: the run's own predictor (`model: {model}`) refitted on every answer)"
            )),
            "{space}: report comparison section"
        );
        // The reference search still says what it needs, under its name and its old spelling.
        for command in ["reference-search", "search"] {
            let o = nar(&[command, out.to_str().unwrap()]);
            assert_eq!(o.status.code(), Some(1), "{space}, nar {command}");
            assert!(String::from_utf8_lossy(&o.stderr).contains("predicts scores only"), "{space}, nar {command}");
        }
    }
}

/// `nar run --objectives val,flops`: the comparison adds the multi-objective methods and measures each
/// run's front (saved in `comparison.json`, drawn in the report's "Fronts at the run's budget"); an
/// objective the run's data does not have is refused before anything is trained or written.
#[test]
fn run_weighs_accuracy_against_cost_where_asked() {
    let dir = tempfile::tempdir().unwrap();
    // The trees (the guided search's own predictor) keep the comparison's refits quick.
    let cfg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/nb201-trees.yaml");
    let out = dir.path().join("run");
    let run = |objectives: &str, out: &std::path::Path| {
        nar(&[
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--budget",
            "40",
            "--compare-seeds",
            "1",
            "--objectives",
            objectives,
        ])
    };
    let text = ok(&run("val,flops", &out));
    assert!(text.contains("front: val vs flops"), "{text}");
    let compared = RunDir::open(&out).unwrap().read_comparison().unwrap().unwrap();
    let methods: Vec<&str> = compared.table.iter().map(|r| r.method.name()).collect();
    assert_eq!(methods, ["nar", "random", "rea", "ls", "mo-nar", "mo-rea", "mo-ls"]);
    let f = compared.front.as_ref().unwrap();
    assert_eq!(f.objectives, ["val", "flops"]);
    assert_eq!(f.fronts.len(), 7, "one front per method and seed");
    let html = std::fs::read_to_string(RunDir::open(&out).unwrap().report_path()).unwrap();
    assert!(html.contains("<h2>Fronts at the run's budget: val vs flops</h2>"));
    let bad = dir.path().join("bad");
    let o = run("val,latency", &bad);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("latency is not a cost of this space"));
    assert!(!bad.exists(), "nothing written");
}
