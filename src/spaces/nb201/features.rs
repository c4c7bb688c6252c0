//! NAS-Bench-201's feature sets (`docs/design.md` §4): its operation graph has one vertex per edge
//! whose op is not `none` (operations on edges); its one-hot columns are 6 edges × 5 ops.

use super::{Arch, EDGES, NUM_EDGES, NUM_NODES, Nb201, Op};
use crate::features::Featurize;
use crate::features::graph::OpGraph;

impl Featurize for Nb201 {
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
        let out = NUM_EDGES + 1;
        let mut op = [0u8; NUM_EDGES + 2];
        let mut succ = [0u16; NUM_EDGES + 2];
        let real = |e: usize| ops[e] != Op::None;
        for (e, &(from, to)) in EDGES.iter().enumerate() {
            if !real(e) {
                continue;
            }
            op[1 + e] = ops[e].code() - 1;
            if from == 0 {
                succ[0] |= 1 << (1 + e);
            }
            if to == NUM_NODES - 1 {
                succ[1 + e] |= 1 << out;
            }
            for (f, &(from2, _)) in EDGES.iter().enumerate() {
                if real(f) && from2 == to {
                    succ[1 + e] |= 1 << (1 + f);
                }
            }
        }
        OpGraph::new(&op, &succ)
    }
    fn one_hot(arch: &Arch, out: &mut Vec<f64>) {
        for op in arch.ops() {
            out.extend(Op::ALL.iter().map(|o| f64::from(u8::from(op == *o))));
        }
    }
}
