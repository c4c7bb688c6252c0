//! The inference passes against the training pass: scores, logits and encoder outputs bit for bit,
//! at both reference model sizes, with the workspace reused across batches of different sizes.

use nar::config::Config;
use nar::ranker::infer::Workspace;
use nar::ranker::model::Ranker;
use nar::rng::Rng;

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn check(config: &str, batches: &[usize]) {
    let cfg = Config::parse(config).unwrap().ranker;
    let model = Ranker::<f32>::new(&cfg, 5);
    let mut rng = Rng::new(9);
    let feat = cfg.n_arch_patch * cfg.d_patch * cfg.d_patch;
    let tiers: Vec<f32> =
        (0..cfg.n_tier * cfg.n_arch_patch * cfg.d_model).map(|_| rng.uniform() as f32 - 0.5).collect();
    let mut ws = Workspace::default();
    for &b in batches {
        let x: Vec<f32> = (0..b * feat).map(|_| rng.uniform() as f32).collect();
        let (out, _) = model.forward(&x, b, &tiers, None);
        let scores = model.infer_scores(&x, b, &mut ws);
        assert_eq!(bits(&scores), bits(&out.score), "score-only scores, batch {b}");
        let enc = model.infer_encoding(&x, b, &mut ws);
        assert_eq!(bits(&enc), bits(&out.enc_out), "encoder output, batch {b}");
        let (logits, score) = model.infer(&x, b, &tiers, &mut ws);
        assert_eq!(bits(&logits), bits(&out.logits), "tier logits, batch {b}");
        assert_eq!(bits(&score), bits(&out.score), "full-pass scores, batch {b}");
        assert!(logits.iter().chain(&score).all(|v| v.is_finite()));
    }
}

#[test]
fn inference_equals_the_training_pass_at_the_nb201_size() {
    check(include_str!("../../configs/nb201.yaml"), &[5, 2, 33]);
}

#[test]
fn inference_equals_the_training_pass_at_the_nb101_size() {
    check(include_str!("../../configs/nb101.yaml"), &[3, 8]);
}

/// A score does not depend on the batch it was computed in (the kernels' reductions run per row), so
/// `nar rank` may pick its batch size for speed.
#[test]
fn a_score_does_not_depend_on_its_batch() {
    for config in [include_str!("../../configs/nb201.yaml"), include_str!("../../configs/nb101.yaml")] {
        let cfg = Config::parse(config).unwrap().ranker;
        let model = Ranker::<f32>::new(&cfg, 6);
        let mut rng = Rng::new(3);
        let feat = cfg.n_arch_patch * cfg.d_patch * cfg.d_patch;
        let b = 70;
        let x: Vec<f32> = (0..b * feat).map(|_| rng.uniform() as f32).collect();
        let mut ws = Workspace::default();
        let all = model.infer_scores(&x, b, &mut ws);
        for (lo, hi) in [(0, 1), (1, 17), (17, 70), (0, 2), (69, 70)] {
            let part = model.infer_scores(&x[lo * feat..hi * feat], hi - lo, &mut ws);
            assert_eq!(bits(&part), bits(&all[lo..hi]), "rows {lo}..{hi}");
        }
    }
}

/// `log_cost_inputs` maps every patch but the op codes to ln(1 + x) before the model, in training and
/// inference alike: the same as feeding the transformed tensor to a model without it.
#[test]
fn log_cost_inputs_transform_every_patch_but_the_op_codes() {
    let mut cfg = Config::parse(include_str!("../../configs/nb201.yaml")).unwrap().ranker;
    let plain = Ranker::<f32>::new(&cfg, 5);
    cfg.log_cost_inputs = true;
    let logged = Ranker::<f32>::new(&cfg, 5);
    let mut rng = Rng::new(2);
    let (b, feat, patch) = (4, 31 * 16, 16);
    let x: Vec<f32> = (0..b * feat).map(|_| (rng.uniform() * 1e6) as f32).collect();
    let y: Vec<f32> =
        x.iter().enumerate().map(|(i, v)| if i % feat < patch { *v } else { f64::from(*v).ln_1p() as f32 }).collect();
    let mut ws = Workspace::default();
    assert_eq!(bits(&logged.infer_scores(&x, b, &mut ws)), bits(&plain.infer_scores(&y, b, &mut ws)));
    let tiers = vec![0.1f32; 5 * 31 * cfg.d_model];
    let (a, _) = logged.forward(&x, b, &tiers, None);
    let (c, _) = plain.forward(&y, b, &tiers, None);
    assert_eq!(bits(&a.score), bits(&c.score));
    assert_eq!(bits(&a.logits), bits(&c.logits));
}
