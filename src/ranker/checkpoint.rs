//! Checkpoints: weights as safetensors with the reference PyTorch model's `state_dict` names and shapes
//! (positional tables included, as the buffers they are there), the optimiser's moments in a second
//! safetensors file, and the rest of the training state as JSON. Every file is written atomically.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use super::model::Ranker;
use super::optim::AdamW;
use crate::io::write_atomic;
use crate::sampler::stats::BatchStats;

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
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn write_tensors(
    path: &Path,
    tensors: Vec<(String, Vec<usize>, Vec<u8>)>,
    meta: HashMap<String, String>,
) -> Result<()> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, s, b)| Ok((n.clone(), TensorView::new(Dtype::F32, s.clone(), b).map_err(|e| anyhow!("{n}: {e}"))?)))
        .collect::<Result<_>>()?;
    let bytes =
        safetensors::serialize(views, Some(meta)).map_err(|e| anyhow!("cannot serialise {}: {e}", path.display()))?;
    write_atomic(path, |w| Ok(w.write_all(&bytes)?))
}

fn weight_tensors(m: &Ranker<f32>) -> Vec<(String, Vec<usize>, Vec<u8>)> {
    let p = &m.params;
    let mut out: Vec<(String, Vec<usize>, Vec<u8>)> =
        (0..p.count()).map(|i| (p.names[i].clone(), p.shapes[i].clone(), f32_bytes(p.get(i)))).collect();
    let shape = vec![1, m.cfg.n_position, m.cfg.d_model];
    for stack in ["encoder", "decoder"] {
        out.push((format!("{stack}.position_enc.pos_table"), shape.clone(), f32_bytes(&m.pos)));
    }
    out
}

/// The three files of one checkpoint (a run directory names them: [`crate::run_dir::RunDir::checkpoint`]).
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointPaths {
    /// The weights, with the reference model's `state_dict` names.
    pub weights: PathBuf,
    /// AdamW's moments.
    pub optim: PathBuf,
    /// [`TrainState`] as JSON.
    pub state: PathBuf,
}

/// Writes a checkpoint: weights, optimiser moments, then the state (which marks it complete).
pub fn save(p: &CheckpointPaths, m: &Ranker<f32>, opt: &AdamW, state: &TrainState) -> Result<()> {
    // One metadata entry only: safetensors keeps metadata in a HashMap, whose order (and so the file's
    // bytes) would vary from run to run with more. The step lives in the JSON state.
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    write_tensors(&p.weights, weight_tensors(m), meta.clone())?;
    let params = &m.params;
    let mut moments = Vec::new();
    for i in 0..params.count() {
        let r = params.offsets[i]..params.offsets[i] + params.get(i).len();
        moments.push((format!("exp_avg.{}", params.names[i]), params.shapes[i].clone(), f32_bytes(&opt.m[r.clone()])));
        moments.push((format!("exp_avg_sq.{}", params.names[i]), params.shapes[i].clone(), f32_bytes(&opt.v[r])));
    }
    write_tensors(&p.optim, moments, meta)?;
    let json = serde_json::to_vec(state)?;
    write_atomic(&p.state, |w| Ok(w.write_all(&json)?))
}

fn read_tensor(st: &SafeTensors<'_>, name: &str, shape: &[usize], file: &Path) -> Result<Vec<f32>> {
    let t = st.tensor(name).map_err(|_| anyhow!("{}: tensor {name} is missing", file.display()))?;
    if t.dtype() != Dtype::F32 {
        bail!("{}: tensor {name} is {:?}, expected F32", file.display(), t.dtype());
    }
    if t.shape() != shape {
        bail!("{}: tensor {name} has shape {:?}, expected {shape:?}", file.display(), t.shape());
    }
    Ok(t.data().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect())
}

fn open(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read checkpoint {}", path.display()))
}

/// Loads weights into `m` (whose configuration must match).
pub fn load_weights(path: &Path, m: &mut Ranker<f32>) -> Result<()> {
    let bytes = open(path)?;
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
    load_weights(&p.weights, m)?;
    let bytes = open(&p.optim)?;
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
