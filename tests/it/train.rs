//! Training on real NB201 data with a tiny configuration: the loss falls, runs are deterministic
//! (across thread counts too), resuming gives the same weights, checkpoints and configs are checked.

use crate::common;

use nar::config::Config;
use nar::ranker::checkpoint;
use nar::ranker::checkpoint::Checkpoint;
use nar::ranker::samples::Samples;
use nar::ranker::tiers::tier_labels;
use nar::ranker::trainer::Trainer;
use nar::rng::Rng;
use nar::run_dir::RunDir;
use nar::spaces::nb201::ImageDataset as Net;

const TINY: &str = r#"
arch: "NAR"            # NAR's own keys that nar does not use are accepted
exp_name: "tiny"
is_cuda: True
space: "nasbench201"
seed: 77777777
network_type: "cifar10"
train_size: 200
val_size: 50
train_batch_size: 50
val_batch_size: 25
data_loader_workers: 6
ranker_epochs: 12
bins: 5
ranker:
  n_tier: 5
  n_arch_patch: 31
  d_patch: 4
  d_patch_vec: 16
  d_model: 16
  d_ffn_inner: 32
  d_tier_prj_inner: 16
  n_layers: 2
  n_head: 2
  d_k: 8
  d_v: 8
  dropout: 0.1
  n_position: 200
  d_val_acc_prj_inner: 32
  scale_prj: True
aux_loss: True
loss_factor: 1
optimizer:
  beta1: 0.9
  beta2: 0.99
  eps: 1.0e-9
  weight_decay: 1.0e-2
lr_scheduler:
  lr_mul: 0.07
  n_warmup_steps: 10
"#;

fn split(cfg: &Config) -> (Samples, Samples) {
    let ds = common::nb201_table();
    let perm = Rng::new(cfg.seed).permutation(ds.len());
    let net = Net::Cifar10;
    let train = Samples::new(ds, perm[..cfg.train_size].to_vec(), net, "cifar10_val_acc", None).unwrap();
    let val =
        Samples::new(ds, perm[cfg.train_size..cfg.train_size + cfg.val_size].to_vec(), net, "cifar10_val_acc", None)
            .unwrap();
    (train, val)
}

fn run(cfg: &Config, epochs: usize) -> (Trainer, Vec<f64>) {
    let (train, val) = split(cfg);
    let mut t = Trainer::new(&cfg.transformer(), cfg.seed);
    let losses = (0..epochs).map(|_| t.epoch(&train, &val, &|_, _, _| {}).train_loss).collect();
    (t, losses)
}

#[test]
fn loss_falls_on_real_nb201_data() {
    let cfg = Config::parse(TINY).unwrap();
    let (_, losses) = run(&cfg, 12);
    let first = losses[..2].iter().sum::<f64>() / 2.0;
    let last = losses[10..].iter().sum::<f64>() / 2.0;
    assert!(last < first * 0.95, "losses {losses:?}");
}

#[test]
fn same_seed_same_weights_whatever_the_thread_count() {
    let cfg = Config::parse(TINY).unwrap();
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let (a, la) = one.install(|| run(&cfg, 2));
    let (b, lb) = two.install(|| run(&cfg, 2));
    assert_eq!(la, lb);
    assert!(a.model.params.data.iter().zip(&b.model.params.data).all(|(x, y)| x.to_bits() == y.to_bits()));
    // A different seed gives different weights.
    let mut other = cfg.clone();
    other.seed += 1;
    let (c, _) = run(&other, 1);
    assert!(a.model.params.data != c.model.params.data);
}

#[test]
fn resumed_run_ends_with_the_same_weights() {
    let cfg = Config::parse(TINY).unwrap();
    let (train, val) = split(&cfg);
    let (full, _) = run(&cfg, 4);
    let dir = tempfile::tempdir().unwrap();
    let run_dir = RunDir::create(dir.path()).unwrap();
    let mut first = Trainer::new(&cfg.transformer(), cfg.seed);
    for _ in 0..2 {
        first.epoch(&train, &val, &|_, _, _| {});
        first.save(&run_dir.checkpoints()).unwrap();
    }
    drop(first);
    let mut resumed = Trainer::new(&cfg.transformer(), cfg.seed);
    resumed.state =
        checkpoint::load(&run_dir.checkpoint(Checkpoint::Last), &mut resumed.model, &mut resumed.opt).unwrap();
    assert_eq!(resumed.state.epochs_done, 2);
    for _ in 0..2 {
        resumed.epoch(&train, &val, &|_, _, _| {});
    }
    assert_eq!(resumed.state.step, full.state.step);
    assert!(resumed.model.params.data.iter().zip(&full.model.params.data).all(|(x, y)| x.to_bits() == y.to_bits()));
    assert_eq!(resumed.opt.m, full.opt.m);
    assert_eq!(resumed.state.distri, full.state.distri);
}

#[test]
fn checkpoints_use_pytorch_names_and_reject_damage() {
    let cfg = Config::parse(TINY).unwrap();
    let (mut t, _) = run(&cfg, 1);
    let dir = tempfile::tempdir().unwrap();
    let run_dir = RunDir::create(dir.path()).unwrap();
    t.save(&run_dir.checkpoints()).unwrap();
    let p = run_dir.checkpoint(Checkpoint::Last);
    let bytes = std::fs::read(&p.weights).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (d, hk) = (cfg.ranker.d_model, cfg.ranker.n_head * cfg.ranker.d_k);
    for (name, shape) in [
        ("src_prj.weight", vec![d, 16]),
        ("encoder.layer_stack.0.slf_attn.w_qs.weight", vec![hk, d]),
        ("decoder.layer_stack.1.enc_attn.fc.weight", vec![d, hk]),
        ("decoder.layer_stack.1.pos_ffn.w_1.bias", vec![cfg.ranker.d_ffn_inner]),
        ("tier_prj.0.weight", vec![cfg.ranker.d_tier_prj_inner, 31 * d]),
        ("val_acc_prj.2.bias", vec![1]),
        ("encoder.position_enc.pos_table", vec![1, 200, d]),
    ] {
        assert_eq!(st.tensor(name).unwrap_or_else(|_| panic!("{name}")).shape(), shape.as_slice(), "{name}");
    }
    // Round trip.
    let mut m2 = nar::ranker::model::Ranker::<f32>::new(&cfg.ranker, 1);
    checkpoint::load_weights(&p, &mut m2).unwrap();
    assert_eq!(m2.params.data, t.model.params.data);
    // Truncated file: a clear error naming it.
    std::fs::write(&p.weights, &bytes[..bytes.len() / 2]).unwrap();
    let e = format!("{:#}", checkpoint::load_weights(&p, &mut m2).unwrap_err());
    assert!(e.contains("last.safetensors") && e.contains("checksum"), "{e}");
    // A changed value in a well-formed file: the checksum catches it.
    let mut flipped = bytes.clone();
    let last = flipped.len() - 2;
    flipped[last] ^= 0x40;
    std::fs::write(&p.weights, &flipped).unwrap();
    let e = format!("{:#}", checkpoint::load_weights(&p, &mut m2).unwrap_err());
    assert!(e.contains("last.safetensors: the file does not match its checkpoint's checksum"), "{e}");
    // Without a recorded checksum (older checkpoints), structure and values are still checked: a
    // truncated file, and NaN weights.
    let state_text = std::fs::read_to_string(&p.state).unwrap();
    let mut state: serde_json::Value = serde_json::from_str(&state_text).unwrap();
    state.as_object_mut().unwrap().remove("weights_sha256");
    std::fs::write(&p.state, state.to_string()).unwrap();
    std::fs::write(&p.weights, &bytes[..bytes.len() / 2]).unwrap();
    let e = format!("{:#}", checkpoint::load_weights(&p, &mut m2).unwrap_err());
    assert!(e.contains("last.safetensors") && e.contains("not a complete safetensors file"), "{e}");
    let mut nan = bytes.clone();
    nan[last - 2..last + 2].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&p.weights, &nan).unwrap();
    let e = format!("{:#}", checkpoint::load_weights(&p, &mut m2).unwrap_err());
    assert!(e.contains("last.safetensors: tensor") && e.contains("non-finite value (NaN)"), "{e}");
    std::fs::write(&p.state, &state_text).unwrap();
    // A checkpoint of another size names the tensor and both shapes.
    std::fs::write(&p.weights, &bytes).unwrap();
    let mut bigger = cfg.ranker.clone();
    bigger.d_ffn_inner = 48;
    let mut m3 = nar::ranker::model::Ranker::<f32>::new(&bigger, 1);
    let e = format!("{:#}", checkpoint::load_weights(&p, &mut m3).unwrap_err());
    assert!(e.contains("w_1.weight has shape [32, 16], expected [48, 16]"), "{e}");
}

#[test]
fn configs_load_and_bad_ones_are_explained() {
    for f in ["configs/nb101.yaml", "configs/nb201.yaml", "configs/nb101-improved.yaml", "configs/nb201-improved.yaml"]
    {
        let c = Config::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(f)).unwrap();
        assert_eq!(c.ranker.n_tier, 5);
        // The reference configurations stay NAR's; the improved one differs by its documented keys.
        assert_eq!(c.ranker.log_cost_inputs, f.ends_with("improved.yaml"), "{f}");
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut reference = Config::load(&root.join("configs/nb201.yaml")).unwrap();
    reference.ranker.log_cost_inputs = true;
    reference.loss_factor = 9.0;
    let r = &mut reference.ranker;
    (r.d_patch_vec, r.d_model, r.d_ffn_inner, r.d_tier_prj_inner) = (64, 64, 256, 128);
    (r.n_layers, r.d_k, r.d_v, r.d_val_acc_prj_inner) = (3, 16, 16, 256);
    assert_eq!(Config::load(&root.join("configs/nb201-improved.yaml")).unwrap(), reference);
    let mut reference = Config::load(&root.join("configs/nb101.yaml")).unwrap();
    reference.ranker.log_cost_inputs = true;
    assert_eq!(Config::load(&root.join("configs/nb101-improved.yaml")).unwrap(), reference);
    let e = format!("{:#}", Config::parse(&TINY.replace("d_model: 16", "d_model: 24")).unwrap_err());
    assert!(e.contains("d_model (24) must equal ranker.d_patch_vec (16)"), "{e}");
    let e = format!("{:#}", Config::parse(&TINY.replace("  n_head: 2\n", "")).unwrap_err());
    assert!(e.contains("n_head"), "{e}");
    let e =
        format!("{:#}", Config::parse(&TINY.replace("train_batch_size: 50", "train_batch_size: fifty")).unwrap_err());
    assert!(e.contains("train_batch_size"), "{e}");
    // Sizes, shapes and rates that would panic, allocate without bound or train to NaN are refused by name.
    for (from, to, says) in [
        ("val_batch_size: 25", "val_batch_size: 0", "val_batch_size must be between 1 and 65536, found 0"),
        ("d_k: 8", "d_k: 0", "ranker.d_k must be between 1 and 1024, found 0"),
        ("d_model: 16", "d_model: 100000", "ranker.d_model (100000) must equal ranker.d_patch_vec"),
        ("n_arch_patch: 31", "n_arch_patch: 19", "ranker.n_arch_patch and ranker.d_patch must be 31 and 4 for nb201"),
        ("bins: 5", "bins: 0", "bins must be between 1 and 1024, found 0"),
        ("lr_mul: 0.07", "lr_mul: .nan", "lr_scheduler.lr_mul is out of range: NaN"),
        ("eps: 1.0e-9", "eps: 0", "optimizer.eps is out of range: 0"),
    ] {
        assert!(TINY.contains(from), "the tiny config has {from:?}");
        let e = format!("{:#}", Config::parse(&TINY.replace(from, to)).unwrap_err());
        assert!(e.contains(says), "{to}: {e}");
    }
}

#[test]
fn tiers_cut_like_the_reference() {
    // 12 values in 5 tiers: groups of ⌊12/5⌋ = 2, the last taking the remaining 4.
    let v: Vec<f64> = (0..12).map(|i| i as f64).collect();
    let t = tier_labels(&v, 5);
    assert_eq!(t, vec![4, 4, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0]);
    let _ = Net::Cifar10;
}
