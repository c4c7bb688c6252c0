//! The architectures a ranker trains on, is validated on or scores: feature tensors, accuracies and
//! the cost totals and shapes the sampler's statistics need, for one network.

use anyhow::{Result, anyhow, bail};
use rayon::prelude::*;

use crate::benchmark::Benchmark;
use crate::data::Dataset;
use crate::stats::Shape;

/// The labelled architectures of a dataset, encoded for one network.
#[derive(Clone, Debug)]
pub struct Samples {
    /// Positions in the dataset.
    pub positions: Vec<usize>,
    /// Feature tensors, `feat_len` values each (`[P, d_patch²]`).
    pub features: Vec<f32>,
    pub feat_len: usize,
    pub val: Vec<f64>,
    /// Test accuracy where the dataset has it (NaN elsewhere); never used for training.
    pub test: Vec<f64>,
    pub params: Vec<f64>,
    pub flops: Vec<f64>,
    pub shapes: Vec<Shape>,
}

impl Samples {
    /// Encodes the architectures at `positions` (all must have a validation value).
    pub fn new<S: Benchmark>(
        ds: &Dataset<S>,
        positions: Vec<usize>,
        network: S::Network,
        val_metric: &str,
        test_metric: Option<&str>,
    ) -> Result<Samples> {
        let val_col = ds.metric(val_metric).ok_or_else(|| anyhow!("the dataset has no metric {val_metric}"))?;
        let test_col = test_metric.and_then(|m| ds.metric(m));
        let mut s = Samples::unlabelled(ds, positions, network);
        s.val = s.positions.iter().map(|&i| val_col[i]).collect();
        s.test = s.positions.iter().map(|&i| test_col.map_or(f64::NAN, |t| t[i])).collect();
        if let Some(k) = s.val.iter().position(|v| v.is_nan()) {
            bail!("architecture {} has no {val_metric}", ds.ids()[s.positions[k]]);
        }
        Ok(s)
    }

    /// Encodes the architectures at `positions` whatever their labels (for ranking a whole space):
    /// validation and test accuracy are NaN.
    pub fn unlabelled<S: Benchmark>(ds: &Dataset<S>, positions: Vec<usize>, network: S::Network) -> Samples {
        let archs = ds.archs_at(&positions);
        let mut s = Samples::from_archs::<S>(&archs, network, &vec![f64::NAN; archs.len()]);
        s.positions = positions;
        s
    }

    /// Encodes `archs` labelled with `val` (NaN where unknown); positions are `0..archs.len()`.
    pub fn from_archs<S: Benchmark>(archs: &[S::Arch], network: S::Network, val: &[f64]) -> Samples {
        assert_eq!(archs.len(), val.len(), "one accuracy per architecture");
        let (c, dim) = S::feature_shape();
        let feat_len = c * dim * dim;
        let n = archs.len();
        let mut s = Samples {
            features: Vec::with_capacity(n * feat_len),
            feat_len,
            val: vec![f64::NAN; n],
            test: vec![f64::NAN; n],
            params: Vec::with_capacity(n),
            flops: Vec::with_capacity(n),
            shapes: Vec::with_capacity(n),
            positions: (0..n).collect(),
        };
        s.val = val.to_vec();
        for arch in archs {
            let cost = S::cost(arch, network);
            s.features.extend(S::encode(arch, &cost).data);
            s.params.push(cost.total_params as f64);
            s.flops.push(cost.total_flops as f64);
            s.shapes.push(S::shape(arch));
        }
        s
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The feature tensors of the samples at `idx`, concatenated (`[idx.len(), P, d_patch²]`).
    pub fn gather(&self, idx: &[usize]) -> Vec<f32> {
        let mut x = Vec::with_capacity(idx.len() * self.feat_len);
        for &i in idx {
            x.extend_from_slice(&self.features[i * self.feat_len..][..self.feat_len]);
        }
        x
    }
}

/// The feature tensors of `archs` for `network`, concatenated (`[archs.len(), P, d_patch²]`), encoded
/// on all threads.
pub fn features<S: Benchmark>(archs: &[S::Arch], network: S::Network) -> Vec<f32> {
    archs.par_iter().flat_map_iter(|a| S::encode(a, &S::cost(a, network)).data).collect()
}
