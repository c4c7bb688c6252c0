//! Layer norm over the last dimension, forward, backward and inference's fused residual form.

use rayon::prelude::*;

use super::matmul::ROW_CHUNK;
use super::profile;
use super::real::{Real, dot, sum};

#[allow(clippy::too_many_arguments)]
/// Layer norm over the last dimension (`eps` 1e-6 in the reference): `y = γ·x̂ + β`. Keeps `x̂` and
/// `1/σ` per row for the backward pass.
pub fn layernorm_fwd<T: Real>(
    x: &[T],
    gamma: &[T],
    beta: &[T],
    d: usize,
    eps: f64,
    y: &mut [T],
    xhat: &mut [T],
    rstd: &mut [T],
) {
    profile::time("layernorm", || {
        y.par_chunks_mut(d * ROW_CHUNK)
            .zip(xhat.par_chunks_mut(d * ROW_CHUNK))
            .zip(rstd.par_chunks_mut(ROW_CHUNK))
            .zip(x.par_chunks(d * ROW_CHUNK))
            .for_each(|(((y, xh), rs), x)| {
                for (((y, xh), r), x) in y.chunks_mut(d).zip(xh.chunks_mut(d)).zip(rs.iter_mut()).zip(x.chunks(d)) {
                    let n = T::from_f64(d as f64);
                    let mean = sum(x) / n;
                    for j in 0..d {
                        xh[j] = x[j] - mean;
                    }
                    let var = dot(xh, xh) / n;
                    let inv = T::ONE / (var + T::from_f64(eps)).sqrt();
                    *r = inv;
                    for j in 0..d {
                        let h = xh[j] * inv;
                        xh[j] = h;
                        y[j] = gamma[j] * h + beta[j];
                    }
                }
            });
    })
}

/// Inference's residual and layer norm in one pass: `x ← LN(x + res)`, where sequence `i` (`seq` values)
/// of `x` adds sequence `i / q_div` of `res`. The arithmetic of the residual add and [`layernorm_fwd`]
/// value for value, without keeping `x̂` and `1/σ`.
#[allow(clippy::too_many_arguments)]
pub fn add_layernorm<T: Real>(
    x: &mut [T],
    res: &[T],
    seq: usize,
    q_div: usize,
    gamma: &[T],
    beta: &[T],
    d: usize,
    eps: f64,
) {
    profile::time("layernorm", || {
        x.par_chunks_mut(seq).enumerate().for_each(|(i, xs)| {
            let src = &res[(i / q_div) * seq..][..seq];
            xs.iter_mut().zip(src).for_each(|(a, b)| *a += *b);
            let n = T::from_f64(d as f64);
            for x in xs.chunks_mut(d) {
                let mean = sum(x) / n;
                x.iter_mut().for_each(|v| *v -= mean);
                let var = dot(x, x) / n;
                let inv = T::ONE / (var + T::from_f64(eps)).sqrt();
                for j in 0..d {
                    x[j] = gamma[j] * (x[j] * inv) + beta[j];
                }
            }
        });
    })
}

/// `y = γ·x̂ + β` again, from the kept `x̂` (cheaper to recompute than to keep).
pub fn layernorm_apply<T: Real>(xhat: &[T], gamma: &[T], beta: &[T], d: usize, y: &mut [T]) {
    profile::time("layernorm", || {
        y.par_chunks_mut(d * ROW_CHUNK).zip(xhat.par_chunks(d * ROW_CHUNK)).for_each(|(y, xh)| {
            for (y, xh) in y.chunks_mut(d).zip(xh.chunks(d)) {
                for j in 0..d {
                    y[j] = gamma[j] * xh[j] + beta[j];
                }
            }
        });
    })
}

/// Backward of [`layernorm_fwd`]: `dγ += Σ dy·x̂`, `dβ += Σ dy`, and `dx` (overwritten).
#[allow(clippy::too_many_arguments)]
pub fn layernorm_bwd<T: Real>(
    dy: &[T],
    xhat: &[T],
    rstd: &[T],
    gamma: &[T],
    d: usize,
    dgamma: &mut [T],
    dbeta: &mut [T],
    dx: &mut [T],
) {
    profile::time("layernorm_bwd", || {
        let rows = rstd.len();
        let partial: Vec<(Vec<T>, Vec<T>)> = dx[..rows * d]
            .par_chunks_mut(d * ROW_CHUNK)
            .zip(dy.par_chunks(d * ROW_CHUNK))
            .zip(xhat.par_chunks(d * ROW_CHUNK))
            .zip(rstd.par_chunks(ROW_CHUNK))
            .map(|(((dx, dy), xh), rs)| {
                let mut dg = vec![T::ZERO; d];
                let mut db = vec![T::ZERO; d];
                for (((dx, dy), xh), r) in dx.chunks_mut(d).zip(dy.chunks(d)).zip(xh.chunks(d)).zip(rs) {
                    // dx holds dy·γ first.
                    for j in 0..d {
                        dx[j] = dy[j] * gamma[j];
                        dg[j] += dy[j] * xh[j];
                        db[j] += dy[j];
                    }
                    let n = T::from_f64(d as f64);
                    let mean_g = sum(dx) / n;
                    let mean_gx = dot(dx, xh) / n;
                    for j in 0..d {
                        dx[j] = *r * (dx[j] - mean_g - xh[j] * mean_gx);
                    }
                }
                (dg, db)
            })
            .collect();
        for (dg, db) in partial {
            dgamma.iter_mut().zip(dg).for_each(|(a, b)| *a += b);
            dbeta.iter_mut().zip(db).for_each(|(a, b)| *a += b);
        }
    })
}
