//! Gradient-boosted trees (the `forust-ml` crate) on any feature sets (the ReNAS tensor by default,
//! as the first tree baseline read it). A score only, no tiers.
//!
//! - Target: the labelled architectures' validation accuracies replaced by their normalised rank
//!   `(rank − ½) / n` in (0, 1) ([`super::rank_target`]; ties share their mean rank). Accuracies on
//!   NAS-Bench-201 have a long tail of ~10 % networks that dominate a squared loss on raw values;
//!   ranks give every architecture equal weight, which is what Kendall τ measures. With the default
//!   logistic objective the trees fit the rank as a soft label.
//! - Deterministic: no row or column sampling; histograms are built per feature, so the result does
//!   not depend on the thread count.

use anyhow::{Context, Result, anyhow, bail};
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};
use serde::{Deserialize, Serialize};

use crate::features::Table;

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
    /// Share of the labelled rows each tree sees, drawn from the seed (1: all rows, no sampling).
    #[serde(default = "one")]
    pub subsample: f32,
    /// Share of the columns each tree may split on, drawn from the seed (1: all).
    #[serde(default = "one_f64")]
    pub colsample: f64,
}

fn one() -> f32 {
    1.0
}
fn one_f64() -> f64 {
    1.0
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
            subsample: 1.0,
            colsample: 1.0,
        }
    }
}

impl GbdtConfig {
    /// Checks the values are usable, naming the field (`gbdt`, or an ensemble member's).
    pub fn check(&self, field: &str) -> Result<()> {
        if self.iterations == 0 || self.iterations > 100_000 {
            bail!("{field}.iterations must be between 1 and 100000, found {}", self.iterations);
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            bail!("{field}.learning_rate must be in (0, 1], found {}", self.learning_rate);
        }
        if self.max_depth == 0 || self.max_depth > 64 {
            bail!("{field}.max_depth must be between 1 and 64, found {}", self.max_depth);
        }
        if self.max_leaves < 2 || self.max_leaves > 1 << 16 {
            bail!("{field}.max_leaves must be between 2 and 65536, found {}", self.max_leaves);
        }
        if !(self.subsample > 0.0 && self.subsample <= 1.0) {
            bail!("{field}.subsample must be in (0, 1], found {}", self.subsample);
        }
        if !(self.colsample > 0.0 && self.colsample <= 1.0) {
            bail!("{field}.colsample must be in (0, 1], found {}", self.colsample);
        }
        for (name, v) in [("min_leaf_weight", self.min_leaf_weight), ("l2", self.l2)] {
            if !(v.is_finite() && v >= 0.0) {
                bail!("{field}.{name} must be a finite number ≥ 0, found {v}");
            }
        }
        Ok(())
    }
}

/// A trained tree ensemble.
pub struct Gbdt {
    booster: GradientBooster,
    cols: usize,
}

/// How a run keeps the trees (inside its predictor file).
#[derive(Serialize, Deserialize)]
struct Saved {
    cols: usize,
    booster: serde_json::Value,
}

impl Gbdt {
    /// Fits the trees to the normalised rank of `y` from the rows of `x`.
    pub fn fit(cfg: &GbdtConfig, x: &Table, y: &[f64], seed: u64) -> Result<Gbdt> {
        cfg.check("gbdt")?;
        if x.rows < 2 || x.cols == 0 {
            bail!("the trees need at least 2 labelled architectures and 1 feature, found {} and {}", x.rows, x.cols);
        }
        // Each tree sees floor(cols × colsample) columns and about rows × subsample rows: none would
        // train constant trees.
        if ((x.cols as f64) * cfg.colsample).floor() < 1.0 {
            bail!("gbdt.colsample {} leaves no column of the {} features to split on", cfg.colsample, x.cols);
        }
        if (x.rows as f64) * f64::from(cfg.subsample) < 1.0 {
            bail!("gbdt.subsample {} leaves no row of the {} labelled architectures to fit on", cfg.subsample, x.rows);
        }
        let target = super::rank_target(y);
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
            .set_colsample_bytree(cfg.colsample)
            .set_seed(seed);
        if cfg.subsample < 1.0 {
            booster = booster.set_sample_method(forust_ml::sampler::SampleMethod::Random).set_subsample(cfg.subsample);
        }
        let cols = x.columns();
        booster.fit_unweighted(&Matrix::new(&cols, x.rows, x.cols), &target, None).context("training the trees")?;
        Ok(Gbdt { booster, cols: x.cols })
    }

    /// Scores of the rows of `x` (higher = better).
    pub fn scores(&self, x: &Table) -> Result<Vec<f64>> {
        if x.cols != self.cols {
            bail!("the trees were fitted on {} features per architecture, not {}", self.cols, x.cols);
        }
        if x.rows == 0 {
            return Ok(Vec::new());
        }
        let cols = x.columns();
        Ok(self.booster.predict(&Matrix::new(&cols, x.rows, x.cols), true))
    }

    pub fn to_json(&self) -> Result<serde_json::Value> {
        let booster: serde_json::Value =
            serde_json::from_str(&self.booster.json_dump().context("serialising the trees")?)?;
        Ok(serde_json::to_value(Saved { cols: self.cols, booster })?)
    }

    /// Reads trees written by [`Gbdt::to_json`] for `cols` features, naming the file in errors; the
    /// nodes are checked before the crate reads them.
    pub fn from_json(value: serde_json::Value, cols: usize, path: &std::path::Path) -> Result<Gbdt> {
        let saved: Saved =
            serde_json::from_value(value).with_context(|| format!("{}: not nar's trees", path.display()))?;
        if saved.cols != cols {
            bail!("{}: the trees read {} features, but the feature sets have {cols}", path.display(), saved.cols);
        }
        if saved.cols == 0 {
            bail!("{}: the trees need at least 1 feature", path.display());
        }
        let leaf = |n: &serde_json::Value| n.get("is_leaf").and_then(|l| l.as_bool()).unwrap_or(false);
        let trees =
            super::check_tree_nodes(&saved.booster, cols, &["left_child", "right_child", "missing_node"], &leaf, path)?;
        if trees == 0 {
            bail!("{}: no trees", path.display());
        }
        let booster = GradientBooster::from_json(&saved.booster.to_string())
            .map_err(|e| anyhow!("{}: not nar's trees: {e}", path.display()))?;
        Ok(Gbdt { booster, cols: saved.cols })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_named() {
        let bad = GbdtConfig { learning_rate: 0.0, ..GbdtConfig::default() };
        assert!(bad.check("gbdt").unwrap_err().to_string().contains("gbdt.learning_rate"));
        let bad = GbdtConfig { max_leaves: 1, ..GbdtConfig::default() };
        assert!(
            bad.check("ensemble.members[1].gbdt")
                .unwrap_err()
                .to_string()
                .contains("ensemble.members[1].gbdt.max_leaves")
        );
    }

    /// Sampling that leaves a tree no column or no row is refused (it would train constant trees); the
    /// least that leaves one of each fits.
    #[test]
    fn sampling_that_leaves_nothing_is_refused() {
        // 10 architectures of 4 features, accuracies rising with the first.
        let data: Vec<f64> = (0..40).map(|i| ((i / 4) * (i % 4 + 1)) as f64).collect();
        let x = Table { rows: 10, cols: 4, data };
        let y: Vec<f64> = (0..10).map(|i| 80.0 + i as f64).collect();
        let small = GbdtConfig { iterations: 5, ..GbdtConfig::default() };
        let e = Gbdt::fit(&GbdtConfig { colsample: 0.2, ..small.clone() }, &x, &y, 1).err().unwrap();
        assert_eq!(e.to_string(), "gbdt.colsample 0.2 leaves no column of the 4 features to split on");
        let e = Gbdt::fit(&GbdtConfig { subsample: 0.05, ..small.clone() }, &x, &y, 1).err().unwrap();
        assert_eq!(e.to_string(), "gbdt.subsample 0.05 leaves no row of the 10 labelled architectures to fit on");
        assert!(Gbdt::fit(&GbdtConfig { colsample: 0.25, subsample: 0.1, ..small }, &x, &y, 1).is_ok());
    }
}
