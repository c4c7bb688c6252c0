//! nar — the Neural Architecture Ranker, in Rust.
//!
//! Layout, bottom up (`docs/design.md` states the definitions each layer follows):
//! - [`space`]: the benchmark search spaces (NAS-Bench-101 cells and hashing, NAS-Bench-201 strings
//!   and indices) behind one [`space::SearchSpace`] trait; a leaf, importing nothing of the crate;
//! - [`cost`]: the cell-information cost model (per-vertex/per-edge FLOPs and params);
//! - [`encode`]: the feature tensors the ranker reads;
//! - [`stats`]: the per-tier distribution statistics the ranker's training and the sampler share;
//! - [`benchmark`]: [`benchmark::Benchmark`], a space with nar's models of it (cost, encoding, shape);
//! - [`data`]: benchmark datasets (the `.nar` store, CSV, NAR JSON, tfrecord, the embedded NB201 table);
//! - [`ranker`]: the ranker's CPU engine, training, inference and held-out evaluation;
//! - [`sampler`], [`search`]: NAR's distribution-guided sampler and search, with the honest protocol;
//! - [`run_dir`]: the one type that knows a run directory's files;
//! - [`pipeline`]: the steps a user runs (train, evaluate, search, rank, the main job) as library calls;
//! - [`report`]: the HTML report of a run;
//! - [`io`], [`progress`], [`rng`], [`usage`]: atomic output files, progress reporting, the seeded RNG,
//!   the error for a request that cannot be done (exit 2);
//! - [`process`]: running a user's command (the oracle) in its own process group, output bounded,
//!   time-limited, stopped with nar;
//! - [`bench`]: the speed benchmarks behind `nar bench`;
//! - [`cli`]: the `nar` command line, a thin layer over the above.

// Matrix code reads best with explicit (i, j) indices.
#![allow(clippy::needless_range_loop)]

pub mod bench;
pub mod benchmark;
pub mod cli;
pub mod cost;
pub mod data;
pub mod encode;
pub mod features;
pub mod io;
pub mod pipeline;
pub mod predictor;
pub mod process;
pub mod progress;
pub mod ranker;
pub mod report;
pub mod rng;
pub mod run_dir;
pub mod sampler;
pub mod search;
pub mod space;
pub mod stats;
pub mod usage;

/// The layering the module list above states, checked on the source: each bottom module imports only
/// the modules below it (a module a newcomer adds to a lower layer cannot quietly reach up).
#[cfg(test)]
mod layering {
    use std::path::Path;

    /// The crate modules `dir` (a file or a folder of src/) refers to, outside comments.
    fn uses(rel: &str) -> std::collections::BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(rel);
        let mut files = vec![];
        let mut stack = vec![root];
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            } else if p.extension().is_some_and(|e| e == "rs") {
                files.push(p);
            }
        }
        let mut found = std::collections::BTreeSet::new();
        for f in files {
            for line in std::fs::read_to_string(&f).unwrap().lines() {
                let code = line.split("//").next().unwrap();
                for (i, _) in code.match_indices("crate::") {
                    let rest = &code[i + "crate::".len()..];
                    let module: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    found.insert(module);
                }
            }
        }
        found
    }

    #[test]
    fn lower_layers_import_only_what_is_below_them() {
        let none: [&str; 0] = [];
        for (module, allowed) in [
            ("space", &none[..]),
            ("stats.rs", &none[..]),
            ("cost", &["space"][..]),
            ("encode.rs", &["cost", "space"][..]),
            ("benchmark.rs", &["cost", "encode", "space", "stats"][..]),
        ] {
            let own = module.trim_end_matches(".rs");
            let extra: Vec<String> =
                uses(module).into_iter().filter(|m| m != own && !allowed.contains(&m.as_str())).collect();
            assert!(extra.is_empty(), "src/{module} imports {extra:?}; it may import only {allowed:?}");
        }
    }
}
