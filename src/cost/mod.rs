//! The cell-information cost model (`docs/design.md` §2): FLOPs and parameters of every vertex (NB101) or edge
//! (NB201) of every cell of the network an architecture defines, and whole-network totals. NAR never
//! released this code; the definitions here reproduce its published numbers exactly.

pub mod nb101;
pub mod nb201;

use serde::Serialize;

/// FLOPs and params of one cell, one value per vertex (NB101) or edge (NB201).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CellCost {
    /// NAR's key of the cell, e.g. `stack0/module0` or `cells0`.
    pub key: &'static str,
    pub flops: Vec<u64>,
    pub params: Vec<u64>,
}

/// The cost of a whole network: every cell and the totals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkCost {
    pub cells: Vec<CellCost>,
    pub total_flops: u64,
    pub total_params: u64,
}

/// Parameters of a bias-free k×k convolution followed by batch norm (scale and shift).
pub(crate) fn conv_bn_params(k: u64, c_in: u64, c_out: u64) -> u64 {
    k * k * c_in * c_out + 2 * c_out
}
