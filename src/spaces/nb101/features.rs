//! NAS-Bench-101's feature sets (`docs/design.md` §4): the cell is its own operation graph (operations
//! on vertices); its one-hot columns are the 21 upper-triangular adjacency bits of the padded 7×7 matrix
//! and 5 interior vertices × 3 ops.

use super::{Cell, MAX_VERTICES, Nb101, Op};
use crate::features::graph::OpGraph;
use crate::features::proxies::{self, ProxyTable};
use crate::features::{Featurize, padded_one_hot};

/// The zero-cost proxy table of the 1,000 cells of `data/nb101/nb101_subset_1k.csv` (`data/README.md`
/// says how it was made).
pub const PROXY_TABLE: &str = "data/nb101/nb101_proxies.csv";
/// Its SHA-256, as `data/README.md` records it.
pub const PROXY_TABLE_SHA256: &str = "cad0b5cd255a2f5b908d12c8fd91483125a1bcd9f549ded6d527f659d1913a7a";
static PROXIES_GZ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/nb101_proxies.csv.gz"));

impl Featurize for Nb101 {
    fn proxy_table() -> anyhow::Result<&'static ProxyTable> {
        static TABLE: std::sync::OnceLock<Result<ProxyTable, String>> = std::sync::OnceLock::new();
        proxies::embedded::<Nb101>(&TABLE, PROXY_TABLE, PROXIES_GZ, PROXY_TABLE_SHA256)
    }
    fn graph_ops() -> &'static [&'static str] {
        &["conv3x3", "conv1x1", "maxpool3x3"]
    }
    fn max_path_len() -> usize {
        MAX_VERTICES - 2
    }
    fn one_hot_names() -> Vec<String> {
        let mut n = Vec::new();
        for i in 0..MAX_VERTICES {
            for j in i + 1..MAX_VERTICES {
                n.push(format!("edge[{i},{j}]"));
            }
        }
        for v in 1..MAX_VERTICES - 1 {
            for o in Op::INTERIOR {
                n.push(format!("vertex{v}={}", o.name()));
            }
        }
        n
    }
    /// The cell itself, vertex ops in [`Op::INTERIOR`] order.
    fn op_graph(cell: &Cell) -> OpGraph {
        let n = cell.num_vertices();
        let mut op = [0u8; MAX_VERTICES];
        let mut succ = [0u16; MAX_VERTICES];
        for v in 0..n {
            op[v] = Op::INTERIOR.iter().position(|o| *o == cell.ops()[v]).unwrap_or(0) as u8;
            for w in v + 1..n {
                if cell.has_edge(v, w) {
                    succ[v] |= 1 << w;
                }
            }
        }
        OpGraph::new(&op[..n], &succ[..n])
    }
    fn one_hot(cell: &Cell, out: &mut Vec<f64>) {
        // Padded as the ReNAS tensor is: the output vertex is always slot 6 (docs/design.md §4).
        let op = |v: usize| Op::INTERIOR.iter().position(|o| *o == cell.ops()[v]).expect("an interior op");
        padded_one_hot(cell.num_vertices(), MAX_VERTICES, |i, j| cell.has_edge(i, j), op, Op::INTERIOR.len(), out);
    }
}
