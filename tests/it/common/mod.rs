//! Helpers shared by the integration tests: the real data in the repository's `data/` (its README
//! says where each file comes from), the tiny configuration, and running the binary.
#![allow(dead_code)]

use std::path::PathBuf;

/// A file of the repository's `data/` folder, e.g. `nb201/nb201_accuracy.csv`.
pub fn data_file(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data").join(rel);
    assert!(p.exists(), "missing data file {}", p.display());
    p
}

pub fn read_json(rel: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(data_file(rel)).expect("readable");
    serde_json::from_str(&text).expect("valid JSON")
}

/// One row of `data/nb101/nb101_subset_1k.csv`.
pub struct Nb101Row {
    pub hash: String,
    pub matrix: Vec<Vec<i64>>,
    pub ops: Vec<String>,
    pub val_acc_108: f64,
}

pub fn nb101_subset() -> Vec<Nb101Row> {
    let mut reader = csv::Reader::from_path(data_file("nb101/nb101_subset_1k.csv")).expect("csv");
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (h, m, o, v) = (col("unique_hash"), col("module_adjacency"), col("module_operations"), col("val_acc_108ep"));
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            Nb101Row {
                hash: r[h].to_string(),
                matrix: serde_json::from_str(&r[m]).expect("matrix"),
                ops: serde_json::from_str(&r[o]).expect("ops"),
                val_acc_108: r[v].parse().expect("accuracy"),
            }
        })
        .collect()
}

/// `(index, arch_str)` of every row of `data/nb201/nb201_accuracy.csv`.
pub fn nb201_strings() -> Vec<(usize, String)> {
    let mut reader = csv::Reader::from_path(data_file("nb201/nb201_accuracy.csv")).expect("csv");
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            (r[0].parse().expect("index"), r[1].to_string())
        })
        .collect()
}

/// NAR's reference configuration of `space` shrunk to a model that trains in seconds: the same code
/// paths, tiny sizes, set on the parsed configuration's typed fields (and checked).
pub fn tiny_config(space: nar::space::SpaceKind) -> nar::config::Config {
    let mut c = nar::config::Config::reference(space);
    let r = &mut c.ranker;
    (r.d_patch_vec, r.d_model, r.d_ffn_inner, r.n_layers) = (16, 16, 32, 1);
    (r.d_k, r.d_v, r.d_tier_prj_inner, r.d_val_acc_prj_inner) = (8, 8, 16, 16);
    if space == nar::space::SpaceKind::Nb201 {
        (c.train_size, c.val_size, c.train_batch_size, c.val_batch_size) = (250, 100, 50, Some(50));
        let s = c.sampler.as_mut().expect("NB201's reference configuration has a sampler");
        (s.sample_size, s.search_size) = (32, Some(32));
    }
    c.check().expect("the tiny configuration is valid");
    c
}

/// [`tiny_config`] of NB201 as YAML, as a configuration file holds it.
pub fn tiny_nb201_config() -> String {
    serde_yaml::to_string(&tiny_config(nar::space::SpaceKind::Nb201)).expect("a configuration serializes")
}

/// [`tiny_config`] of NB101 as YAML.
pub fn tiny_nb101_config() -> String {
    serde_yaml::to_string(&tiny_config(nar::space::SpaceKind::Nb101)).expect("a configuration serializes")
}

/// [`tiny_nb201_config`] written to `dir/tiny.yaml`; returns its path.
pub fn tiny_config_file(dir: &std::path::Path) -> String {
    let p = dir.join("tiny.yaml");
    std::fs::write(&p, tiny_nb201_config()).expect("writable");
    p.display().to_string()
}

/// The `nar` binary with `args`, to run, spawn or give an environment.
pub fn nar_command(args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_nar"));
    c.args(args);
    c
}

/// Runs the `nar` binary.
pub fn nar(args: &[&str]) -> std::process::Output {
    nar_command(args).output().expect("nar runs")
}

/// The NAS-Bench-201 table (`data/nb201/nb201_accuracy.csv`, as built into the binary), read once per
/// test run.
pub fn nb201_table() -> &'static nar::data::Dataset<nar::spaces::Nb201> {
    static DS: std::sync::OnceLock<nar::data::Dataset<nar::spaces::Nb201>> = std::sync::OnceLock::new();
    DS.get_or_init(|| {
        nar::data::build::<nar::spaces::Nb201>(&[data_file("nb201/nb201_accuracy.csv")], &mut |_| {}).unwrap()
    })
}

/// Asserts success and returns stdout + stderr.
pub fn ok(o: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}\n{}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stdout).into_owned() + &err
}

/// The store of the NB101 sample (`data/nb101/nb101_subset_1k.csv` joined onto the whole space), built
/// by `nar data build` into `dir`.
pub fn nb101_sample_store(dir: &std::path::Path) -> std::path::PathBuf {
    let store = dir.join("nb101.nar");
    let csv = data_file("nb101/nb101_subset_1k.csv");
    ok(&nar(&["data", "build", "--space", "nb101", "-m", csv.to_str().unwrap(), "-o", store.to_str().unwrap()]));
    store
}

/// Trains the tiny configuration for `epochs` on a fresh NB201 store in `dir`; returns the run dir.
pub fn tiny_run(dir: &std::path::Path, name: &str, epochs: usize) -> std::path::PathBuf {
    let cfg = tiny_config_file(dir);
    let store = dir.join("nb201.nar");
    if !store.exists() {
        let csv = data_file("nb201/nb201_accuracy.csv");
        ok(&nar(&["data", "build", "--space", "nb201", "-m", csv.to_str().unwrap(), "-o", store.to_str().unwrap()]));
    }
    let run = dir.join(name);
    let e = epochs.to_string();
    ok(&nar(&[
        "train",
        "--config",
        &cfg,
        "--data",
        store.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--epochs",
        &e,
    ]));
    run
}

/// The dataset of the 1,000 cells of `data/nb101/nb101_subset_1k.csv` (no metrics yet), without
/// enumerating the space.
pub fn nb101_subset_dataset() -> nar::data::Dataset<nar::spaces::Nb101> {
    use nar::space::SearchSpace;
    let (archs, ids): (Vec<nar::spaces::nb101::Cell>, Vec<_>) = nb101_subset()
        .iter()
        .map(|r| {
            let c = nar::spaces::nb101::Cell::new(&r.matrix, &r.ops).unwrap();
            (c, nar::spaces::Nb101::id(&c))
        })
        .unzip();
    nar::data::Dataset::from_parts(archs, ids, vec![], vec![]).unwrap()
}
