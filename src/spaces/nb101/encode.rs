//! NAS-Bench-101's ReNAS tensor, 19×7×7 (`docs/design.md` §4): channel 0 is adjacency ⊙ op code of the
//! destination vertex (input 1, conv1x1 2, conv3x3 3, maxpool 4, output 5); then for each of the nine
//! cells, adjacency ⊙ vertex FLOPs / 1e7 and adjacency ⊙ vertex params / 1e5, where entry (i, j) =
//! adj[i][j] · value[j]. Cells with fewer than 7 vertices are padded with zero rows/columns inserted
//! *before* the output vertex, so the output is always index 6.

use super::{Cell, MAX_VERTICES};
use crate::cost::NetworkCost;
use crate::encode::FeatureTensor;

/// Channels: 1 + 2 × 9 cells.
pub const CHANNELS: usize = 19;

/// Encodes a cell with its network cost into the 19×7×7 tensor.
pub fn tensor(cell: &Cell, cost: &NetworkCost) -> FeatureTensor {
    let n = cell.num_vertices();
    let mut t = FeatureTensor::zeros(1 + 2 * cost.cells.len(), MAX_VERTICES);
    let pos = |v: usize| if v == n - 1 { MAX_VERTICES - 1 } else { v };
    for i in 0..n {
        for j in 0..n {
            if !cell.has_edge(i, j) {
                continue;
            }
            let (pi, pj) = (pos(i), pos(j));
            t.set(0, pi, pj, f32::from(cell.ops()[j].feature_code()));
            for (c, cc) in cost.cells.iter().enumerate() {
                t.set(1 + 2 * c, pi, pj, cc.flops[j] as f32 / 1e7_f32);
                t.set(2 + 2 * c, pi, pj, cc.params[j] as f32 / 1e5_f32);
            }
        }
    }
    t
}
