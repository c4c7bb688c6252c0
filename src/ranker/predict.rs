//! Inference over a set of encoded architectures: the ranking score alone ([`predict_scores`], the
//! encoder and the accuracy head) or with the predicted tier ([`predict`], the whole model).

use super::infer::Workspace;
use super::model::Ranker;
use super::samples::Samples;

/// Index of the largest value (the first on ties).
pub fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().fold(0, |best, (i, x)| if *x > v[best] { i } else { best })
}

/// Batches of `batch` sample indices.
fn batches(n: usize, batch: usize) -> impl Iterator<Item = Vec<usize>> {
    (0..n).step_by(batch.max(1)).map(move |s| (s..(s + batch.max(1)).min(n)).collect())
}

/// Predicted accuracy score of every architecture in `s` (no tiers: the decoder does not run).
pub fn predict_scores(model: &Ranker<f32>, s: &Samples, batch: usize, progress: &dyn Fn(usize)) -> Vec<f64> {
    let mut ws = Workspace::default();
    let mut score = Vec::with_capacity(s.len());
    for chunk in batches(s.len(), batch) {
        score.extend(model.infer_scores(&s.gather(&chunk), chunk.len(), &mut ws).iter().map(|v| f64::from(*v)));
        progress(chunk.len());
    }
    score
}

/// Predicted tier and score of every architecture in `s`, with fixed tier embeddings.
pub fn predict(
    model: &Ranker<f32>,
    s: &Samples,
    tiers: &[f32],
    batch: usize,
    progress: &dyn Fn(usize),
) -> (Vec<usize>, Vec<f64>) {
    let nt = model.cfg.n_tier;
    let mut ws = Workspace::default();
    let mut tier = Vec::with_capacity(s.len());
    let mut score = Vec::with_capacity(s.len());
    for chunk in batches(s.len(), batch) {
        let (logits, sc) = model.infer(&s.gather(&chunk), chunk.len(), tiers, &mut ws);
        tier.extend(logits.chunks(nt).map(argmax));
        score.extend(sc.iter().map(|v| f64::from(*v)));
        progress(chunk.len());
    }
    (tier, score)
}
pub const INFER_BATCH: usize = 256;

/// Runs `f` over `0..n` in batches of [`INFER_BATCH`] rows with one reused [`Workspace`], reporting to
/// `progress` and stopping (with [`crate::progress::Cancelled`]) when it asks to between batches.
pub fn batched<T>(
    n: usize,
    progress: &dyn crate::progress::Progress,
    mut f: impl FnMut(std::ops::Range<usize>, &mut Workspace<f32>) -> Vec<T>,
) -> anyhow::Result<Vec<T>> {
    let mut ws = Workspace::default();
    let mut out = Vec::with_capacity(n);
    progress.start(n as u64, "scoring");
    for start in (0..n).step_by(INFER_BATCH) {
        if progress.cancelled() {
            progress.finish();
            return Err(crate::progress::Cancelled.into());
        }
        let m = INFER_BATCH.min(n - start);
        out.extend(f(start..start + m, &mut ws));
        progress.inc(m as u64);
    }
    progress.finish();
    Ok(out)
}
