//! Every part of nar on a declared space (`--space FILE.yaml`): a space written only as a declaration
//! and a CSV goes through `nar data build`, `train`, `eval`, `rank`, `search` (on the table and through
//! an oracle command, with a cost bound on a table column); its datasets and journals carry the
//! declaration and refuse another one; bad tables are refused naming the line and the field. The
//! NAS-Bench-201 declaration gives the built-in space's feature columns for every cell.
//!
//! The command-line tests run nar in its own process (one declared space per process); the in-process
//! test activates `spaces/nb201.yaml`, the only declaration this test binary activates.

use std::path::{Path, PathBuf};

use crate::common::{nar, ok};

/// The tree space of `declared.rs`: op vertices each reading one earlier vertex, the leaves summed
/// into the output; 101 cells in 49 function classes.
const TREES: &str = "name: trees\nfamily: vertices\nmax_vertices: 5\nmax_edges: 8\nin_degree: [1, 1]\noutput: leaves\n\
                     output_merge: sum\nops: [conv, pool, id]\nidentity: id\naccuracy: fraction\ntasks: [toy]\n";

/// The synthetic accuracy of a cell of the tree space, from its text form: 0.40, plus 0.12 per conv
/// and 0.05 per pool (the oracle script below computes the same).
fn synthetic(arch: &str) -> (f64, usize) {
    let convs = arch.matches("\"conv\"").count();
    let pools = arch.matches("\"pool\"").count();
    (0.40 + 0.12 * convs as f64 + 0.05 * pools as f64, 1 + 3 * convs + pools)
}

const ORACLE: &str = "#!/bin/sh\n\
    c=$(printf '%s' \"$1\" | grep -o '\"conv\"' | wc -l)\n\
    p=$(printf '%s' \"$1\" | grep -o '\"pool\"' | wc -l)\n\
    awk -v c=\"$c\" -v p=\"$p\" 'BEGIN { printf \"%.4f\\n\", 0.40 + 0.12 * c + 0.05 * p }'\n";

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The tree space's declaration, its cells (`nar space enumerate`) and a table of the synthetic
/// accuracy (validation, test 0.01 lower, a latency) in `dir`.
fn tree_space(dir: &Path) -> (PathBuf, Vec<String>, PathBuf) {
    let yaml = dir.join("trees.yaml");
    std::fs::write(&yaml, TREES).unwrap();
    let cells = dir.join("cells.csv");
    ok(&nar(&["space", "enumerate", path(&yaml), "-o", path(&cells)]));
    let mut reader = csv::Reader::from_path(&cells).unwrap();
    let col = reader.headers().unwrap().iter().position(|h| h == "arch").unwrap();
    let archs: Vec<String> = reader.records().map(|r| r.unwrap()[col].to_string()).collect();
    let table = dir.join("table.csv");
    let mut w = csv::Writer::from_path(&table).unwrap();
    w.write_record(["arch", "toy_val_acc", "toy_test_acc", "latency"]).unwrap();
    for a in &archs {
        let (v, latency) = synthetic(a);
        w.write_record([a.clone(), format!("{v:.4}"), format!("{:.4}", v - 0.01), latency.to_string()]).unwrap();
    }
    w.flush().unwrap();
    (yaml, archs, table)
}

/// A figure printed after `label` (the first number on its line).
fn figure(out: &str, label: &str) -> f64 {
    let line = out.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no {label:?} in {out}"));
    line[label.len()..].split_whitespace().find_map(|w| w.parse().ok()).unwrap()
}

#[test]
fn a_space_declared_in_a_file_goes_from_a_csv_to_a_searched_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (yaml, archs, table) = tree_space(d);
    assert_eq!(archs.len(), 101);
    let store = d.join("trees.nar");
    let o = ok(&nar(&["data", "build", "--space", path(&yaml), "-m", path(&table), "-o", path(&store)]));
    assert!(o.contains("joined 101 rows; metrics: toy_val_acc, toy_test_acc, latency"), "{o}");
    let info = ok(&nar(&["data", "info", path(&store)]));
    assert!(info.contains("archs     101"), "{info}");
    // Exported as the table it came from (no cost-model columns: a declared space has none).
    let back = d.join("back.csv");
    ok(&nar(&["data", "export", path(&store), "--format", "csv", "-o", path(&back)]));
    let text = std::fs::read_to_string(&back).unwrap();
    assert_eq!(text.lines().next(), Some("hash,arch,toy_val_acc,toy_test_acc,latency"));
    assert_eq!(text.lines().count(), 102);

    // A forest on the graph features learns the synthetic function from 60 labels.
    let run = d.join("run");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/declared-forest.yaml");
    ok(&nar(&[
        "train",
        "--config",
        path(&config),
        "--data",
        path(&store),
        "--budget",
        "60",
        "-o",
        path(&run),
        "--no-report",
    ]));
    let e = ok(&nar(&["eval", path(&run)]));
    assert_eq!(figure(&e, "held-out architectures"), 41.0);
    let tau = figure(&e, "Kendall τ / Spearman ρ");
    assert!(tau > 0.85, "τ {tau} on the held-out 41:\n{e}");
    assert!(e.contains("zero-cost floor          none (the space has no cost model)"), "{e}");
    // NAR's transformer on the space's generic tensor (its patches set from the declaration).
    let tr = d.join("transformer");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/declared-transformer.yaml");
    let o = ok(&nar(&[
        "train",
        "--config",
        path(&config),
        "--data",
        path(&store),
        "--budget",
        "60",
        "--epochs",
        "3",
        "-o",
        path(&tr),
        "--no-report",
    ]));
    assert!(o.contains("epoch   2"), "{o}");
    let cfg = std::fs::read_to_string(tr.join("config.yaml")).unwrap();
    assert!(cfg.contains("n_arch_patch: 5") && cfg.contains("d_patch: 5"), "3 ops + 2 channels, 5 vertices: {cfg}");
    let e = ok(&nar(&["eval", path(&tr), "--tiers"]));
    assert_eq!(figure(&e, "held-out architectures"), 41.0);
    assert!(figure(&e, "tier accuracy").is_finite() && figure(&e, "Kendall τ / Spearman ρ").is_finite(), "{e}");
    let r = ok(&nar(&["rank", path(&run), "--top", "3"]));
    assert!(r.contains("ranked 101 architectures"), "{r}");

    // The search on the table: the target is a best cell (0.76: three convs), which nar's guided
    // search queries by 20 queries on every seed.
    let s = ok(&nar(&["search", "--space", path(&yaml), "--data", path(&store), "--seeds", "5", "--budget", "20"]));
    assert!(s.contains("pool 101 architectures (the whole space, 49 distinct functions"), "{s}");
    let nar_20 = s.lines().find(|l| l.trim_start().starts_with("nar") && l.contains(" 20 ")).unwrap();
    assert!(nar_20.contains("0.7600 ± 0.0000") && nar_20.trim_end().ends_with("5/5"), "{nar_20}");

    // The predictor study on its table: the forest and `best` at 40 labels, no parameter-count floor.
    let study = ok(&nar(&[
        "study",
        "predictors",
        "--space",
        path(&yaml),
        "--table",
        path(&store),
        "--modes",
        "forest,best",
        "--budgets",
        "40",
        "--seeds",
        "2",
        "--csv",
        path(&d.join("study.csv")),
    ]));
    let rows: Vec<&str> = study.lines().filter(|l| l.starts_with("| declared |")).collect();
    assert_eq!(rows.len(), 2, "{study}");
    assert!(rows.iter().all(|r| r.contains("| none (no cost model) |")), "{study}");

    // The main job on it: train nar's recommended predictor, evaluate, search, and the report.
    let best = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/declared-best.yaml");
    let job = d.join("job");
    let o = ok(&nar(&[
        "run",
        "--space",
        path(&yaml),
        "--data",
        path(&store),
        "--config",
        path(&best),
        "--budget",
        "40",
        "-o",
        path(&job),
    ]));
    assert!(!o.contains("warning"), "{o}");
    let page = std::fs::read_to_string(job.join("report.html")).unwrap();
    assert!(
        page.contains("<h2>Held-out evaluation</h2>") && page.contains("<h2>Budgeted search at the run's budget</h2>")
    );
    ok(&nar(&["report", path(&job), "-o", path(&d.join("again.html"))]));

    // Through an oracle command, within a bound on the table's latency column: the journal holds the
    // script's answers (the synthetic function of each queried cell) under the declaration's hash.
    let oracle = d.join("oracle.sh");
    std::fs::write(&oracle, ORACLE).unwrap();
    let journal = d.join("journal.jsonl");
    let command = format!("sh {} {{arch}}", path(&oracle));
    let args = |journal: &Path| {
        vec![
            "search".to_string(),
            "--space".into(),
            path(&yaml).into(),
            "--data".into(),
            path(&store).into(),
            "--oracle-cmd".into(),
            command.clone(),
            "--journal".into(),
            path(journal).into(),
            "--method".into(),
            "nar".into(),
            "--seeds".into(),
            "1".into(),
            "--budget".into(),
            "12".into(),
            "--max".into(),
            "latency=5".into(),
        ]
    };
    let argv = args(&journal);
    let s = ok(&nar(&argv.iter().map(String::as_str).collect::<Vec<_>>()));
    let within = archs.iter().filter(|a| synthetic(a).1 <= 5).count();
    assert!(s.contains(&format!("pool {within} architectures (those with latency ≤ 5")), "{s}");
    let text = std::fs::read_to_string(&journal).unwrap();
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let sha = nar::spaces::declared::Declaration::parse(TREES, &yaml).unwrap().sha256;
    assert_eq!(header["declaration"], sha.as_str());
    let answers: Vec<serde_json::Value> = lines.map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), 12);
    for a in &answers {
        let arch = a["arch"].as_str().unwrap();
        let (v, latency) = synthetic(arch);
        assert!(latency <= 5, "{arch} is outside the bound");
        assert!((a["val"].as_f64().unwrap() - v).abs() < 1e-9, "{a}");
    }

    // An edited declaration (a comment changes its hash) takes neither the journal nor the dataset.
    let edited = d.join("edited.yaml");
    std::fs::write(&edited, format!("# edited\n{TREES}")).unwrap();
    let mut argv = args(&journal);
    argv[2] = path(&edited).into();
    let o = nar(&argv.iter().map(String::as_str).collect::<Vec<_>>());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("is not the declared space in use") && err.contains("edited.yaml"), "{err}");
    assert!(err.contains("trees.yaml"), "both declarations named: {err}");
    let journal_bytes = std::fs::read(&journal).unwrap();
    let fresh = d.join("fresh.nar");
    let o = nar(&["data", "build", "--space", path(&edited), "-m", path(&table), "-o", path(&fresh)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut argv = args(&journal);
    argv[2] = path(&edited).into();
    argv[4] = path(&fresh).into();
    let o = nar(&argv.iter().map(String::as_str).collect::<Vec<_>>());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("holds answers on declared") && err.contains(&sha[..12]), "{err}");
    assert_eq!(std::fs::read(&journal).unwrap(), journal_bytes, "the journal is untouched");
}

#[test]
fn bad_tables_of_a_declared_space_are_refused_naming_the_line_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (yaml, archs, _) = tree_space(d);
    // A vertex reading two vertices (in_degree [1, 1]); a relabelled copy of the first cell (the same
    // hash); a fraction above 1; an op the space does not have.
    let two_inputs = r#""{""matrix"": [[0,1,1,0],[0,0,1,0],[0,0,0,1],[0,0,0,0]], ""ops"": [""conv"", ""pool""]}""#;
    let first = archs[0].replace('"', "\"\"");
    let cases = [
        (format!("{two_inputs},0.5\n"), "line 2), field `arch`: vertex 2 reads 2 vertices; in_degree is [1, 1]"),
        (format!("\"{first}\",0.5\n\"{first}\",0.6\n"), "record 2 (line 3), field `hash`"),
        (format!("\"{first}\",1.5\n"), "line 2), field `toy_val_acc`"),
        (
            r#""{""matrix"": [[0,1,0],[0,0,1],[0,0,0]], ""ops"": [""sep""]}",0.5"#.to_string() + "\n",
            "field `arch`: field `ops`: \"sep\" is not an op of trees",
        ),
    ];
    for (i, (rows, says)) in cases.iter().enumerate() {
        let table = d.join(format!("bad{i}.csv"));
        std::fs::write(&table, format!("arch,toy_val_acc\n{rows}")).unwrap();
        let out = d.join(format!("bad{i}.nar"));
        let o = nar(&["data", "build", "--space", path(&yaml), "-m", path(&table), "-o", path(&out)]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "case {i} was accepted");
        assert!(err.contains(&format!("bad{i}.csv")) && err.contains(says), "case {i}: {err}\n(expected {says})");
        assert!(!out.exists(), "case {i}: nothing is written");
    }
    // A declaration that is not one: exit 2, naming the file and the key.
    let bad = d.join("bad.yaml");
    std::fs::write(&bad, TREES.replace("in_degree: [1, 1]", "in_degree: [2, 1]")).unwrap();
    let o = nar(&["search", "--space", path(&bad), "--budget", "5"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.yaml") && err.contains("`in_degree`"), "{err}");
    // The transformer and the cost model's features need a cost model, which a declared space lacks.
    let (_, _, table) = tree_space(d);
    let store = d.join("trees.nar");
    ok(&nar(&["data", "build", "--space", path(&yaml), "-m", path(&table), "-o", path(&store)]));
    let nb201 = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/declared-gbdt.yaml");
    let config = d.join("renas.yaml");
    std::fs::write(&config, std::fs::read_to_string(nb201).unwrap().replace("[graph, onehot]", "[graph, cost]"))
        .unwrap();
    let o = nar(&["train", "--config", path(&config), "--data", path(&store), "-o", path(&d.join("r"))]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("features: cost reads the cost model"), "{err}");
}

/// The NAS-Bench-201 declaration's feature columns (one-hot, operation graph, paths) are the
/// built-in space's, cell for cell, and its dataset built from the benchmark's table (the `arch`
/// column) holds the same accuracies.
#[test]
fn the_nb201_declaration_gives_the_built_in_features_and_accuracies() {
    use nar::features::{FeatureSet, table};
    use nar::space::{SearchSpace, Task};
    use nar::spaces::{Declared, Nb201, nb201::ImageDataset};
    let yaml = Path::new(env!("CARGO_MANIFEST_DIR")).join("spaces/nb201.yaml");
    let active = nar::spaces::declared::plugin::activate_file(&yaml).unwrap();
    let built_in = crate::common::nb201_table();
    let declared: Vec<_> = built_in.archs().iter().map(|a| active.parse(&a.to_string()).unwrap()).collect();
    let sets = [FeatureSet::Onehot, FeatureSet::Graph, FeatureSet::Paths];
    let network = Declared::network(Task::named("cifar10")).unwrap();
    let ours = table::<Declared>(&declared, network, &sets).unwrap();
    let theirs = table::<Nb201>(built_in.archs(), ImageDataset::Cifar10, &sets).unwrap();
    for set in sets {
        assert_eq!(set.names::<Declared>(), set.names::<Nb201>(), "{set}");
    }
    assert_eq!((ours.rows, ours.cols), (theirs.rows, theirs.cols));
    assert_eq!(ours.data, theirs.data);
    // The generic tensor the transformer reads: the pruned operation graph's adjacency, split by the
    // op of each edge's head (skip, 1×1, 3×3, pool; the output last). In this cell the skip edge 1→2
    // leads to a `none` edge only and is pruned.
    let cell = active.parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|").unwrap();
    let t = <Declared as nar::benchmark::Benchmark>::encode(
        &cell,
        &nar::cost::NetworkCost { cells: Vec::new(), total_flops: 0, total_params: 0 },
    );
    assert_eq!((t.channels, t.dim), (6, 8));
    let ones: Vec<(usize, usize, usize)> =
        (0..6 * 64).filter(|&k| t.data[k] == 1.0).map(|k| (k / 64, k / 8 % 8, k % 8)).collect();
    assert_eq!(
        ones,
        [(0, 0, 1), (0, 0, 4), (0, 1, 5), (0, 4, 7), (0, 5, 7), (2, 0, 4), (3, 0, 1), (4, 1, 5), (5, 4, 7), (5, 5, 7)]
    );
    assert_eq!(t.data.iter().filter(|&&v| v != 0.0).count(), ones.len());
    // Every cell's class is the built-in's: equal canonical forms exactly where the built-in's are.
    let canon: Vec<_> = declared.iter().map(|a| Declared::id(&Declared::canonical(a))).collect();
    let built: Vec<_> = built_in.archs().iter().map(|a| Nb201::id(&Nb201::canonical(a))).collect();
    let mut pairs = std::collections::HashMap::new();
    for (c, b) in canon.iter().zip(&built) {
        assert_eq!(*pairs.entry(*c).or_insert(*b), *b, "one declared class, two built-in ones");
    }
    assert_eq!(pairs.len(), 4660);
    // The benchmark's table with its architecture column named `arch` builds the declared dataset.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("nb201.csv");
    let mut w = csv::Writer::from_path(&csv).unwrap();
    w.write_record(["arch", "cifar10_val_acc"]).unwrap();
    let val = built_in.metric("cifar10_val_acc").unwrap();
    for (a, v) in built_in.archs().iter().zip(val) {
        w.write_record([a.to_string(), v.to_string()]).unwrap();
    }
    w.flush().unwrap();
    let ds = nar::data::build::<Declared>(&[csv], &mut |_| {}).unwrap();
    assert_eq!(ds.len(), 15_625);
    let dval = ds.metric("cifar10_val_acc").unwrap();
    for (a, v) in declared.iter().zip(val) {
        assert_eq!(dval[ds.position(&Declared::id(a)).unwrap()], *v);
    }
}

const DARTS_ORACLE: &str = "#!/bin/sh\n\
    c=$(printf '%s' \"$1\" | grep -o 'sep_conv' | wc -l)\n\
    awk -v c=\"$c\" 'BEGIN { printf \"%.3f\\n\", 80 + 1.5 * c }'\n";

/// The DARTS cell (about 3 × 10⁹ cells, no table here): a table of sampled cells is a dataset of
/// those cells, and an oracle command searches a fixed sample of the space.
#[test]
fn the_darts_cell_is_searched_through_an_oracle_command() {
    use nar::rng::Rng;
    use nar::spaces::declared::DeclaredSpace;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let yaml = Path::new(env!("CARGO_MANIFEST_DIR")).join("spaces/darts-cell.yaml");
    let DeclaredSpace::Edges(s) = DeclaredSpace::load(&yaml).unwrap() else { panic!("edges") };
    let mut rng = Rng::new(7);
    let cells: Vec<String> = (0..60).map(|_| s.text(&s.sample(&mut rng))).collect();
    let table = d.join("darts.csv");
    let mut w = csv::Writer::from_path(&table).unwrap();
    w.write_record(["arch", "cifar10_val_acc"]).unwrap();
    for c in &cells {
        w.write_record([c.clone(), format!("{:.3}", 80.0 + 1.5 * c.matches("sep_conv").count() as f64)]).unwrap();
    }
    w.flush().unwrap();
    let store = d.join("darts.nar");
    ok(&nar(&["data", "build", "--space", path(&yaml), "-m", path(&table), "-o", path(&store)]));
    let info = ok(&nar(&["data", "info", path(&store)]));
    assert!(
        info.contains("archs     60") && info.contains("subset    60 architectures of a space too large to list"),
        "{info}"
    );

    let oracle = d.join("oracle.sh");
    std::fs::write(&oracle, DARTS_ORACLE).unwrap();
    let journal = d.join("journal.jsonl");
    let command = format!("sh {} {{arch}}", path(&oracle));
    let out = ok(&nar(&[
        "search",
        "--space",
        path(&yaml),
        "--oracle-cmd",
        &command,
        "--journal",
        path(&journal),
        "--method",
        "random",
        "--seeds",
        "1",
        "--budget",
        "10",
    ]));
    assert!(
        out.contains("pool 20000 architectures (the labelled pool, or the sample of a space too large to list)"),
        "{out}"
    );
    let text = std::fs::read_to_string(&journal).unwrap();
    let answers: Vec<serde_json::Value> = text.lines().skip(1).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), 10);
    for a in &answers {
        let arch = a["arch"].as_str().unwrap();
        assert_eq!(s.text(&s.parse(arch).unwrap()), arch, "a cell of the space in its text form");
        let want = 80.0 + 1.5 * arch.matches("sep_conv").count() as f64;
        assert!((a["val"].as_f64().unwrap() - want).abs() < 1e-9, "{a}");
    }
}
