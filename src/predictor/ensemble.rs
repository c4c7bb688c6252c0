//! An ensemble of predictors (`model: ensemble`): each member fits on the same labelled
//! architectures with its own seed, and the ensemble's score is the weighted mean of the members'
//! *standardised* scores — each member's score minus its mean, divided by its standard deviation,
//! both taken over its scores of the labelled architectures it was fitted on. Standardising puts a
//! forest's accuracy-rank scale, the trees' logits and the transformer's score on one scale, and
//! keeps every architecture's score independent of what else is scored with it (a rank average
//! within the scored set would not).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::{FitContext, FitReport, Inputs, Labelled, ModelKind, Predictor, PredictorSpec, build, load};
use crate::features::FeatureSet;
use crate::progress::{Progress, Quiet};
use crate::ranker::checkpoint::Checkpoint;

/// Where an ensemble keeps its members' scales, in its folder.
pub const ENSEMBLE_FILE: &str = "ensemble.json";

/// The folder of member `i` of the ensemble whose files are in `dir`, laid out as a predictor's files.
pub fn member_dir(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("member-{i}"))
}

/// One member of an `ensemble:` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberConfig {
    /// `transformer` (the configuration's own transformer settings), `gbdt`, `forest` or `mlp`.
    pub model: ModelKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<FeatureSet>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gbdt: Option<super::gbdt::GbdtConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forest: Option<super::forest::ForestConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlp: Option<super::mlp::MlpConfig>,
    /// The member's weight in the mean (1 when absent).
    #[serde(default = "one")]
    pub weight: f64,
}

fn one() -> f64 {
    1.0
}

/// The `ensemble:` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleConfig {
    pub members: Vec<MemberConfig>,
}

impl EnsembleConfig {
    /// Checks the members, naming the field.
    pub fn check(&self) -> Result<()> {
        if self.members.is_empty() {
            bail!("ensemble.members: an ensemble needs at least one member");
        }
        for (i, m) in self.members.iter().enumerate() {
            let field = format!("ensemble.members[{i}]");
            if m.model == ModelKind::Ensemble {
                bail!("{field}.model: an ensemble cannot be a member of an ensemble");
            }
            if !(m.weight.is_finite() && m.weight > 0.0) {
                bail!("{field}.weight must be a finite number > 0, found {}", m.weight);
            }
            super::check_model_blocks(m.model, m.features.as_deref(), &m.gbdt, &m.forest, &m.mlp, &field)?;
        }
        Ok(())
    }
}

/// Mean and standard deviation of a member's scores on the architectures it was fitted on.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
struct Scale {
    mean: f64,
    std: f64,
}

/// The ensemble's own file: each member's scale.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    scales: Vec<Scale>,
    /// The scales' SHA-256 (absent in the first ensembles' files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
}

/// The SHA-256 of the members' scales, as written.
fn scales_sha256(scales: &[Scale]) -> Result<String> {
    Ok(crate::ranker::checkpoint::sha256_hex(serde_json::to_string(scales)?.as_bytes()))
}

pub struct Ensemble {
    weights: Vec<f64>,
    members: Vec<Box<dyn Predictor>>,
    scales: Vec<Scale>,
}

impl Ensemble {
    /// A new, unfitted ensemble of `members` (each with its weight).
    pub fn new(members: &[(PredictorSpec, f64)]) -> Result<Ensemble> {
        let built = members.iter().map(|(m, _)| build(m)).collect::<Result<Vec<_>>>()?;
        Ok(Ensemble { weights: members.iter().map(|(_, w)| *w).collect(), members: built, scales: Vec::new() })
    }

    /// The ensemble of `members` fitted into `dir`.
    pub fn load(members: &[(PredictorSpec, f64)], dir: &Path, which: Checkpoint) -> Result<Ensemble> {
        let path = dir.join(ENSEMBLE_FILE);
        let text = crate::io::read_to_string_capped(&path, 1 << 20, "an ensemble")?;
        let saved: Saved =
            serde_json::from_str(&text).with_context(|| format!("{}: not nar's ensemble", path.display()))?;
        if saved.scales.len() != members.len() {
            bail!(
                "{}: {} members' scales, but the configuration has {} members",
                path.display(),
                saved.scales.len(),
                members.len()
            );
        }
        if let Some(sum) = &saved.sha256
            && *sum != scales_sha256(&saved.scales)?
        {
            bail!(
                "{}: the members' scales do not match their checksum (the file was changed or damaged)",
                path.display()
            );
        }
        // A std that is not a normal number (0, subnormal, infinite) would make every score infinite.
        if let Some(s) = saved.scales.iter().find(|s| !(s.mean.is_finite() && s.std.is_normal() && s.std > 0.0)) {
            bail!("{}: a member's scale must be finite with a positive, normal std, found {s:?}", path.display());
        }
        let loaded = members
            .iter()
            .enumerate()
            .map(|(i, (m, _))| load(m, &member_dir(dir, i), which))
            .collect::<Result<Vec<_>>>()?;
        Ok(Ensemble { weights: members.iter().map(|(_, w)| *w).collect(), members: loaded, scales: saved.scales })
    }
}

impl Ensemble {
    /// Each member's scores standardised by its scale (one list per member, in order).
    fn standardised(&self, member_scores: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
        member_scores
            .into_iter()
            .zip(&self.scales)
            .map(|(s, sc)| s.into_iter().map(|v| (v - sc.mean) / sc.std).collect())
            .collect()
    }

    /// The weighted mean of standardised member scores (the spread's centre).
    fn mean(&self, z: &[Vec<f64>]) -> Vec<f64> {
        let total: f64 = self.weights.iter().sum();
        let n = z.first().map_or(0, Vec::len);
        (0..n).map(|i| z.iter().zip(&self.weights).map(|(s, w)| w / total * s[i]).sum()).collect()
    }

    /// The weighted mean of the members' standardised scores (one list per member, in order), in the
    /// order of operations the saved runs' scores were computed with (so they stay bit for bit).
    fn combine(&self, member_scores: Vec<Vec<f64>>) -> Vec<f64> {
        let total: f64 = self.weights.iter().sum();
        let n = member_scores.first().map_or(0, Vec::len);
        let mut out = vec![0.0; n];
        for ((s, w), sc) in member_scores.into_iter().zip(&self.weights).zip(&self.scales) {
            out.iter_mut().zip(s).for_each(|(o, v)| *o += w / total * (v - sc.mean) / sc.std);
        }
        out
    }

    /// Every member's scores of `x`.
    fn member_scores(&self, x: &dyn Inputs, progress: &dyn Progress) -> Result<Vec<Vec<f64>>> {
        if self.scales.len() != self.members.len() {
            bail!("the ensemble has not been fitted");
        }
        progress.start(self.members.len() as u64, "scoring members");
        let mut member_scores = Vec::with_capacity(self.members.len());
        for m in &self.members {
            member_scores.push(m.scores(x, &Quiet)?);
            progress.inc(1);
        }
        progress.finish();
        Ok(member_scores)
    }
}

impl Predictor for Ensemble {
    fn kind(&self) -> ModelKind {
        ModelKind::Ensemble
    }

    fn fit(&mut self, data: &Labelled<'_>, ctx: &FitContext<'_>) -> Result<FitReport> {
        data.check()?;
        let mut scales = Vec::with_capacity(self.members.len());
        let mut member_scores = Vec::with_capacity(self.members.len());
        let mut report = FitReport::default();
        for (i, m) in self.members.iter_mut().enumerate() {
            ctx.progress.log(&format!("ensemble member {} of {}: {}", i + 1, self.weights.len(), m.kind().name()));
            let member_run = ctx.run.map(|r| member_dir(r, i));
            if let Some(r) = &member_run {
                std::fs::create_dir_all(r).with_context(|| format!("cannot create {}", r.display()))?;
            }
            let sub = FitContext {
                seed: crate::rng::mix(ctx.seed, i as u64),
                progress: ctx.progress,
                run: member_run.as_deref(),
                resume: ctx.resume,
            };
            let r = m.fit(data, &sub)?;
            if m.kind().holds_out_validation() {
                report.epochs_done = r.epochs_done;
                report.best_val_acc = r.best_val_acc;
                report.best_epoch = r.best_epoch;
            }
            let s = m.scores(data.x, &Quiet)?;
            let (mean, std) = crate::stats::mean_std(&s);
            scales.push(Scale { mean, std: if std.is_finite() && std > 0.0 { std } else { 1.0 } });
            member_scores.push(s);
        }
        self.scales = scales;
        let s = self.combine(member_scores);
        report.fit_kendall = Some(crate::ranker::metrics::kendall_tau(&s, data.y));
        Ok(report)
    }

    fn scores(&self, x: &dyn Inputs, progress: &dyn Progress) -> Result<Vec<f64>> {
        Ok(self.combine(self.member_scores(x, progress)?))
    }

    /// The members' standardised scores' weighted mean and their (weighted) standard deviation.
    fn scores_and_spread(&self, x: &dyn Inputs, progress: &dyn Progress) -> Result<(Vec<f64>, Option<Vec<f64>>)> {
        let z = self.standardised(self.member_scores(x, progress)?);
        let mean = self.mean(&z);
        let total: f64 = self.weights.iter().sum();
        let spread = (0..mean.len())
            .map(|i| {
                let var: f64 = z.iter().zip(&self.weights).map(|(s, w)| w / total * (s[i] - mean[i]).powi(2)).sum();
                var.sqrt()
            })
            .collect();
        Ok((mean, Some(spread)))
    }

    fn save(&self, dir: &Path) -> Result<()> {
        for (i, m) in self.members.iter().enumerate() {
            let sub = member_dir(dir, i);
            std::fs::create_dir_all(&sub).with_context(|| format!("cannot create {}", sub.display()))?;
            m.save(&sub)?;
        }
        let sha256 = Some(scales_sha256(&self.scales)?);
        let text = serde_json::to_string(&Saved { scales: self.scales.clone(), sha256 })?;
        crate::io::write_atomic(&dir.join(ENSEMBLE_FILE), |w| Ok(w.write_all(text.as_bytes())?))
    }
}
