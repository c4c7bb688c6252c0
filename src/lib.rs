//! nar — the Neural Architecture Ranker, in Rust.
//!
//! Layout, bottom up:
//! - [`space`]: the benchmark search spaces (NAS-Bench-101 cells and hashing, NAS-Bench-201 strings
//!   and indices) behind one [`space::SearchSpace`] trait;
//! - [`cost`]: the cell-information cost model (per-vertex/per-edge FLOPs and params);
//! - [`encode`]: the feature tensors the ranker reads;
//! - [`io`]: atomic file output;
//! - [`cli`]: the `nar` command line, a thin layer over the above.

// Matrix code reads best with explicit (i, j) indices.
#![allow(clippy::needless_range_loop)]

pub mod cli;
pub mod cost;
pub mod data;
pub mod encode;
pub mod io;
pub mod ranker;
pub mod report;
pub mod rng;
pub mod sampler;
pub mod search;
pub mod space;
