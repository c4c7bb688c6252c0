//! Feature sets a predictor can read an architecture through (docs/design.md §4), computed for both
//! spaces and combinable: a predictor's `features:` list concatenates the sets' columns in order.
//!
//! - [`FeatureSet::Renas`]: NAR's ReNAS tensor (`encode`), flattened (496 NB201, 931 NB101 columns);
//! - [`FeatureSet::Onehot`]: the architecture as one-hot operations (NB201: 6 edges × 5 ops; NB101: the
//!   21 upper-triangular adjacency bits of the padded 7×7 matrix and 5 interior vertices × 3 ops);
//! - [`FeatureSet::Graph`]: GRAF-style structural features of the pruned operation graph ([`graph`]);
//! - [`FeatureSet::Paths`]: the path encoding, the number of input→output paths per op sequence;
//! - [`FeatureSet::Cost`]: the cost model's network totals, FLOPs and parameters;
//! - [`FeatureSet::Proxies`]: zero-cost proxies of the task's network at initialisation, from the
//!   space's shipped table ([`proxies`]).

pub mod graph;
pub mod proxies;

use crate::benchmark::Benchmark;
use crate::space::SearchSpace;
use anyhow::{Result, bail};
use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use graph::OpGraph;

/// One feature set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureSet {
    Renas,
    Onehot,
    Graph,
    Paths,
    Cost,
    Proxies,
}

impl FeatureSet {
    pub const ALL: [FeatureSet; 6] = [
        FeatureSet::Renas,
        FeatureSet::Onehot,
        FeatureSet::Graph,
        FeatureSet::Paths,
        FeatureSet::Cost,
        FeatureSet::Proxies,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FeatureSet::Renas => "renas",
            FeatureSet::Onehot => "onehot",
            FeatureSet::Graph => "graph",
            FeatureSet::Paths => "paths",
            FeatureSet::Cost => "cost",
            FeatureSet::Proxies => "proxies",
        }
    }

    /// The set's column names for space `S`.
    pub fn names<S: Featurize>(self) -> Vec<String> {
        match self {
            FeatureSet::Renas => {
                let (c, d) = S::feature_shape();
                (0..c * d * d).map(|i| format!("renas[{},{},{}]", i / (d * d), i / d % d, i % d)).collect()
            }
            FeatureSet::Onehot => S::one_hot_names(),
            FeatureSet::Graph => graph::graph_feature_names(S::graph_ops()),
            FeatureSet::Paths => graph::path_feature_names(S::graph_ops(), S::max_path_len()),
            FeatureSet::Cost => vec!["flops".into(), "params".into()],
            FeatureSet::Proxies => S::proxy_table().map(|t| t.proxies.clone()).unwrap_or_default(),
        }
    }
}

impl fmt::Display for FeatureSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FeatureSet {
    type Err = String;
    fn from_str(s: &str) -> Result<FeatureSet, String> {
        FeatureSet::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| {
            format!("unknown feature set {s:?}: expected one of {}", FeatureSet::ALL.map(|f| f.name()).join(", "))
        })
    }
}

/// A dense row-major table of features: `rows × cols` values.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Table {
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..][..self.cols]
    }

    /// The rows at `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Table {
        let mut data = Vec::with_capacity(idx.len() * self.cols);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Table { rows: idx.len(), cols: self.cols, data }
    }

    /// Column-major copy (what the tree crates read).
    pub fn columns(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.data.len());
        for c in 0..self.cols {
            out.extend((0..self.rows).map(|r| self.data[r * self.cols + c]));
        }
        out
    }
}

/// What a space must provide for its feature sets.
pub trait Featurize: Benchmark {
    /// The operations the graph and path features range over, in the codes the operation graph uses
    /// (`none` is not an operation: no edge).
    fn graph_ops() -> &'static [&'static str];
    /// The longest operation sequence on an input→output path (NB101: 5 interior vertices; NB201: 3
    /// edges).
    fn max_path_len() -> usize;
    /// The architecture's operation graph ([`graph::OpGraph`]).
    fn op_graph(arch: &Self::Arch) -> OpGraph;
    /// The one-hot columns.
    fn one_hot(arch: &Self::Arch, out: &mut Vec<f64>);
    /// The one-hot columns' names, in [`Featurize::one_hot`]'s order.
    fn one_hot_names() -> Vec<String>;
    /// The space's zero-cost proxy table (the `proxies` feature set), or why it has none.
    fn proxy_table() -> Result<&'static proxies::ProxyTable> {
        bail!("{} ships no proxy table: the `proxies` feature set is for nb201 and nb101", Self::KIND)
    }
}

/// The task whose network is `network`.
fn task_of<S: SearchSpace>(network: S::Network) -> crate::space::Task {
    S::tasks().iter().copied().find(|&t| S::network(t).ok() == Some(network)).expect("every network is a task's")
}

/// Appends the one-hot columns of a cell with operations on vertices (NB101's, a declared
/// vertices-family space's), padded to `max` vertices with the output always in the last slot: the
/// upper-triangular adjacency bits row by row, then each interior slot's op among `n_ops` (an empty
/// slot all zeros). `n` vertices; `edge(i, j)`, `op(v)` the interior vertex v's op code.
pub fn padded_one_hot(
    n: usize,
    max: usize,
    edge: impl Fn(usize, usize) -> bool,
    op: impl Fn(usize) -> usize,
    n_ops: usize,
    out: &mut Vec<f64>,
) {
    let slot = |v: usize| if v == n - 1 { max - 1 } else { v };
    let mut adj = vec![vec![false; max]; max];
    let mut ops = vec![None; max];
    for i in 0..n {
        if i > 0 && i < n - 1 {
            ops[slot(i)] = Some(op(i));
        }
        for j in 0..n {
            adj[slot(i)][slot(j)] |= edge(i, j);
        }
    }
    let bit = |b: bool| f64::from(u8::from(b));
    for (i, row) in adj.iter().enumerate() {
        out.extend(row[i + 1..].iter().map(|&e| bit(e)));
    }
    for o in &ops[1..max - 1] {
        out.extend((0..n_ops).map(|k| bit(*o == Some(k))));
    }
}

/// Appends the columns of `sets` for one architecture; an error where a set's data lacks it (the
/// proxies of a cell outside the proxy table).
pub fn row<S: Featurize>(arch: &S::Arch, network: S::Network, sets: &[FeatureSet], out: &mut Vec<f64>) -> Result<()> {
    let k = S::graph_ops().len();
    let mut cost = None;
    let mut op_graph = None;
    for set in sets {
        match set {
            FeatureSet::Renas => {
                let c = cost.get_or_insert_with(|| S::cost(arch, network));
                out.extend(S::encode(arch, c).data.iter().map(|&v| f64::from(v)));
            }
            FeatureSet::Onehot => S::one_hot(arch, out),
            FeatureSet::Graph => graph::graph_features(op_graph.get_or_insert_with(|| S::op_graph(arch)), k, out),
            FeatureSet::Paths => {
                graph::path_features(op_graph.get_or_insert_with(|| S::op_graph(arch)), k, S::max_path_len(), out)
            }
            FeatureSet::Cost => {
                let c = cost.get_or_insert_with(|| S::cost(arch, network));
                out.push(c.total_flops as f64);
                out.push(c.total_params as f64);
            }
            FeatureSet::Proxies => {
                let table = S::proxy_table()?;
                out.extend_from_slice(table.row(&S::id(arch).to_string(), task_of::<S>(network).name())?);
            }
        }
    }
    Ok(())
}

/// Number of columns of `sets` for space `S`.
pub fn width<S: Featurize>(sets: &[FeatureSet]) -> usize {
    sets.iter().map(|s| s.names::<S>().len()).sum()
}

/// The feature table of `archs` (one row each) for `sets`, computed on all threads; the first
/// architecture a set has no data for is the error.
pub fn table<S: Featurize>(archs: &[S::Arch], network: S::Network, sets: &[FeatureSet]) -> Result<Table> {
    if sets.contains(&FeatureSet::Proxies) {
        S::proxy_table()?;
    }
    let cols = width::<S>(sets);
    // Each row written in place: one table in memory, not the rows and then their concatenation.
    let mut data = vec![0.0; archs.len() * cols];
    if cols > 0 {
        data.par_chunks_mut(cols).zip(archs).try_for_each(|(out, a)| {
            let mut r = Vec::with_capacity(cols);
            row::<S>(a, network, sets, &mut r)?;
            out.copy_from_slice(&r);
            Ok::<(), anyhow::Error>(())
        })?;
    }
    Ok(Table { rows: archs.len(), cols, data })
}
