//! Held-out evaluation: how well a trained ranker sorts the labelled architectures it never saw
//! (Kendall τ / Spearman ρ, precision@K, and where asked tier accuracy and confusion), beside the
//! parameter-count floor. The ranking figures need the score alone (encoder and accuracy head); the
//! decoder runs only for the tier figures.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::metrics::{TopFigures, kendall_tau, precision_at_k, spearman_rho, top_figures};

/// The sizes of the predicted shortlists whose best member is reported.
const TOP_K: [usize; 2] = [10, 50];
use super::model::Ranker;
use super::predict::{predict, predict_scores};
use super::samples::Samples;
use super::tiers::{reference_embeddings, tier_labels};

/// Held-out evaluation results (saved by [`crate::run_dir::RunDir::write_eval`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub checkpoint: String,
    pub held_out: usize,
    /// Tier accuracy, when the tiers were predicted.
    pub tier_acc: Option<f64>,
    /// Confusion matrix `[true tier][predicted tier]`, when the tiers were predicted.
    pub confusion: Option<Vec<Vec<usize>>>,
    pub kendall_val: f64,
    pub spearman_val: f64,
    pub kendall_test: Option<f64>,
    pub spearman_test: Option<f64>,
    /// `(K, precision@K against validation accuracy)`.
    pub precision_at_k: Vec<(usize, f64)>,
    /// Zero-cost floor: Kendall τ of total parameter count against validation accuracy (`None` where
    /// the space has no cost model: a declared space).
    pub kendall_params_baseline: Option<f64>,
    /// The top of the ranking against validation accuracy: true rank of the predicted best, best
    /// accuracy among the predicted top 10 / 50 (absent in evaluations of nar versions before it).
    #[serde(default)]
    pub top: Option<TopFigures>,
    /// The same figures for the parameter-count ranking.
    #[serde(default)]
    pub top_params_baseline: Option<TopFigures>,
    /// Precision@K of the parameter-count ranking.
    #[serde(default)]
    pub precision_at_k_params_baseline: Vec<(usize, f64)>,
    pub archs_per_second: f64,
}

/// One held-out architecture's prediction (a row of the run's predictions table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub position: usize,
    pub score: f64,
    pub true_tier: usize,
    /// Absent when the evaluation ran without tiers.
    pub predicted_tier: Option<usize>,
    pub val: f64,
    pub test: f64,
}

/// Evaluates a ranker on held-out samples: the report and every architecture's prediction. With
/// `tiers`, the whole model runs and the tier figures are filled in; without, the score alone.
pub fn evaluate(
    model: &Ranker<f32>,
    train: &Samples,
    held: &Samples,
    batch: usize,
    checkpoint: &str,
    tiers: bool,
    progress: &dyn Fn(usize),
) -> (EvalReport, Vec<Prediction>) {
    let start = Instant::now();
    let (pred, score) = if tiers {
        let emb = reference_embeddings(model, train, batch);
        let (pred, score) = predict(model, held, &emb, batch, progress);
        (Some(pred), score)
    } else {
        (None, predict_scores(model, held, batch, progress))
    };
    let secs = start.elapsed().as_secs_f64();
    evaluate_scores(held, &score, pred.as_deref(), model.cfg.n_tier, checkpoint, secs)
}

/// The held-out figures of given scores (and predicted tiers, 0-based, where the model has them):
/// `n_tier` cuts the true accuracies into the tiers the predictions table shows; `secs` is the time
/// the predictions took.
pub fn evaluate_scores(
    held: &Samples,
    score: &[f64],
    pred: Option<&[usize]>,
    nt: usize,
    checkpoint: &str,
    secs: f64,
) -> (EvalReport, Vec<Prediction>) {
    let truth = tier_labels(&held.val, nt);
    let confusion = pred.map(|pred| {
        let mut confusion = vec![vec![0; nt]; nt];
        for (t, p) in truth.iter().zip(pred) {
            confusion[*t][*p] += 1;
        }
        confusion
    });
    let correct = pred.map(|pred| truth.iter().zip(pred).filter(|(a, b)| a == b).count());
    let has_test = held.test.iter().all(|v| !v.is_nan());
    let predictions = (0..held.len())
        .map(|i| Prediction {
            position: held.positions[i],
            score: score[i],
            true_tier: truth[i],
            predicted_tier: pred.map(|p| p[i]),
            val: held.val[i],
            test: held.test[i],
        })
        .collect();
    let has_params = held.params.iter().any(|&p| p != 0.0);
    let report = EvalReport {
        checkpoint: checkpoint.to_string(),
        held_out: held.len(),
        tier_acc: correct.map(|c| c as f64 / held.len().max(1) as f64),
        confusion,
        kendall_val: kendall_tau(score, &held.val),
        spearman_val: spearman_rho(score, &held.val),
        kendall_test: has_test.then(|| kendall_tau(score, &held.test)),
        spearman_test: has_test.then(|| spearman_rho(score, &held.test)),
        precision_at_k: [10, 50, 100, 500].iter().map(|&k| (k, precision_at_k(score, &held.val, k))).collect(),
        kendall_params_baseline: has_params.then(|| kendall_tau(&held.params, &held.val)),
        top: top_figures(score, &held.val, &TOP_K),
        // No floor where the space has no cost model (a declared space: every count is 0).
        top_params_baseline: has_params.then(|| top_figures(&held.params, &held.val, &TOP_K)).flatten(),
        precision_at_k_params_baseline: [10, 50, 100, 500]
            .iter()
            .filter(|_| has_params)
            .map(|&k| (k, precision_at_k(&held.params, &held.val, k)))
            .collect(),
        archs_per_second: held.len() as f64 / secs,
    };
    (report, predictions)
}

/// A run's held-out evaluation (`eval.json`, `predictions.csv`).
impl crate::run_dir::RunDir {
    /// The held-out evaluation, if `nar eval` has run.
    pub fn read_eval(&self) -> anyhow::Result<Option<EvalReport>> {
        let p = self.eval_path();
        if p.exists() { crate::run_dir::read_json(&p, "evaluation").map(Some) } else { Ok(None) }
    }
    pub fn write_eval(&self, report: &EvalReport, predictions: &[Prediction]) -> anyhow::Result<()> {
        crate::io::write_atomic(&self.predictions_path(), |w| {
            let mut csv = csv::Writer::from_writer(w);
            for p in predictions {
                csv.serialize(p)?;
            }
            csv.flush()?;
            Ok(())
        })?;
        crate::run_dir::write_json(&self.eval_path(), report)
    }
    /// Every held-out prediction of `nar eval` (empty if it has not run).
    pub fn read_predictions(&self) -> anyhow::Result<Vec<Prediction>> {
        let path = self.predictions_path();
        if !path.exists() {
            return Ok(Vec::new());
        }
        use anyhow::Context;
        let mut r = csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
        r.deserialize()
            .enumerate()
            .map(|(i, row)| row.with_context(|| format!("{}: record {}", path.display(), i + 1)))
            .collect()
    }
}
