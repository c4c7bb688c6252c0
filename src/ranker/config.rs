//! The transformer's own settings: its sizes (NAR's `ranker:` block), optimiser, learning-rate schedule,
//! sampler, and [`TransformerConfig`], what its training reads. The run configuration that holds them
//! (NAR's YAML, loaded unchanged) is [`crate::config::Config`].

use serde::{Deserialize, Serialize};

/// The model's sizes (NAR's `ranker:` block).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub n_tier: usize,
    pub n_arch_patch: usize,
    pub d_patch: usize,
    pub d_patch_vec: usize,
    pub d_model: usize,
    pub d_ffn_inner: usize,
    pub d_tier_prj_inner: usize,
    pub n_layers: usize,
    pub n_head: usize,
    pub d_k: usize,
    pub d_v: usize,
    pub dropout: f64,
    #[serde(default = "default_n_position")]
    pub n_position: usize,
    pub d_val_acc_prj_inner: usize,
    #[serde(default = "yes")]
    pub scale_prj: bool,
    /// nar's addition (not in NAR): feed the cost channels (every channel but the first, the op codes)
    /// as ln(1 + x). NB201's encoding carries raw FLOPs and parameter counts (up to ~10⁷), which swamp
    /// the input projection's bias and the positions before the LayerNorm. Off in the reference configs.
    #[serde(default)]
    pub log_cost_inputs: bool,
}

fn default_n_position() -> usize {
    200
}
fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LrConfig {
    pub lr_mul: f64,
    pub n_warmup_steps: usize,
}

/// The sampler's settings (NAR's `sampler:` block); used by search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SamplerConfig {
    #[serde(default = "one")]
    pub top_tier: usize,
    #[serde(default = "four")]
    pub last_tier: usize,
    #[serde(default = "tenth")]
    pub batch_factor: f64,
    #[serde(default = "reuse")]
    pub reuse_step: usize,
    #[serde(default = "trails")]
    pub max_trails: usize,
    #[serde(default = "half")]
    pub noisy_factor: f64,
    pub flops_kl_thred: f64,
    pub params_kl_thred: f64,
    /// NB201: threshold on the per-op edge-count divergence.
    #[serde(default)]
    pub edges_kl_thred: Option<f64>,
    /// NB101: threshold on the vertex-count divergence.
    #[serde(default)]
    pub n_nodes_kl_thred: Option<f64>,
    pub sample_size: usize,
    #[serde(default)]
    pub search_size: Option<usize>,
}

fn one() -> usize {
    1
}
fn four() -> usize {
    4
}
fn tenth() -> f64 {
    0.1
}
fn reuse() -> usize {
    25
}
fn trails() -> usize {
    100
}
fn half() -> f64 {
    0.5
}

/// What the transformer's training reads of a run's configuration (`Config::transformer` makes it).
#[derive(Clone, Debug, PartialEq)]
pub struct TransformerConfig {
    pub ranker: ModelConfig,
    pub optimizer: OptimizerConfig,
    pub lr_scheduler: LrConfig,
    pub train_batch_size: usize,
    pub val_batch_size: usize,
    pub ranker_epochs: usize,
    /// Bins of the per-tier FLOPs/params histograms (the sampler's statistics).
    pub bins: usize,
    /// The rank loss beside the tier loss, and its weight.
    pub aux_loss: bool,
    pub loss_factor: f64,
}
