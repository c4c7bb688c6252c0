//! Ranking-quality measures: Kendall τ-b (Knight's O(n log n) algorithm), Spearman ρ (average ranks
//! for ties), precision@K, and tier accuracy.

/// Kendall's τ-b between two equally long sequences (ties handled as scipy's `kendalltau` does).
pub fn kendall_tau(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    assert_eq!(n, y.len());
    if n < 2 {
        return f64::NAN;
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(y[a].total_cmp(&y[b])));
    let pairs = |t: u64| t * (t.saturating_sub(1)) / 2;
    // Ties in x, and joint ties in (x, y).
    let (mut n1, mut n3) = (0u64, 0u64);
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && x[idx[j]] == x[idx[i]] {
            j += 1;
        }
        n1 += pairs((j - i) as u64);
        let mut k = i;
        while k < j {
            let mut m = k + 1;
            while m < j && y[idx[m]] == y[idx[k]] {
                m += 1;
            }
            n3 += pairs((m - k) as u64);
            k = m;
        }
        i = j;
    }
    // Sort by y with a merge sort, counting the exchanges (discordant order).
    let mut ys: Vec<f64> = idx.iter().map(|&i| y[i]).collect();
    let mut buf = ys.clone();
    let swaps = merge_count(&mut ys, &mut buf);
    let mut n2 = 0u64;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && ys[j] == ys[i] {
            j += 1;
        }
        n2 += pairs((j - i) as u64);
        i = j;
    }
    let n0 = pairs(n as u64);
    let s = n0 as f64 - n1 as f64 - n2 as f64 + n3 as f64 - 2.0 * swaps as f64;
    let denom = ((n0 - n1) as f64 * (n0 - n2) as f64).sqrt();
    if denom == 0.0 { f64::NAN } else { s / denom }
}

fn merge_count(v: &mut [f64], buf: &mut [f64]) -> u64 {
    let n = v.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let mut swaps = merge_count(&mut v[..mid], &mut buf[..mid]) + merge_count(&mut v[mid..], &mut buf[mid..]);
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        if v[j] < v[i] {
            buf[k] = v[j];
            swaps += (mid - i) as u64;
            j += 1;
        } else {
            buf[k] = v[i];
            i += 1;
        }
        k += 1;
    }
    buf[k..k + mid - i].copy_from_slice(&v[i..mid]);
    k += mid - i;
    buf[k..k + n - j].copy_from_slice(&v[j..n]);
    v.copy_from_slice(&buf[..n]);
    swaps
}

/// Average ranks (1-based), ties sharing the mean of their positions.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i + 1;
        while j < idx.len() && x[idx[j]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j + 1) as f64 / 2.0;
        for &k in &idx[i..j] {
            r[k] = avg;
        }
        i = j;
    }
    r
}

/// Spearman's ρ: Pearson correlation of average ranks.
pub fn spearman_rho(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

/// Of the `k` items the prediction ranks highest, the fraction that are among the `k` truly best.
pub fn precision_at_k(pred: &[f64], truth: &[f64], k: usize) -> f64 {
    let k = k.min(pred.len());
    if k == 0 {
        return f64::NAN;
    }
    let top = |v: &[f64]| {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[b].total_cmp(&v[a]).then(a.cmp(&b)));
        idx.truncate(k);
        idx
    };
    let t: std::collections::HashSet<usize> = top(truth).into_iter().collect();
    top(pred).iter().filter(|i| t.contains(i)).count() as f64 / k as f64
}

/// What the prediction's top is worth in the truth's terms (what a search or a shortlist lives on).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TopFigures {
    /// True rank (1 = best) of the item the prediction ranks first.
    pub rank_of_predicted_best: usize,
    /// Its true value.
    pub value_of_predicted_best: f64,
    /// `(k, best true value among the k items the prediction ranks highest)`.
    pub best_in_top: Vec<(usize, f64)>,
    /// The best true value of all (regret = best − a figure above).
    pub best: f64,
}

/// [`TopFigures`] of `pred` against `truth` for each `k` (ties broken by position, first wins).
pub fn top_figures(pred: &[f64], truth: &[f64], ks: &[usize]) -> Option<TopFigures> {
    if pred.is_empty() {
        return None;
    }
    let order = |v: &[f64]| {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[b].total_cmp(&v[a]).then(a.cmp(&b)));
        idx
    };
    let by_pred = order(pred);
    let by_truth = order(truth);
    let first = by_pred[0];
    Some(TopFigures {
        rank_of_predicted_best: by_truth.iter().position(|&i| i == first).expect("present") + 1,
        value_of_predicted_best: truth[first],
        best_in_top: ks
            .iter()
            .map(|&k| (k, by_pred.iter().take(k).map(|&i| truth[i]).fold(f64::NEG_INFINITY, f64::max)))
            .collect(),
        best: truth[by_truth[0]],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_figures_by_hand() {
        // The prediction's order is c, a, d, b; the truth's b, c, d, a.
        let pred = [0.8, 0.1, 0.9, 0.5];
        let truth = [70.0, 95.0, 90.0, 80.0];
        let t = top_figures(&pred, &truth, &[1, 2, 3]).unwrap();
        assert_eq!((t.rank_of_predicted_best, t.value_of_predicted_best, t.best), (2, 90.0, 95.0));
        assert_eq!(t.best_in_top, vec![(1, 90.0), (2, 90.0), (3, 90.0)]);
        assert_eq!(top_figures(&pred, &truth, &[4]).unwrap().best_in_top, vec![(4, 95.0)]);
        assert!(top_figures(&[], &[], &[1]).is_none());
    }

    /// τ-b by its definition, O(n²).
    fn tau_naive(x: &[f64], y: &[f64]) -> f64 {
        let (mut c, mut d, mut tx, mut ty) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for i in 0..x.len() {
            for j in i + 1..x.len() {
                let (a, b) = (
                    (x[i] - x[j]).signum() * f64::from(x[i] != x[j]),
                    (y[i] - y[j]).signum() * f64::from(y[i] != y[j]),
                );
                if a == 0.0 && b == 0.0 {
                } else if a == 0.0 {
                    tx += 1.0;
                } else if b == 0.0 {
                    ty += 1.0;
                } else if a == b {
                    c += 1.0;
                } else {
                    d += 1.0;
                }
            }
        }
        (c - d) / ((c + d + tx) * (c + d + ty)).sqrt()
    }

    #[test]
    fn kendall_matches_the_definition_with_ties() {
        let mut rng = crate::rng::Rng::new(5);
        for n in [2, 3, 10, 57, 300] {
            let x: Vec<f64> = (0..n).map(|_| (rng.below(7)) as f64).collect();
            let y: Vec<f64> = (0..n).map(|i| x[i] * 0.5 + rng.below(5) as f64).collect();
            let (a, b) = (kendall_tau(&x, &y), tau_naive(&x, &y));
            assert!((a - b).abs() < 1e-12, "n={n}: {a} vs {b}");
        }
        assert_eq!(kendall_tau(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), -1.0);
    }

    #[test]
    fn spearman_and_precision() {
        assert!((spearman_rho(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 40.0]) - 1.0).abs() < 1e-12);
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        assert_eq!(precision_at_k(&[0.9, 0.1, 0.8, 0.2], &[1.0, 0.0, 0.0, 0.9], 2), 0.5);
    }
}
