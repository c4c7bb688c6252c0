//! A random forest (the `smartcore` crate's CART regression trees on bootstrap samples) on any
//! feature sets: the model GRAF pairs with its graph features.
//!
//! - Target: the normalised rank of validation accuracy ([`super::rank_target`]), as for the
//!   gradient-boosted trees, or the accuracy itself (`target: accuracy`).
//! - Trees are grown in parallel, each from its own seed (`seed + tree`), and averaged in tree order,
//!   so a forest is the same at any thread count (`tests/it/predictors.rs` compares saved files).
//! - A forest of T trees is T one-tree `smartcore` forests: the crate grows its trees one after the
//!   other, so nar spreads them over threads itself.

use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_regressor::{RandomForestRegressor, RandomForestRegressorParameters};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::{Target, target_values};
use crate::features::Table;

type Tree = RandomForestRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>;

/// The `forest:` block of a configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForestConfig {
    /// Number of trees.
    #[serde(default = "trees")]
    pub trees: usize,
    /// Share of the columns each split may choose from, in (0, 1] (scikit-learn's `max_features`).
    #[serde(default = "max_features")]
    pub max_features: f64,
    #[serde(default = "min_samples_leaf")]
    pub min_samples_leaf: usize,
    #[serde(default = "min_samples_split")]
    pub min_samples_split: usize,
    /// Depth limit; none when absent.
    #[serde(default)]
    pub max_depth: Option<u16>,
    #[serde(default)]
    pub target: Target,
}

fn trees() -> usize {
    200
}
fn max_features() -> f64 {
    1.0
}
fn min_samples_leaf() -> usize {
    1
}
fn min_samples_split() -> usize {
    2
}

impl Default for ForestConfig {
    fn default() -> Self {
        ForestConfig {
            trees: trees(),
            max_features: max_features(),
            min_samples_leaf: min_samples_leaf(),
            min_samples_split: min_samples_split(),
            max_depth: None,
            target: Target::default(),
        }
    }
}

impl ForestConfig {
    /// Checks the values are usable, naming the field.
    pub fn check(&self, field: &str) -> Result<()> {
        if self.trees == 0 || self.trees > 100_000 {
            bail!("{field}.trees must be between 1 and 100000, found {}", self.trees);
        }
        if !(self.max_features.is_finite() && self.max_features > 0.0 && self.max_features <= 1.0) {
            bail!("{field}.max_features must be in (0, 1], found {}", self.max_features);
        }
        if self.min_samples_leaf == 0 || self.min_samples_leaf > 1 << 20 {
            bail!("{field}.min_samples_leaf must be between 1 and 1048576, found {}", self.min_samples_leaf);
        }
        if self.min_samples_split < 2 || self.min_samples_split > 1 << 20 {
            bail!("{field}.min_samples_split must be between 2 and 1048576, found {}", self.min_samples_split);
        }
        if self.max_depth == Some(0) {
            bail!("{field}.max_depth must be at least 1");
        }
        Ok(())
    }
}

/// A fitted forest.
#[derive(Serialize, Deserialize)]
pub struct Forest {
    cols: usize,
    trees: Vec<Tree>,
}

fn matrix(x: &Table) -> Result<DenseMatrix<f64>> {
    DenseMatrix::new(x.rows, x.cols, x.columns(), true).map_err(|e| anyhow!("{e}"))
}

impl Forest {
    /// Fits `cfg.trees` trees to `y` (validation accuracies) from the rows of `x`.
    pub fn fit(cfg: &ForestConfig, x: &Table, y: &[f64], seed: u64) -> Result<Forest> {
        cfg.check("forest")?;
        if x.rows < 2 || x.cols == 0 {
            bail!("a forest needs at least 2 labelled architectures and 1 feature, found {} and {}", x.rows, x.cols);
        }
        let m = matrix(x)?;
        let target = target_values(cfg.target, y);
        let mtry = ((x.cols as f64 * cfg.max_features).ceil() as usize).clamp(1, x.cols);
        let trees = (0..cfg.trees as u64)
            .into_par_iter()
            .map(|t| {
                let mut p = RandomForestRegressorParameters::default()
                    .with_n_trees(1)
                    .with_m(mtry)
                    .with_min_samples_leaf(cfg.min_samples_leaf)
                    .with_min_samples_split(cfg.min_samples_split)
                    .with_seed(crate::rng::mix(seed, t));
                if let Some(d) = cfg.max_depth {
                    p = p.with_max_depth(d);
                }
                Tree::fit(&m, &target, p).map_err(|e| anyhow!("fitting the forest: {e}"))
            })
            .collect::<Result<Vec<Tree>>>()?;
        Ok(Forest { cols: x.cols, trees })
    }

    /// The mean of the trees' predictions for each row of `x` (higher = better).
    pub fn scores(&self, x: &Table) -> Result<Vec<f64>> {
        Ok(self.scores_and_spread(x)?.0)
    }

    /// The mean and the standard deviation of the trees' predictions for each row of `x`.
    pub fn scores_and_spread(&self, x: &Table) -> Result<(Vec<f64>, Vec<f64>)> {
        if x.cols != self.cols {
            bail!("the forest was fitted on {} features per architecture, not {}", self.cols, x.cols);
        }
        if x.rows == 0 {
            return Ok((Vec::new(), Vec::new()));
        }
        // Rows in blocks on all threads; within a block the trees are summed in order.
        const BLOCK: usize = 512;
        let blocks: Vec<usize> = (0..x.rows).step_by(BLOCK).collect();
        let n = self.trees.len() as f64;
        let parts = blocks
            .par_iter()
            .map(|&start| {
                let rows = (start + BLOCK).min(x.rows) - start;
                // Row-major: a tree walks one row at a time.
                let values = x.data[start * x.cols..(start + rows) * x.cols].to_vec();
                let m = DenseMatrix::new(rows, x.cols, values, false).map_err(|e| anyhow!("{e}"))?;
                let (mut sum, mut sq) = (vec![0.0; rows], vec![0.0; rows]);
                for t in &self.trees {
                    let p = t.predict(&m).map_err(|e| anyhow!("the forest's prediction: {e}"))?;
                    for ((s, q), v) in sum.iter_mut().zip(sq.iter_mut()).zip(p) {
                        *s += v;
                        *q += v * v;
                    }
                }
                let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
                let sd = sq.iter().zip(&mean).map(|(q, m)| (q / n - m * m).max(0.0).sqrt()).collect();
                Ok((mean, sd))
            })
            .collect::<Result<Vec<(Vec<f64>, Vec<f64>)>>>()?;
        let (mut mean, mut sd) = (Vec::with_capacity(x.rows), Vec::with_capacity(x.rows));
        for (m, s) in parts {
            mean.extend(m);
            sd.extend(s);
        }
        Ok((mean, sd))
    }

    /// Checks a forest read from a file.
    fn check_loaded(&self, path: &std::path::Path) -> Result<()> {
        if self.trees.is_empty() || self.cols == 0 {
            bail!("{}: a forest needs at least one tree and one feature", path.display());
        }
        Ok(())
    }
}

/// Reads a forest's JSON for `cols` features, naming the file in errors; the nodes are checked before
/// the crate reads them.
pub fn from_json(value: serde_json::Value, cols: usize, path: &std::path::Path) -> Result<Forest> {
    let leaf = |n: &serde_json::Value| n.get("true_child").is_none_or(|c| c.is_null());
    super::check_tree_nodes(&value, cols, &["true_child", "false_child"], &leaf, path)?;
    let f: Forest = serde_json::from_value(value).with_context(|| format!("{}: not nar's forest", path.display()))?;
    f.check_loaded(path)?;
    if f.cols != cols {
        bail!("{}: the forest reads {} features, but the feature sets have {cols}", path.display(), f.cols);
    }
    Ok(f)
}
