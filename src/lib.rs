//! nar — the Neural Architecture Ranker, in Rust.
//!
//! Layout, bottom up (`docs/design.md` states the definitions each layer follows):
//! - [`space`]: the benchmark search spaces (NAS-Bench-101 cells and hashing, NAS-Bench-201 strings
//!   and indices) behind one [`space::SearchSpace`] trait;
//! - [`cost`]: the cell-information cost model (per-vertex/per-edge FLOPs and params);
//! - [`encode`]: the feature tensors the ranker reads;
//! - [`data`]: benchmark datasets (the `.nar` store, CSV, NAR JSON, tfrecord, the embedded NB201 table);
//! - [`ranker`]: the ranker's CPU engine, training, inference and held-out evaluation;
//! - [`sampler`], [`search`]: NAR's distribution-guided sampler and search, with the honest protocol;
//! - [`run_dir`]: the one type that knows a run directory's files;
//! - [`pipeline`]: the steps a user runs (train, evaluate, search, rank, the main job) as library calls;
//! - [`report`]: the HTML report of a run;
//! - [`io`], [`progress`], [`rng`], [`usage`]: atomic output files, progress reporting, the seeded RNG,
//!   the error for a request that cannot be done (exit 2);
//! - [`cli`]: the `nar` command line, a thin layer over the above.

// Matrix code reads best with explicit (i, j) indices.
#![allow(clippy::needless_range_loop)]

pub mod cli;
pub mod cost;
pub mod data;
pub mod encode;
pub mod features;
pub mod io;
pub mod pipeline;
pub mod predictor;
pub mod progress;
pub mod ranker;
pub mod report;
pub mod rng;
pub mod run_dir;
pub mod sampler;
pub mod search;
pub mod space;
pub mod usage;
