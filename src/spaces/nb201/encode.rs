//! NAS-Bench-201's ReNAS tensor, 31×4×4 (`docs/design.md` §4): channel 0 is the 4×4 cell matrix of op
//! codes; then for each of the fifteen cells the edge FLOPs and edge params at (from, to), raw
//! (unscaled), as the reference does.

use super::{Arch, EDGES, NUM_NODES};
use crate::cost::NetworkCost;
use crate::encode::FeatureTensor;

/// Channels: 1 + 2 × 15 cells.
pub const CHANNELS: usize = 31;

/// Encodes an architecture with one data set's network cost into the 31×4×4 tensor.
pub fn tensor(arch: &Arch, cost: &NetworkCost) -> FeatureTensor {
    let mut t = FeatureTensor::zeros(1 + 2 * cost.cells.len(), NUM_NODES);
    for (e, &(i, j)) in EDGES.iter().enumerate() {
        t.set(0, i, j, f32::from(arch.ops()[e].code()));
        for (c, cc) in cost.cells.iter().enumerate() {
            t.set(1 + 2 * c, i, j, cc.flops[e] as f32);
            t.set(2 + 2 * c, i, j, cc.params[e] as f32);
        }
    }
    t
}
