//! The ReNAS feature tensor NAR feeds its ranker (`docs/design.md` §4).
//!
//! - NB101, 19×7×7: channel 0 is adjacency ⊙ op code of the destination vertex (input 1, conv1x1 2,
//!   conv3x3 3, maxpool 4, output 5); then for each of the nine cells, adjacency ⊙ vertex FLOPs / 1e7 and
//!   adjacency ⊙ vertex params / 1e5, where entry (i, j) = adj[i][j] · value[j]. Cells with fewer than 7
//!   vertices are padded with zero rows/columns inserted *before* the output vertex, so the output is
//!   always index 6.
//! - NB201, 31×4×4: channel 0 is the 4×4 cell matrix of op codes; then for each of the fifteen cells the
//!   edge FLOPs and edge params at (from, to), raw (unscaled), as the reference does.
//!
//! Values are `f32`, computed as PyTorch computes them (integer → f32, then the f32 division).

use serde::Serialize;

use crate::cost::NetworkCost;
use crate::space::nb101::{Cell, MAX_VERTICES};
use crate::space::nb201::{self, Arch};

/// A dense `channels × dim × dim` tensor, row-major.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeatureTensor {
    pub channels: usize,
    pub dim: usize,
    pub data: Vec<f32>,
}

impl FeatureTensor {
    fn zeros(channels: usize, dim: usize) -> FeatureTensor {
        FeatureTensor { channels, dim, data: vec![0.0; channels * dim * dim] }
    }

    /// Entry (c, i, j).
    pub fn get(&self, c: usize, i: usize, j: usize) -> f32 {
        self.data[(c * self.dim + i) * self.dim + j]
    }

    fn set(&mut self, c: usize, i: usize, j: usize, v: f32) {
        self.data[(c * self.dim + i) * self.dim + j] = v;
    }

    /// Channel `c` as rows.
    pub fn channel(&self, c: usize) -> Vec<Vec<f32>> {
        (0..self.dim).map(|i| (0..self.dim).map(|j| self.get(c, i, j)).collect()).collect()
    }
}

/// NB101 channels: 1 + 2 × 9 cells.
pub const NB101_CHANNELS: usize = 19;
/// NB201 channels: 1 + 2 × 15 cells.
pub const NB201_CHANNELS: usize = 31;

/// Encodes an NB101 cell with its network cost into the 19×7×7 tensor.
pub fn nb101(cell: &Cell, cost: &NetworkCost) -> FeatureTensor {
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

/// Encodes an NB201 architecture with one dataset's network cost into the 31×4×4 tensor.
pub fn nb201(arch: &Arch, cost: &NetworkCost) -> FeatureTensor {
    let mut t = FeatureTensor::zeros(1 + 2 * cost.cells.len(), nb201::NUM_NODES);
    for (e, &(i, j)) in nb201::EDGES.iter().enumerate() {
        t.set(0, i, j, f32::from(arch.ops()[e].code()));
        for (c, cc) in cost.cells.iter().enumerate() {
            t.set(1 + 2 * c, i, j, cc.flops[e] as f32);
            t.set(2 + 2 * c, i, j, cc.params[e] as f32);
        }
    }
    t
}
