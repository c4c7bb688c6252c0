//! Helpers shared by the integration tests: where the real data lives.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared` beside the checkout (override with `NAR_SHARED`).
pub fn shared() -> PathBuf {
    std::env::var_os("NAR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

pub fn shared_file(rel: &str) -> PathBuf {
    let p = shared().join(rel);
    assert!(p.exists(), "missing shared data file {}", p.display());
    p
}

pub fn read_json(rel: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(shared_file(rel)).expect("readable");
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
    let mut reader = csv::Reader::from_path(shared_file("data/nb101/nb101_subset_1k.csv")).expect("csv");
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
    let mut reader = csv::Reader::from_path(shared_file("data/nb201/nb201_accuracy.csv")).expect("csv");
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            (r[0].parse().expect("index"), r[1].to_string())
        })
        .collect()
}
