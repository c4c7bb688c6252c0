//! The cell-information cost model (`docs/design.md` §2): FLOPs and parameters of every vertex (NB101) or edge
//! (NB201) of every cell of the network an architecture defines, and whole-network totals. NAR never
//! released this code; each space's model (`spaces/<name>/cost.rs`) reproduces its published numbers
//! exactly. This module holds what they share: the cost's types and the convolution's parameter count.

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

impl NetworkCost {
    /// The cost as `nar arch --json` and Python's `Arch.cost()` show it: the totals and every cell's
    /// per-vertex (NB101) or per-edge (NB201) values under NAR's cell keys.
    pub fn summary(&self) -> CostSummary<'_> {
        let by_key = |f: fn(&CellCost) -> &[u64]| ByCell(self.cells.iter().map(|c| (c.key, f(c))).collect());
        CostSummary {
            total_flops: self.total_flops,
            total_params: self.total_params,
            vertex_or_edge_flops: by_key(|c| &c.flops),
            vertex_or_edge_params: by_key(|c| &c.params),
        }
    }
}

/// [`NetworkCost::summary`]: one `Serialize` for the command line's JSON and the Python dict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CostSummary<'a> {
    pub total_flops: u64,
    pub total_params: u64,
    pub vertex_or_edge_flops: ByCell<'a>,
    pub vertex_or_edge_params: ByCell<'a>,
}

/// Per-cell values keyed by NAR's cell key, serialized as a map in the network's cell order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByCell<'a>(pub Vec<(&'static str, &'a [u64])>);

impl Serialize for ByCell<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Parameters of a bias-free k×k convolution followed by batch norm (scale and shift).
pub fn conv_bn_params(k: u64, c_in: u64, c_out: u64) -> u64 {
    k * k * c_in * c_out + 2 * c_out
}
