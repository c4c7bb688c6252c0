//! Checkpoints: weights as safetensors with the reference PyTorch model's `state_dict` names and shapes
//! (positional tables included, as the buffers they are there), the optimiser's moments in a second
//! safetensors file, and the rest of the training state as JSON, with the SHA-256 of both tensor files:
//! loading verifies them, and refuses non-finite values and statistics of the wrong shape. Every file is
//! written atomically, the state last (it marks the checkpoint complete).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use super::model::Ranker;
use super::optim::AdamW;
use crate::io::write_atomic;
use crate::stats::BatchStats;

/// Everything but the tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Epochs completed.
    pub epochs_done: usize,
    /// Optimiser steps taken.
    pub step: u64,
    /// The shuffling RNG's state after the last completed epoch.
    pub rng_state: u64,
    /// Best validation tier accuracy so far, and its epoch (0-based).
    pub best_val_acc: f64,
    pub best_epoch: Option<usize>,
    /// Validation tier accuracy of the epoch this checkpoint closes.
    pub val_acc: f64,
    /// The per-batch distribution statistics of the last epoch (for the sampler).
    pub distri: Vec<BatchStats>,
    /// SHA-256 of the weights and optimiser files this state was saved with (absent in checkpoints of
    /// nar versions before they were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optim_sha256: Option<String>,
}

impl TrainState {
    /// Checks the state's numbers and the shape of its statistics against a model of `n_tier` tiers.
    pub fn check(&self, n_tier: usize, file: &Path) -> Result<()> {
        if !self.best_val_acc.is_finite() && self.best_epoch.is_some()
            || !self.val_acc.is_finite() && self.epochs_done > 0
        {
            bail!("{}: the validation accuracies are not finite", file.display());
        }
        if self.best_epoch.is_some_and(|e| e >= self.epochs_done) {
            bail!("{}: best_epoch is past epochs_done ({})", file.display(), self.epochs_done);
        }
        for (b, batch) in self.distri.iter().enumerate() {
            if batch.tiers.len() != n_tier {
                bail!("{}: distri[{b}] has {} tiers, the model {n_tier}", file.display(), batch.tiers.len());
            }
            for (t, tier) in batch.tiers.iter().enumerate() {
                for (name, h) in [("params", &tier.params), ("flops", &tier.flops), ("shape", &tier.shape)] {
                    if h.keys.len() != h.counts.len() {
                        bail!(
                            "{}: distri[{b}].tiers[{t}].{name}: {} keys but {} counts",
                            file.display(),
                            h.keys.len(),
                            h.counts.len()
                        );
                    }
                    if h.counts.iter().any(|c| !c.is_finite() || *c < 0.0) {
                        bail!("{}: distri[{b}].tiers[{t}].{name}: counts must be finite and ≥ 0", file.display());
                    }
                }
            }
        }
        Ok(())
    }
}

pub use crate::io::sha256_hex;

/// Checks a tensor file's bytes against the checksum its state recorded.
fn verify(bytes: &[u8], expected: Option<&str>, file: &Path) -> Result<()> {
    match expected {
        Some(sum) if sum != sha256_hex(bytes) => bail!(
            "{}: the file does not match its checkpoint's checksum (corrupted or replaced after it was saved)",
            file.display()
        ),
        _ => Ok(()),
    }
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Writes the tensors; returns the file's SHA-256.
fn write_tensors(
    path: &Path,
    tensors: Vec<(String, Vec<usize>, Vec<u8>)>,
    meta: HashMap<String, String>,
) -> Result<String> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, s, b)| Ok((n.clone(), TensorView::new(Dtype::F32, s.clone(), b).map_err(|e| anyhow!("{n}: {e}"))?)))
        .collect::<Result<_>>()?;
    let bytes =
        safetensors::serialize(views, Some(meta)).map_err(|e| anyhow!("cannot serialise {}: {e}", path.display()))?;
    write_atomic(path, |w| Ok(w.write_all(&bytes)?))?;
    Ok(sha256_hex(&bytes))
}

/// The model's `state_dict` as the reference PyTorch model has it: every parameter under its name and
/// shape, then the two positional tables (buffers) `{encoder,decoder}.position_enc.pos_table`
/// (`1 × n_position × d_model`). The checkpoint's weights file and Python's `Ranker.state_dict()` are
/// both this list.
pub fn state_dict(m: &Ranker<f32>) -> Vec<(String, Vec<usize>, &[f32])> {
    let p = &m.params;
    let mut out: Vec<(String, Vec<usize>, &[f32])> =
        (0..p.count()).map(|i| (p.names[i].clone(), p.shapes[i].clone(), p.get(i))).collect();
    let shape = vec![1, m.cfg.n_position, m.cfg.d_model];
    for stack in ["encoder", "decoder"] {
        out.push((format!("{stack}.position_enc.pos_table"), shape.clone(), m.pos.as_slice()));
    }
    out
}

fn weight_tensors(m: &Ranker<f32>) -> Vec<(String, Vec<usize>, Vec<u8>)> {
    state_dict(m).into_iter().map(|(name, shape, values)| (name, shape, f32_bytes(values))).collect()
}

/// Which of a training's two checkpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Checkpoint {
    /// The epoch with the best validation tier accuracy.
    Best,
    /// The last epoch trained.
    Last,
}

impl Checkpoint {
    pub const ALL: [Checkpoint; 2] = [Checkpoint::Best, Checkpoint::Last];

    pub fn name(self) -> &'static str {
        match self {
            Checkpoint::Best => "best",
            Checkpoint::Last => "last",
        }
    }

    pub fn from_name(name: &str) -> Option<Checkpoint> {
        Checkpoint::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The folder, inside a predictor's folder, that holds the transformer's checkpoints.
pub const CHECKPOINTS_DIR: &str = "checkpoints";

/// The files of checkpoint `which` of the transformer whose files are in `dir`
/// (`checkpoints/{best,last}.safetensors`, `.optim.safetensors`, `.json`).
pub fn paths(dir: &Path, which: Checkpoint) -> CheckpointPaths {
    let d = dir.join(CHECKPOINTS_DIR);
    let tag = which.name();
    CheckpointPaths {
        weights: d.join(format!("{tag}.safetensors")),
        optim: d.join(format!("{tag}.optim.safetensors")),
        state: d.join(format!("{tag}.json")),
    }
}

/// The three files of one checkpoint ([`paths`] names them).
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointPaths {
    /// The weights, with the reference model's `state_dict` names.
    pub weights: PathBuf,
    /// AdamW's moments.
    pub optim: PathBuf,
    /// [`TrainState`] as JSON.
    pub state: PathBuf,
}

/// Where a tensor file waits until the state that records its checksum is written.
fn pending(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".pending");
    PathBuf::from(name)
}

/// Writes a checkpoint so that a process killed at any point leaves a complete one: the tensor files
/// go to `*.pending`, then the state (recording their checksums) replaces the old state — the commit
/// point —, then the pending files replace the old ones. [`load`] finishes a commit that was cut short.
pub fn save(p: &CheckpointPaths, m: &Ranker<f32>, opt: &AdamW, state: &TrainState) -> Result<()> {
    // One metadata entry only: safetensors keeps metadata in a HashMap, whose order (and so the file's
    // bytes) would vary from run to run with more. The step lives in the JSON state.
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    let weights_sha256 = Some(write_tensors(&pending(&p.weights), weight_tensors(m), meta.clone())?);
    let params = &m.params;
    let mut moments = Vec::new();
    for i in 0..params.count() {
        let r = params.offsets[i]..params.offsets[i] + params.get(i).len();
        moments.push((format!("exp_avg.{}", params.names[i]), params.shapes[i].clone(), f32_bytes(&opt.m[r.clone()])));
        moments.push((format!("exp_avg_sq.{}", params.names[i]), params.shapes[i].clone(), f32_bytes(&opt.v[r])));
    }
    let optim_sha256 = Some(write_tensors(&pending(&p.optim), moments, meta)?);
    let json = serde_json::to_vec(&TrainState { weights_sha256, optim_sha256, ..state.clone() })?;
    write_atomic(&p.state, |w| Ok(w.write_all(&json)?))?;
    for f in [&p.weights, &p.optim] {
        std::fs::rename(pending(f), f).with_context(|| format!("cannot move the new {} into place", f.display()))?;
    }
    Ok(())
}

/// Reads a tensor file, verified against the checksum its state recorded; a matching `*.pending`
/// file (a save cut short after its commit point) is moved into place first.
fn read_verified(path: &Path, expected: Option<&str>) -> Result<Vec<u8>> {
    if let Some(sum) = expected {
        let staged = pending(path);
        if staged.exists() && std::fs::read(&staged).is_ok_and(|b| sha256_hex(&b) == sum) {
            std::fs::rename(&staged, path).with_context(|| format!("cannot finish saving {}", path.display()))?;
        }
    }
    let bytes = open(path)?;
    verify(&bytes, expected, path)?;
    Ok(bytes)
}

fn read_tensor(st: &SafeTensors<'_>, name: &str, shape: &[usize], file: &Path) -> Result<Vec<f32>> {
    let t = st.tensor(name).map_err(|_| anyhow!("{}: tensor {name} is missing", file.display()))?;
    if t.dtype() != Dtype::F32 {
        bail!("{}: tensor {name} is {:?}, expected F32", file.display(), t.dtype());
    }
    if t.shape() != shape {
        bail!("{}: tensor {name} has shape {:?}, expected {shape:?}", file.display(), t.shape());
    }
    let v: Vec<f32> = t.data().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect();
    if let Some(k) = v.iter().position(|x| !x.is_finite()) {
        bail!("{}: tensor {name} holds a non-finite value ({}) at element {k}", file.display(), v[k]);
    }
    Ok(v)
}

fn open(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read checkpoint {}", path.display()))
}

/// Loads a checkpoint's weights into `m` (whose configuration must match), verified against the
/// checksum in the checkpoint's state.
pub fn load_weights(p: &CheckpointPaths, m: &mut Ranker<f32>) -> Result<()> {
    let state = load_state(p)?;
    let path = &p.weights;
    let bytes = read_verified(path, state.weights_sha256.as_deref())?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| anyhow!("{}: not a complete safetensors file: {e}", path.display()))?;
    for i in 0..m.params.count() {
        let name = m.params.names[i].clone();
        let shape = m.params.shapes[i].clone();
        let v = read_tensor(&st, &name, &shape, path)?;
        m.params.get_mut(i).copy_from_slice(&v);
    }
    Ok(())
}

/// Loads a checkpoint's training state alone (epoch, step, RNG, distribution statistics).
pub fn load_state(p: &CheckpointPaths) -> Result<TrainState> {
    let bytes = open(&p.state)?;
    serde_json::from_slice(&bytes).with_context(|| format!("{}: corrupted training state", p.state.display()))
}

/// Loads a whole checkpoint: weights, optimiser and state.
pub fn load(p: &CheckpointPaths, m: &mut Ranker<f32>, opt: &mut AdamW) -> Result<TrainState> {
    let state = load_state(p)?;
    state.check(m.cfg.n_tier, &p.state)?;
    load_weights(p, m)?;
    let bytes = read_verified(&p.optim, state.optim_sha256.as_deref())?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| anyhow!("{}: not a complete safetensors file: {e}", p.optim.display()))?;
    for i in 0..m.params.count() {
        let r = m.params.offsets[i]..m.params.offsets[i] + m.params.get(i).len();
        let shape = m.params.shapes[i].clone();
        opt.m[r.clone()].copy_from_slice(&read_tensor(
            &st,
            &format!("exp_avg.{}", m.params.names[i]),
            &shape,
            &p.optim,
        )?);
        opt.v[r].copy_from_slice(&read_tensor(&st, &format!("exp_avg_sq.{}", m.params.names[i]), &shape, &p.optim)?);
    }
    opt.step = state.step;
    Ok(state)
}

/// A run's checkpoints (`RunDir` names the run's own files; the checkpoints are the ranker's).
impl crate::run_dir::RunDir {
    /// The files of one checkpoint.
    pub fn checkpoint(&self, which: Checkpoint) -> CheckpointPaths {
        paths(self.root(), which)
    }

    /// Both checkpoints, as the trainer saves them.
    pub fn checkpoints(&self) -> crate::ranker::trainer::CheckpointPair {
        crate::ranker::trainer::CheckpointPair::in_dir(self.root())
    }

    /// A checkpoint's training state, checked against the run's `n_tier`.
    pub fn read_state(&self, which: Checkpoint, n_tier: usize) -> anyhow::Result<TrainState> {
        let p = self.checkpoint(which);
        let state = load_state(&p)?;
        state.check(n_tier, &p.state)?;
        Ok(state)
    }

    /// The state of the `best` checkpoint, if training has saved one.
    pub fn read_best_state(&self, n_tier: usize) -> anyhow::Result<Option<TrainState>> {
        let p = self.checkpoint(Checkpoint::Best);
        if p.state.exists() { self.read_state(Checkpoint::Best, n_tier).map(Some) } else { Ok(None) }
    }
}
