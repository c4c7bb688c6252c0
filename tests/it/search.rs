//! The sampler and the search: target selection on constructed statistics, bounds, determinism, and
//! the random-search baseline against the figures of `docs/design.md` §8.

use crate::common;

use nar::rng::Rng;
use nar::sampler::{Propose, draw_key, select_target};
use nar::search::reference::{ReferenceTable, random_search};
use nar::spaces::nb201::ImageDataset as Net;
use nar::spaces::{Nb101, Nb201};
use nar::stats::mean_std;
use nar::stats::{Hist, kl_div};

#[test]
fn random_search_baseline_matches_the_design_anchors() {
    // docs/design.md §8 (measured with an independent script on data/nb201): the best validation
    // accuracy among N random NB201 architectures, its test accuracy, mean over 200 seeds:
    // N = 1,256: 94.15 ± 0.21 (C10), 72.80 ± 0.47 (C100), 46.38 ± 0.54 (IN16); N = 100: 93.79 / 71.46 / 45.46.
    let ds = common::nb201_table();
    for (net, val, test, want_1256, want_100) in [
        (Net::Cifar10, "cifar10_val_acc", "cifar10_test_acc", 94.15, 93.79),
        (Net::Cifar100, "cifar100_val_acc", "cifar100_test_acc", 72.80, 71.46),
        (Net::ImageNet16, "imagenet16_val_acc", "imagenet16_test_acc", 46.38, 45.46),
    ] {
        let b = ReferenceTable::new(ds, net, val, Some(test));
        for (n, want) in [(1256, want_1256), (100, want_100)] {
            let accs: Vec<f64> = (0..200).map(|s| random_search(&b, n, s).accuracy).collect();
            let (m, _) = mean_std(&accs);
            // Different random draws than the anchor's: the mean of 200 agrees to well within its error.
            assert!((m - want).abs() < 0.15, "{net:?} N={n}: mean {m:.3}, expected {want}");
        }
    }
}

fn hist(keys: &[i64], counts: &[f64]) -> Hist {
    Hist { keys: keys.to_vec(), counts: counts.to_vec() }
}

#[test]
fn target_selection_follows_the_reference_rule() {
    let keys = [10, 20, 30];
    // Top tier concentrated on the last bin, low tiers on the first: KL ≥ threshold → the top tier's
    // counts as probabilities.
    let tiers = vec![
        hist(&keys, &[0.0, 1.0, 9.0]),
        hist(&keys, &[2.0, 3.0, 5.0]),
        hist(&keys, &[3.0, 4.0, 3.0]),
        hist(&keys, &[8.0, 2.0, 0.0]),
        hist(&keys, &[9.0, 1.0, 0.0]),
    ];
    let kl4 = kl_div(&tiers[3].counts, &tiers[0].counts);
    let kl5 = kl_div(&tiers[4].counts, &tiers[0].counts);
    assert!(kl4 > 2.0 && kl5 > 2.0, "{kl4} {kl5}");
    let t = select_target(&tiers, 1, 4, 2.0, 0.1).unwrap();
    assert_eq!(t, vec![0.0, 0.1, 0.9]);
    // Threshold above the smaller divergence → uniform.
    assert_eq!(select_target(&tiers, 1, 4, kl4.min(kl5) + 1e-9, 0.1), None);
    // A top tier under batch_factor of the batch → uniform.
    let mut small = tiers.clone();
    small[0] = hist(&keys, &[0.0, 0.0, 1.0]);
    assert_eq!(select_target(&small, 1, 4, 0.0, 0.1), None);
    // Uniform draws cover the keys; targeted draws follow the target.
    let mut rng = Rng::new(3);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        seen.insert(draw_key(&mut rng, &tiers, None));
    }
    assert_eq!(seen.len(), 3);
    let draws: Vec<i64> = (0..1000).map(|_| draw_key(&mut rng, &tiers, Some(&t))).collect();
    assert!(!draws.contains(&10));
    let share = draws.iter().filter(|&&k| k == 30).count() as f64 / 1000.0;
    assert!((share - 0.9).abs() < 0.04, "{share}");
}

#[test]
fn proposals_are_valid_and_follow_the_op_target() {
    let mut rng = Rng::new(11);
    // NB201: all mass on conv3x3 → every edge is conv3x3.
    let a = Nb201::propose(&mut rng, &[0, 1, 2, 3, 4], Some(&[0.0, 0.0, 0.0, 1.0, 0.0])).unwrap();
    assert_eq!(a.op_counts(), [0, 0, 0, 6, 0]);
    // NB101: proposals are valid cells of at most the drawn vertex count, all in the space.
    let mut valid = 0;
    for _ in 0..300 {
        if let Some(c) = Nb101::propose(&mut rng, &[5, 6, 7], None) {
            assert!(c.num_vertices() <= 7 && c.num_edges() <= 9);
            valid += 1;
        }
    }
    assert!(valid > 100, "{valid}");
}

#[test]
fn search_is_deterministic_per_seed() {
    use nar::ranker::samples::Samples;
    use nar::ranker::trainer::Trainer;
    let mut cfg = common::tiny_config(nar::space::SpaceKind::Nb201);
    (cfg.train_size, cfg.val_size, cfg.train_batch_size, cfg.val_batch_size) = (200, 128, 128, Some(128));
    cfg.check().unwrap();
    let ds = common::nb201_table();
    let perm = Rng::new(1).permutation(ds.len());
    let train = Samples::new(ds, perm[..200].to_vec(), Net::Cifar10, "cifar10_val_acc", None).unwrap();
    let val = Samples::new(ds, perm[200..328].to_vec(), Net::Cifar10, "cifar10_val_acc", None).unwrap();
    let mut t = Trainer::new(&cfg.transformer(), cfg.seed);
    t.epoch(&train, &val, &|_, _, _| {});
    let b = ReferenceTable::new(ds, Net::Cifar10, "cifar10_val_acc", Some("cifar10_test_acc"));
    let set = nar::search::reference::Settings::from_config(&cfg, 3).unwrap();
    let run = |seed| nar::search::reference::search(&t.model, &b, &t.state.distri, &set, 328, seed, &|_| {}).unwrap();
    let (a, a2, c) = (run(0), run(0), run(1));
    assert_eq!(a, a2);
    assert_ne!(a, c);
    assert_eq!(a.iterations.len(), 3);
    assert!(a.iterations.iter().all(|it| it.sampled == 32 && it.guided <= 16));
    if let Some(h) = &a.honest {
        assert!(h.rank >= 1 && h.rank <= 15_625 && (h.accuracy - b.card.accuracy(h.position)).abs() < 1e-12);
    }
}
