//! Fully connected layers (PyTorch's layout: `W` is `n_out×n_in`) and ReLU, forward and backward.

use rayon::prelude::*;

use super::matmul::{Accumulate, ROW_CHUNK, Trans, col_sum, matmul};
use super::profile;
use super::real::Real;

/// `y[rows×n_out] = x[rows×n_in] · Wᵀ + b` with `W` stored `n_out×n_in` (PyTorch's layout).
pub fn linear_fwd<T: Real>(x: &[T], w: &[T], b: Option<&[T]>, rows: usize, n_in: usize, n_out: usize, y: &mut [T]) {
    matmul(rows, n_out, n_in, x, Trans::No, w, Trans::Yes, y, Accumulate::Overwrite);
    if let Some(b) = b {
        y.par_chunks_mut(n_out * ROW_CHUNK).for_each(|chunk| {
            for row in chunk.chunks_mut(n_out) {
                row.iter_mut().zip(b).for_each(|(v, bi)| *v += *bi);
            }
        });
    }
}

/// [`linear_fwd`] followed by ReLU, in one pass over the output.
pub fn linear_relu_fwd<T: Real>(
    x: &[T],
    w: &[T],
    b: Option<&[T]>,
    rows: usize,
    n_in: usize,
    n_out: usize,
    y: &mut [T],
) {
    matmul(rows, n_out, n_in, x, Trans::No, w, Trans::Yes, y, Accumulate::Overwrite);
    profile::time("relu", || {
        y.par_chunks_mut(n_out * ROW_CHUNK).for_each(|chunk| {
            for row in chunk.chunks_mut(n_out) {
                match b {
                    Some(b) => row.iter_mut().zip(b).for_each(|(v, bi)| {
                        let z = *v + *bi;
                        *v = if z > T::ZERO { z } else { T::ZERO };
                    }),
                    None => row.iter_mut().for_each(|v| {
                        if *v < T::ZERO {
                            *v = T::ZERO
                        }
                    }),
                }
            }
        })
    });
}

/// The shape of a linear layer's call: `rows` inputs of `n_in` values to `rows` outputs of `n_out`.
#[derive(Clone, Copy, Debug)]
pub struct LinearShape {
    pub rows: usize,
    pub n_in: usize,
    pub n_out: usize,
}

/// Where a linear layer's backward pass puts its gradients: `dW` (`n_out×n_in`, accumulated), `db`
/// (`n_out`, accumulated) if the layer has a bias, `dx` (`rows×n_in`) if the input needs one, written
/// or added to.
pub struct LinearGrads<'a, T> {
    pub dw: &'a mut [T],
    pub db: Option<&'a mut [T]>,
    pub dx: Option<(&'a mut [T], Accumulate)>,
}

/// Backward of [`linear_fwd`] for input `x` (`rows×n_in`), weights `w` (`n_out×n_in`) and output
/// gradient `dy` (`rows×n_out`): `dW += dyᵀ·x`, `db += Σ dy`, and `dx (+)= dy·W` when asked for.
pub fn linear_bwd<T: Real>(x: &[T], w: &[T], dy: &[T], shape: LinearShape, grads: LinearGrads<'_, T>) {
    let LinearShape { rows, n_in, n_out } = shape;
    matmul(n_out, n_in, rows, dy, Trans::Yes, x, Trans::No, grads.dw, Accumulate::Add);
    if let Some(db) = grads.db {
        col_sum(dy, rows, n_out, db);
    }
    if let Some((dx, acc)) = grads.dx {
        matmul(rows, n_in, n_out, dy, Trans::No, w, Trans::No, dx, acc);
    }
}

/// In-place ReLU.
pub fn relu<T: Real>(x: &mut [T]) {
    profile::time("relu", || {
        x.par_chunks_mut(4096).for_each(|c| {
            c.iter_mut().for_each(|v| {
                if *v < T::ZERO {
                    *v = T::ZERO
                }
            })
        });
    })
}

/// Backward of ReLU given its output `a`: `da *= [a > 0]`.
pub fn relu_bwd<T: Real>(a: &[T], da: &mut [T]) {
    profile::time("relu", || {
        da.par_chunks_mut(4096).zip(a.par_chunks(4096)).for_each(|(d, a)| {
            d.iter_mut().zip(a).for_each(|(d, a)| {
                if *a <= T::ZERO {
                    *d = T::ZERO
                }
            });
        });
    })
}
