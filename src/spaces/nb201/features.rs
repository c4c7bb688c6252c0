//! NAS-Bench-201's feature sets (`docs/design.md` §4): its operation graph has one vertex per edge
//! whose op is not `none` (operations on edges); its one-hot columns are 6 edges × 5 ops.

use super::{Arch, EDGES, NUM_NODES, Nb201, Op};
use crate::features::Featurize;
use crate::features::graph::OpGraph;
use crate::features::proxies::{self, ProxyTable};

/// The zero-cost proxy table of every architecture (`data/README.md` says how it was made).
pub const PROXY_TABLE: &str = "data/nb201/nb201_proxies.csv";
/// Its SHA-256, as `data/README.md` records it.
pub const PROXY_TABLE_SHA256: &str = "ae4aafcb7531cf6a03e962828c851793b29fbbce28ebd46533cc4b44bceb5591";
static PROXIES_GZ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/nb201_proxies.csv.gz"));

impl Featurize for Nb201 {
    fn proxy_table() -> anyhow::Result<&'static ProxyTable> {
        static TABLE: std::sync::OnceLock<Result<ProxyTable, String>> = std::sync::OnceLock::new();
        proxies::embedded::<Nb201>(&TABLE, PROXY_TABLE, PROXIES_GZ, PROXY_TABLE_SHA256)
    }
    fn graph_ops() -> &'static [&'static str] {
        &["skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
    }
    fn max_path_len() -> usize {
        NUM_NODES - 1
    }
    fn one_hot_names() -> Vec<String> {
        EDGES.iter().flat_map(|(i, j)| Op::ALL.iter().map(move |o| format!("edge{i}{j}={}", o.name()))).collect()
    }
    /// One vertex per edge (vertex 1 + e for edge e of [`EDGES`]): the input feeds every edge leaving
    /// node 0, edge i→j every edge leaving node j, every edge into node 3 the output; `none` edges have
    /// no connections and are pruned.
    fn op_graph(arch: &Arch) -> OpGraph {
        let ops = arch.ops();
        let edges: Vec<(usize, usize, Option<u8>)> = EDGES
            .iter()
            .zip(ops)
            .map(|(&(from, to), op)| (from, to, (op != Op::None).then(|| op.code() - 1)))
            .collect();
        OpGraph::of_edges(&edges, |from| from == 0, |to| to == NUM_NODES - 1)
    }
    fn one_hot(arch: &Arch, out: &mut Vec<f64>) {
        for op in arch.ops() {
            out.extend(Op::ALL.iter().map(|o| f64::from(u8::from(op == *o))));
        }
    }
}
