//! The engine's backward pass against finite differences, in f64, on a tiny configuration — dropout
//! included (its masks are a pure function of the seed, so perturbed passes see the same masks).

use nar::ranker::config::ModelConfig;
use nar::ranker::loss::{rank_loss, soft_cross_entropy};
use nar::ranker::model::Ranker;
use nar::ranker::ops::Dropout;
use nar::rng::Rng;

fn tiny(dropout: f64) -> ModelConfig {
    ModelConfig {
        n_tier: 3,
        n_arch_patch: 3,
        d_patch: 2,
        d_patch_vec: 8,
        d_model: 8,
        d_ffn_inner: 12,
        d_tier_prj_inner: 6,
        n_layers: 2,
        n_head: 2,
        d_k: 4,
        d_v: 3,
        dropout,
        n_position: 10,
        d_val_acc_prj_inner: 5,
        scale_prj: true,
        log_cost_inputs: false,
    }
}

/// A scalar of the outputs: fixed random weights on the logits and the scores.
fn objective(
    m: &Ranker<f64>,
    x: &[f64],
    b: usize,
    tiers: &[f64],
    drop: Option<Dropout>,
    wl: &[f64],
    ws: &[f64],
) -> f64 {
    let (out, _) = m.forward(x, b, tiers, drop);
    out.logits.iter().zip(wl).map(|(a, w)| a * w).sum::<f64>()
        + out.score.iter().zip(ws).map(|(a, w)| a * w).sum::<f64>()
}

fn check(dropout: f64) {
    let cfg = tiny(dropout);
    let mut m = Ranker::<f64>::new(&cfg, 7);
    let mut rng = Rng::new(99);
    let b = 4;
    let x: Vec<f64> = (0..b * 3 * 4).map(|_| rng.uniform() * 2.0 - 1.0).collect();
    let tiers: Vec<f64> = (0..3 * 3 * 8).map(|_| rng.uniform() - 0.5).collect();
    let wl: Vec<f64> = (0..b * 3).map(|_| rng.uniform() - 0.5).collect();
    let ws: Vec<f64> = (0..b).map(|_| rng.uniform() - 0.5).collect();
    let drop = (dropout > 0.0).then_some(Dropout { p: dropout, seed: 1234 });
    let (_, cache) = m.forward(&x, b, &tiers, drop);
    let mut g = vec![0.0; m.params.numel()];
    m.backward(&cache, &wl, &ws, &mut g);
    let mut worst: f64 = 0.0;
    let mut checked = 0;
    for id in 0..m.params.count() {
        let off = m.params.offsets[id];
        let n: usize = m.params.shapes[id].iter().product();
        for pick in [0, n / 2, n - 1] {
            let i = off + pick;
            let h = 1e-6;
            let orig = m.params.data[i];
            m.params.data[i] = orig + h;
            let up = objective(&m, &x, b, &tiers, drop, &wl, &ws);
            m.params.data[i] = orig - h;
            let down = objective(&m, &x, b, &tiers, drop, &wl, &ws);
            m.params.data[i] = orig;
            let numeric = (up - down) / (2.0 * h);
            let err = (numeric - g[i]).abs() / (numeric.abs() + g[i].abs()).max(1e-7);
            assert!(err < 1e-5, "{}[{pick}]: analytic {} numeric {numeric} (rel err {err})", m.params.names[id], g[i]);
            worst = worst.max(err);
            checked += 1;
        }
    }
    // Every tensor, decoder and encoder alike, received a gradient.
    for id in 0..m.params.count() {
        let off = m.params.offsets[id];
        let n: usize = m.params.shapes[id].iter().product();
        assert!(g[off..off + n].iter().any(|v| *v != 0.0), "{} has no gradient", m.params.names[id]);
    }
    assert_eq!(checked, 3 * m.params.count());
    eprintln!("dropout {dropout}: worst relative error {worst:e} over {checked} values");
}

#[test]
fn whole_model_gradients_match_finite_differences() {
    check(0.0);
}

#[test]
fn whole_model_gradients_match_finite_differences_with_dropout() {
    check(0.1);
}

#[test]
fn loss_gradients_match_finite_differences() {
    let logits = [0.3, -1.2, 2.0, 0.5, 0.1, -0.4];
    let target = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
    let (_, g) = soft_cross_entropy(&logits, &target, 3);
    for i in 0..6 {
        let mut up = logits;
        up[i] += 1e-6;
        let mut dn = logits;
        dn[i] -= 1e-6;
        let num = (soft_cross_entropy(&up, &target, 3).0 - soft_cross_entropy(&dn, &target, 3).0) / 2e-6;
        assert!((num - g[i]).abs() < 1e-8, "ce {i}: {num} vs {}", g[i]);
    }
    let scores = [0.2, -0.7, 1.5, 0.0, 0.9];
    let labels = [91.0, 85.0, 93.5, 85.0, 70.0];
    let (l, g) = rank_loss(&scores, &labels);
    assert!(l > 0.0);
    for i in 0..5 {
        let mut up = scores;
        up[i] += 1e-6;
        let mut dn = scores;
        dn[i] -= 1e-6;
        let num = (rank_loss(&up, &labels).0 - rank_loss(&dn, &labels).0) / 2e-6;
        assert!((num - g[i]).abs() < 1e-8, "rank {i}: {num} vs {}", g[i]);
    }
    // Equal labels contribute log 2 and no gradient; huge gaps do not overflow.
    let (l, g) = rank_loss(&[1e4, -1e4], &[1.0, 1.0]);
    assert!((l - 2f64.ln()).abs() < 1e-12 && g == vec![0.0, 0.0]);
    let (l, _) = rank_loss(&[-1e4, 1e4], &[2.0, 1.0]);
    assert!(l.is_finite() && l > 1e3);
}
