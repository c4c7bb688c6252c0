//! AdamW (PyTorch's formulation, decay on every parameter as the reference configures it) and the
//! Noam learning-rate schedule `lr_mul · d^-0.5 · min(step^-0.5, step · warmup^-1.5)`.

use rayon::prelude::*;

use super::config::{LrConfig, OptimizerConfig};

/// AdamW state.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamW {
    pub cfg: OptimizerConfig,
    pub m: Vec<f32>,
    pub v: Vec<f32>,
    /// Steps taken.
    pub step: u64,
}

impl AdamW {
    pub fn new(cfg: &OptimizerConfig, n: usize) -> AdamW {
        AdamW { cfg: cfg.clone(), m: vec![0.0; n], v: vec![0.0; n], step: 0 }
    }

    /// One update of `params` with gradients `grads` at learning rate `lr`.
    pub fn step(&mut self, params: &mut [f32], grads: &[f32], lr: f64) {
        self.step += 1;
        let c = &self.cfg;
        let (b1, b2) = (c.beta1 as f32, c.beta2 as f32);
        let bc1 = 1.0 - c.beta1.powi(self.step as i32);
        let bc2 = 1.0 - c.beta2.powi(self.step as i32);
        let step_size = (lr / bc1) as f32;
        let bc2_sqrt = bc2.sqrt() as f32;
        let decay = (1.0 - lr * c.weight_decay) as f32;
        let eps = c.eps as f32;
        params
            .par_chunks_mut(4096)
            .zip(grads.par_chunks(4096))
            .zip(self.m.par_chunks_mut(4096))
            .zip(self.v.par_chunks_mut(4096))
            .for_each(|(((p, g), m), v)| {
                for i in 0..p.len() {
                    p[i] *= decay;
                    m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                    v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                    let denom = v[i].sqrt() / bc2_sqrt + eps;
                    p[i] -= step_size * m[i] / denom;
                }
            });
    }
}

/// The learning rate at 1-based `step`.
pub fn noam_lr(cfg: &LrConfig, d_model: usize, step: u64) -> f64 {
    let s = step.max(1) as f64;
    cfg.lr_mul * (d_model as f64).powf(-0.5) * s.powf(-0.5).min(s * (cfg.n_warmup_steps as f64).powf(-1.5))
}
