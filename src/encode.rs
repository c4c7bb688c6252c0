//! The ReNAS feature tensor NAR feeds its ranker (`docs/design.md` §4): a `channels × dim × dim` tensor,
//! channel 0 the cell's operations, then every cell's FLOPs and parameters. Each space fills it
//! (`spaces/<name>/encode.rs`: NB101's 19×7×7, NB201's 31×4×4). Values are `f32`, computed as PyTorch
//! computes them (integer → f32, then the f32 division).

use serde::Serialize;

/// A dense `channels × dim × dim` tensor, row-major.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeatureTensor {
    pub channels: usize,
    pub dim: usize,
    pub data: Vec<f32>,
}

impl FeatureTensor {
    /// A tensor of zeros.
    pub fn zeros(channels: usize, dim: usize) -> FeatureTensor {
        FeatureTensor { channels, dim, data: vec![0.0; channels * dim * dim] }
    }

    /// Entry (c, i, j).
    pub fn get(&self, c: usize, i: usize, j: usize) -> f32 {
        self.data[(c * self.dim + i) * self.dim + j]
    }

    /// Sets entry (c, i, j).
    pub fn set(&mut self, c: usize, i: usize, j: usize, v: f32) {
        self.data[(c * self.dim + i) * self.dim + j] = v;
    }

    /// Channel `c` as rows.
    pub fn channel(&self, c: usize) -> Vec<Vec<f32>> {
        (0..self.dim).map(|i| (0..self.dim).map(|j| self.get(c, i, j)).collect()).collect()
    }
}
