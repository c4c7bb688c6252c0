//! The non-neural baseline: gradient-boosted trees (the `forust-ml` crate) on the transformer's own
//! feature tensors, flattened. It predicts a score only (no tiers), and tells a user whether the
//! transformer earns its cost.
//!
//! - Features: the space's feature tensor (`[P, d_patch²]`, docs/design.md §4) flattened to one
//!   column per value; trees are invariant to the cost channels' scale, so no transform is applied.
//! - Target: the training architectures' validation accuracies replaced by their normalised rank
//!   `(rank − ½) / n` in (0, 1) (ties share their mean rank). Accuracies on NAS-Bench-201 have a long
//!   tail of ~10 % networks that dominate a squared loss on raw values; ranks give every architecture
//!   equal weight, which is what Kendall τ measures. With the default logistic objective the trees fit
//!   the rank as a soft label.
//! - The validation split is used for reporting only (as for the transformer, whose checkpoint choice
//!   it drives); the trees train on the training split.
//! - Deterministic: no row or column sampling; histograms are built per feature, so the result does
//!   not depend on the thread count.

use std::path::Path;

use anyhow::{Context, Result, bail};
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};
use serde::{Deserialize, Serialize};

use super::metrics::ranks;
use super::samples::Samples;

/// What an evaluation of the trees names as its checkpoint (a tree run has one model).
pub const EVAL_NAME: &str = "trees";

/// The `gbdt:` block of a configuration (used when `model: gbdt`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GbdtConfig {
    /// Number of trees.
    #[serde(default = "iterations")]
    pub iterations: usize,
    #[serde(default = "learning_rate")]
    pub learning_rate: f32,
    #[serde(default = "max_depth")]
    pub max_depth: usize,
    #[serde(default = "max_leaves")]
    pub max_leaves: usize,
    /// Minimum hessian sum in a leaf (about a number of architectures for the squared loss).
    #[serde(default = "min_leaf_weight")]
    pub min_leaf_weight: f32,
    #[serde(default = "l2")]
    pub l2: f32,
    #[serde(default)]
    pub objective: GbdtObjective,
}

/// The loss the trees minimise on the normalised rank.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GbdtObjective {
    /// Cross-entropy with the rank in (0, 1) as a soft label.
    #[default]
    Logistic,
    Squared,
}

fn iterations() -> usize {
    500
}
fn learning_rate() -> f32 {
    0.05
}
fn max_depth() -> usize {
    8
}
fn max_leaves() -> usize {
    15
}
fn min_leaf_weight() -> f32 {
    1.0
}
fn l2() -> f32 {
    1.0
}

impl Default for GbdtConfig {
    fn default() -> Self {
        GbdtConfig {
            iterations: iterations(),
            learning_rate: learning_rate(),
            max_depth: max_depth(),
            max_leaves: max_leaves(),
            min_leaf_weight: min_leaf_weight(),
            l2: l2(),
            objective: GbdtObjective::default(),
        }
    }
}

impl GbdtConfig {
    /// Checks the values are usable.
    pub fn check(&self) -> Result<()> {
        if self.iterations == 0 || self.iterations > 100_000 {
            bail!("gbdt.iterations must be between 1 and 100000, found {}", self.iterations);
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            bail!("gbdt.learning_rate must be in (0, 1], found {}", self.learning_rate);
        }
        if self.max_depth == 0 || self.max_depth > 64 {
            bail!("gbdt.max_depth must be between 1 and 64, found {}", self.max_depth);
        }
        if self.max_leaves < 2 || self.max_leaves > 1 << 16 {
            bail!("gbdt.max_leaves must be between 2 and 65536, found {}", self.max_leaves);
        }
        for (name, v) in [("gbdt.min_leaf_weight", self.min_leaf_weight), ("gbdt.l2", self.l2)] {
            if !(v.is_finite() && v >= 0.0) {
                bail!("{name} must be a finite number ≥ 0, found {v}");
            }
        }
        Ok(())
    }
}

/// A trained tree ensemble.
pub struct Gbdt {
    booster: GradientBooster,
    /// Values per architecture the trees were trained on (the flattened feature tensor).
    feat_len: usize,
}

/// The file a run keeps its trees in, with the feature length they expect.
#[derive(Serialize, Deserialize)]
struct Saved {
    feat_len: usize,
    booster: serde_json::Value,
}

/// Row-major `[n, feat]` features as the column-major `f64` values the trees read.
fn columns(x: &[f32], n: usize, feat: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n * feat);
    for c in 0..feat {
        out.extend((0..n).map(|r| f64::from(x[r * feat + c])));
    }
    out
}

/// Normalised ranks `(rank − ½) / n` of the accuracies, in (0, 1).
pub fn rank_target(val: &[f64]) -> Vec<f64> {
    let n = val.len() as f64;
    ranks(val).into_iter().map(|r| (r - 0.5) / n).collect()
}

impl Gbdt {
    /// Trains the trees on `train` (features and validation accuracies).
    pub fn fit(cfg: &GbdtConfig, train: &Samples, seed: u64) -> Result<Gbdt> {
        cfg.check()?;
        let n = train.len();
        if n < 2 {
            bail!("the trees need at least 2 training architectures, found {n}");
        }
        let x = columns(&train.features, n, train.feat_len);
        let y = rank_target(&train.val);
        let objective = match cfg.objective {
            GbdtObjective::Logistic => ObjectiveType::LogLoss,
            GbdtObjective::Squared => ObjectiveType::SquaredLoss,
        };
        let mut booster = GradientBooster::default()
            .set_objective_type(objective)
            .set_iterations(cfg.iterations)
            .set_learning_rate(cfg.learning_rate)
            .set_max_depth(cfg.max_depth)
            .set_max_leaves(cfg.max_leaves)
            .set_min_leaf_weight(cfg.min_leaf_weight)
            .set_l2(cfg.l2)
            .set_seed(seed);
        booster.fit_unweighted(&Matrix::new(&x, n, train.feat_len), &y, None).context("training the trees")?;
        Ok(Gbdt { booster, feat_len: train.feat_len })
    }

    /// Scores of `n` architectures given as row-major feature tensors (higher = better).
    pub fn scores(&self, x: &[f32], n: usize) -> Vec<f64> {
        if n == 0 {
            return Vec::new();
        }
        assert_eq!(x.len(), n * self.feat_len, "the trees were trained on {} values per architecture", self.feat_len);
        let cols = columns(x, n, self.feat_len);
        self.booster.predict(&Matrix::new(&cols, n, self.feat_len), true)
    }

    /// Values per architecture the trees expect.
    pub fn feat_len(&self) -> usize {
        self.feat_len
    }

    /// Writes the trees to `path` (JSON, replaced atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        let booster: serde_json::Value =
            serde_json::from_str(&self.booster.json_dump().context("serialising the trees")?)?;
        let text = serde_json::to_string(&Saved { feat_len: self.feat_len, booster })?;
        crate::io::write_atomic(path, |w| Ok(w.write_all(text.as_bytes())?))
    }

    /// Reads trees written by [`Gbdt::save`], naming the file in errors.
    pub fn load(path: &Path) -> Result<Gbdt> {
        let text = crate::io::read_to_string_capped(path, 256 << 20, "a tree ensemble")?;
        let saved: Saved =
            serde_json::from_str(&text).with_context(|| format!("{}: not nar's trees", path.display()))?;
        let booster = GradientBooster::from_json(&saved.booster.to_string())
            .map_err(|e| anyhow::anyhow!("{}: not nar's trees: {e}", path.display()))?;
        if saved.feat_len == 0 {
            bail!("{}: feat_len must be at least 1", path.display());
        }
        Ok(Gbdt { booster, feat_len: saved.feat_len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_target_is_the_normalised_mean_rank() {
        assert_eq!(rank_target(&[30.0, 10.0, 20.0, 20.0]), vec![0.875, 0.125, 0.5, 0.5]);
    }

    #[test]
    fn bad_settings_are_named() {
        let bad = GbdtConfig { learning_rate: 0.0, ..GbdtConfig::default() };
        assert!(bad.check().unwrap_err().to_string().contains("gbdt.learning_rate"));
        let bad = GbdtConfig { max_leaves: 1, ..GbdtConfig::default() };
        assert!(bad.check().unwrap_err().to_string().contains("gbdt.max_leaves"));
    }
}
