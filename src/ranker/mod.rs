//! The tier ranker: configuration, a hand-written CPU engine (kernels, model, losses, optimiser), and
//! what is done with it: training, inference, held-out evaluation.
//!
//! - [`config`]: the YAML configuration (NAR's keys);
//! - [`params`], [`ops`], [`model`], [`loss`], [`optim`]: the engine, layer by layer with explicit
//!   forward and backward passes;
//! - [`samples`], [`tiers`]: the encoded architectures and their quality tiers;
//! - [`trainer`]: the training loop; [`checkpoint`]: its files;
//! - [`infer`]: the inference passes (score only, or the whole model) without training's caches;
//! - [`predict`], [`evaluate`], [`metrics`]: inference over sample sets and the held-out evaluation.
//!
//! The other predictors (trees, forests, ensembles) and the interface they share are in
//! `crate::predictor`.

pub mod checkpoint;
pub mod config;
pub mod evaluate;
pub mod infer;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod ops;
pub mod optim;
pub mod params;
pub mod predict;
pub mod samples;
pub mod speed;
pub mod tiers;
pub mod trainer;
