//! NAR's two losses with their gradients: soft cross-entropy on tiers, and the pairwise logistic rank
//! loss on the accuracy head (`docs/design.md` §5).

use super::ops::Real;

/// Soft cross-entropy `mean_b(−Σ_c target·log_softmax(logits))`; returns the loss and `dlogits`.
pub fn soft_cross_entropy<T: Real>(logits: &[T], target: &[T], n_class: usize) -> (f64, Vec<T>) {
    let b = logits.len() / n_class;
    let mut loss = 0.0;
    let mut grad = vec![T::ZERO; logits.len()];
    for i in 0..b {
        let z = &logits[i * n_class..][..n_class];
        let t = &target[i * n_class..][..n_class];
        let max = z.iter().map(|v| v.to_f64()).fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = z.iter().map(|v| (v.to_f64() - max).exp()).sum();
        let lse = max + sum.ln();
        let tsum: f64 = t.iter().map(|v| v.to_f64()).sum();
        for c in 0..n_class {
            let logp = z[c].to_f64() - lse;
            loss -= t[c].to_f64() * logp;
            grad[i * n_class + c] = T::from_f64((logp.exp() * tsum - t[c].to_f64()) / b as f64);
        }
    }
    (loss / b as f64, grad)
}

fn softplus(x: f64) -> f64 {
    if x > 30.0 { x } else { x.exp().ln_1p() }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Pairwise logistic rank loss `Σ_{i≠j} log(1 + exp(−(s_i − s_j)·sign(y_i − y_j))) / (n(n−1))`
/// (ReNAS); returns the loss and `dscores`. Computed stably (the reference overflows for large gaps).
pub fn rank_loss<T: Real>(scores: &[T], labels: &[f64]) -> (f64, Vec<T>) {
    let n = scores.len();
    let norm = (n * (n - 1)).max(1) as f64;
    let mut loss = 0.0;
    let mut grad = vec![0.0f64; n];
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let sign = (labels[i] - labels[j]).signum() * f64::from(u8::from(labels[i] != labels[j]));
            let z = (scores[i].to_f64() - scores[j].to_f64()) * sign;
            loss += softplus(-z);
            // d softplus(−z)/dz = −sigmoid(−z); dz/ds_i = sign, dz/ds_j = −sign.
            let gz = -sigmoid(-z) / norm;
            grad[i] += gz * sign;
            grad[j] -= gz * sign;
        }
    }
    (loss / norm, grad.into_iter().map(T::from_f64).collect())
}
