//! Inference: the predicted tier and accuracy score of architectures, with fixed tier embeddings.

use super::model::Ranker;
use super::samples::Samples;

/// Index of the largest value (the first on ties).
pub fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().fold(0, |best, (i, x)| if *x > v[best] { i } else { best })
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
    let mut tier = Vec::with_capacity(s.len());
    let mut score = Vec::with_capacity(s.len());
    let idx: Vec<usize> = (0..s.len()).collect();
    for chunk in idx.chunks(batch) {
        let (out, _) = model.forward(&s.gather(chunk), chunk.len(), tiers, None);
        for i in 0..chunk.len() {
            tier.push(argmax(&out.logits[i * nt..][..nt]));
        }
        score.extend(out.score.iter().map(|v| f64::from(*v)));
        progress(chunk.len());
    }
    (tier, score)
}
