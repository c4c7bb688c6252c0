//! The tier ranker: configuration, a hand-written CPU engine (kernels, model, losses, optimiser), and
//! its training loop.

pub mod checkpoint;
pub mod config;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod ops;
pub mod optim;
pub mod params;
pub mod train;
