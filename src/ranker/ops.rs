//! The few kernels the ranker is made of, each with its forward and backward pass, written for one
//! element type `T` (`f32` for training, `f64` for gradient checks). Matrix products go to the `gemm`
//! crate; everything else is plain loops, parallel over rows where it pays.
//!
//! Every reduction runs in a fixed order, and dropout masks come from a counter-based hash of
//! `(seed, tensor, index)`, so results do not depend on the number of threads.

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

use rayon::prelude::*;

/// The float types the engine runs on.
pub trait Real:
    Copy
    + Default
    + Send
    + Sync
    + Debug
    + PartialOrd
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
{
    const ZERO: Self;
    const ONE: Self;
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    fn exp(self) -> Self;
    fn sqrt(self) -> Self;
}

macro_rules! real {
    ($t:ty) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
        }
    };
}
real!(f32);
real!(f64);

/// Rows per parallel task in row-wise kernels.
const ROW_CHUNK: usize = 64;

/// `c[m×n] = a·b` (or `+=` with `accumulate`), where `a` is `m×k` (stored `k×m` if `a_t`) and `b` is
/// `k×n` (stored `n×k` if `b_t`), all row-major.
#[allow(clippy::too_many_arguments)]
pub fn matmul<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    a_t: bool,
    b: &[T],
    b_t: bool,
    c: &mut [T],
    accumulate: bool,
) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n, "matmul shapes");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(T::ZERO);
        }
        return;
    }
    let (a_rs, a_cs) = if a_t { (1, m as isize) } else { (k as isize, 1) };
    let (b_rs, b_cs) = if b_t { (1, k as isize) } else { (n as isize, 1) };
    // SAFETY: the slices hold at least the m×k, k×n and m×n elements addressed by these strides.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(0),
        );
    }
}

/// `y[rows×n_out] = x[rows×n_in] · Wᵀ + b` with `W` stored `n_out×n_in` (PyTorch's layout).
pub fn linear_fwd<T: Real>(x: &[T], w: &[T], b: Option<&[T]>, rows: usize, n_in: usize, n_out: usize, y: &mut [T]) {
    matmul(rows, n_out, n_in, x, false, w, true, y, false);
    if let Some(b) = b {
        y.par_chunks_mut(n_out * ROW_CHUNK).for_each(|chunk| {
            for row in chunk.chunks_mut(n_out) {
                row.iter_mut().zip(b).for_each(|(v, bi)| *v += *bi);
            }
        });
    }
}

/// Backward of [`linear_fwd`]: `dW += dyᵀ·x`, `db += Σ dy`, and `dx = dy·W` when asked for.
#[allow(clippy::too_many_arguments)]
pub fn linear_bwd<T: Real>(
    x: &[T],
    w: &[T],
    dy: &[T],
    rows: usize,
    n_in: usize,
    n_out: usize,
    dw: &mut [T],
    db: Option<&mut [T]>,
    dx: Option<&mut [T]>,
    accumulate_dx: bool,
) {
    matmul(n_out, n_in, rows, dy, true, x, false, dw, true);
    if let Some(db) = db {
        col_sum(dy, rows, n_out, db);
    }
    if let Some(dx) = dx {
        matmul(rows, n_in, n_out, dy, false, w, false, dx, accumulate_dx);
    }
}

/// `out[j] += Σ_i x[i][j]`, summed in a fixed order (blocks of rows, then the blocks in order).
pub fn col_sum<T: Real>(x: &[T], rows: usize, cols: usize, out: &mut [T]) {
    let partial: Vec<Vec<T>> = x[..rows * cols]
        .par_chunks(cols * 256)
        .map(|block| {
            let mut s = vec![T::ZERO; cols];
            for row in block.chunks(cols) {
                s.iter_mut().zip(row).for_each(|(a, b)| *a += *b);
            }
            s
        })
        .collect();
    for p in partial {
        out.iter_mut().zip(p).for_each(|(a, b)| *a += b);
    }
}

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
    y.par_chunks_mut(d * ROW_CHUNK)
        .zip(xhat.par_chunks_mut(d * ROW_CHUNK))
        .zip(rstd.par_chunks_mut(ROW_CHUNK))
        .zip(x.par_chunks(d * ROW_CHUNK))
        .for_each(|(((y, xh), rs), x)| {
            for (((y, xh), r), x) in y.chunks_mut(d).zip(xh.chunks_mut(d)).zip(rs.iter_mut()).zip(x.chunks(d)) {
                let n = T::from_f64(d as f64);
                let mut mean = T::ZERO;
                x.iter().for_each(|v| mean += *v);
                mean = mean / n;
                let mut var = T::ZERO;
                x.iter().for_each(|v| {
                    let c = *v - mean;
                    var += c * c;
                });
                var = var / n;
                let inv = T::ONE / (var + T::from_f64(eps)).sqrt();
                *r = inv;
                for j in 0..d {
                    let h = (x[j] - mean) * inv;
                    xh[j] = h;
                    y[j] = gamma[j] * h + beta[j];
                }
            }
        });
}

/// `y = γ·x̂ + β` again, from the kept `x̂` (cheaper to recompute than to keep).
pub fn layernorm_apply<T: Real>(xhat: &[T], gamma: &[T], beta: &[T], d: usize, y: &mut [T]) {
    y.par_chunks_mut(d * ROW_CHUNK).zip(xhat.par_chunks(d * ROW_CHUNK)).for_each(|(y, xh)| {
        for (y, xh) in y.chunks_mut(d).zip(xh.chunks(d)) {
            for j in 0..d {
                y[j] = gamma[j] * xh[j] + beta[j];
            }
        }
    });
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
                let mut mean_g = T::ZERO;
                let mut mean_gx = T::ZERO;
                for j in 0..d {
                    let g = dy[j] * gamma[j];
                    mean_g += g;
                    mean_gx += g * xh[j];
                    dg[j] += dy[j] * xh[j];
                    db[j] += dy[j];
                }
                let n = T::from_f64(d as f64);
                mean_g = mean_g / n;
                mean_gx = mean_gx / n;
                for j in 0..d {
                    dx[j] = *r * (dy[j] * gamma[j] - mean_g - xh[j] * mean_gx);
                }
            }
            (dg, db)
        })
        .collect();
    for (dg, db) in partial {
        dgamma.iter_mut().zip(dg).for_each(|(a, b)| *a += b);
        dbeta.iter_mut().zip(db).for_each(|(a, b)| *a += b);
    }
}

/// In-place ReLU.
pub fn relu<T: Real>(x: &mut [T]) {
    x.par_chunks_mut(4096).for_each(|c| {
        c.iter_mut().for_each(|v| {
            if *v < T::ZERO {
                *v = T::ZERO
            }
        })
    });
}

/// Backward of ReLU given its output `a`: `da *= [a > 0]`.
pub fn relu_bwd<T: Real>(a: &[T], da: &mut [T]) {
    da.par_chunks_mut(4096).zip(a.par_chunks(4096)).for_each(|(d, a)| {
        d.iter_mut().zip(a).for_each(|(d, a)| {
            if *a <= T::ZERO {
                *d = T::ZERO
            }
        });
    });
}

/// Dropout masks: element `index` of tensor `tensor` under `seed` is kept with probability `1 − p`.
#[derive(Clone, Copy, Debug)]
pub struct Dropout {
    pub p: f64,
    pub seed: u64,
}

fn mix(mut z: u64) -> u64 {
    // splitmix64's finaliser
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Dropout {
    /// Whether element `index` of tensor `tensor` is kept.
    #[inline]
    pub fn keep(&self, tensor: u64, index: usize) -> bool {
        let h = mix(self.seed
            ^ mix(tensor.wrapping_add(0x9e37_79b9_7f4a_7c15))
            ^ (index as u64).wrapping_mul(0xd6e8_feb8_6659_fd93));
        ((h >> 11) as f64) * (1.0 / (1u64 << 53) as f64) >= self.p
    }

    /// Applies the mask in place (scaling kept elements by `1/(1−p)`); the same call is its backward.
    pub fn apply<T: Real>(&self, tensor: u64, x: &mut [T]) {
        if self.p <= 0.0 {
            return;
        }
        let scale = T::from_f64(1.0 / (1.0 - self.p));
        x.par_chunks_mut(4096).enumerate().for_each(|(c, chunk)| {
            for (j, v) in chunk.iter_mut().enumerate() {
                *v = if self.keep(tensor, c * 4096 + j) { *v * scale } else { T::ZERO };
            }
        });
    }
}

/// Shapes of one multi-head attention call over short sequences of `len` positions.
#[derive(Clone, Copy, Debug)]
pub struct AttnShape {
    pub len: usize,
    pub heads: usize,
    pub dk: usize,
    pub dv: usize,
    /// Output sequences.
    pub n_out: usize,
    /// Output sequence `i` takes its queries from sequence `i / q_div` and keys/values from `i % kv_mod`
    /// (self-attention: `q_div = 1`, `kv_mod = n_out`).
    pub q_div: usize,
    pub kv_mod: usize,
}

impl AttnShape {
    fn q_of(&self, i: usize) -> usize {
        i / self.q_div
    }
    fn kv_of(&self, i: usize) -> usize {
        i % self.kv_mod
    }
}

/// Scaled dot-product attention: per output sequence and head, `softmax(q·kᵀ/√dk)` (kept in `probs`),
/// dropout, times `v`. Rows of `q`/`k`/`v`/`out` are `[seq][pos][head·dim]`.
#[allow(clippy::too_many_arguments)]
pub fn attention_fwd<T: Real>(
    s: &AttnShape,
    q: &[T],
    k: &[T],
    v: &[T],
    probs: &mut [T],
    out: &mut [T],
    drop: Option<(Dropout, u64)>,
) {
    let (l, h, dk, dv) = (s.len, s.heads, s.dk, s.dv);
    let scale = T::from_f64(1.0 / (dk as f64).sqrt());
    let keep_scale = drop.map(|(d, _)| T::from_f64(1.0 / (1.0 - d.p)));
    out.par_chunks_mut(l * h * dv).zip(probs.par_chunks_mut(h * l * l)).enumerate().for_each(|(i, (o, pr))| {
        let qs = &q[s.q_of(i) * l * h * dk..][..l * h * dk];
        let ks = &k[s.kv_of(i) * l * h * dk..][..l * h * dk];
        let vs = &v[s.kv_of(i) * l * h * dv..][..l * h * dv];
        o.fill(T::ZERO);
        let mut row = vec![T::ZERO; l];
        for hh in 0..h {
            for p in 0..l {
                let qrow = &qs[p * h * dk + hh * dk..][..dk];
                let mut max = T::from_f64(f64::NEG_INFINITY);
                for r in 0..l {
                    let krow = &ks[r * h * dk + hh * dk..][..dk];
                    let mut dot = T::ZERO;
                    for c in 0..dk {
                        dot += qrow[c] * krow[c];
                    }
                    row[r] = dot * scale;
                    if row[r] > max {
                        max = row[r];
                    }
                }
                let mut sum = T::ZERO;
                for r in 0..l {
                    row[r] = (row[r] - max).exp();
                    sum += row[r];
                }
                let prow = &mut pr[(hh * l + p) * l..][..l];
                let orow = &mut o[p * h * dv + hh * dv..][..dv];
                for r in 0..l {
                    let pv = row[r] / sum;
                    prow[r] = pv;
                    let w = match (drop, keep_scale) {
                        (Some((d, t)), Some(ks)) => {
                            if d.keep(t, ((i * h + hh) * l + p) * l + r) {
                                pv * ks
                            } else {
                                T::ZERO
                            }
                        }
                        _ => pv,
                    };
                    let vrow = &vs[r * h * dv + hh * dv..][..dv];
                    for c in 0..dv {
                        orow[c] += w * vrow[c];
                    }
                }
            }
        }
    });
}

/// Backward of [`attention_fwd`]. Writes `dq` per *output* sequence (`n_out` sequences; callers sum
/// them when queries are shared) and accumulates `dk`, `dv` per key sequence.
#[allow(clippy::too_many_arguments)]
pub fn attention_bwd<T: Real>(
    s: &AttnShape,
    q: &[T],
    k: &[T],
    v: &[T],
    probs: &[T],
    dout: &[T],
    dq_out: &mut [T],
    dk: &mut [T],
    dv: &mut [T],
    drop: Option<(Dropout, u64)>,
) {
    let (l, h, dkk, dvv) = (s.len, s.heads, s.dk, s.dv);
    let scale = T::from_f64(1.0 / (dkk as f64).sqrt());
    let keep_scale = drop.map(|(d, _)| T::from_f64(1.0 / (1.0 - d.p)));
    let n_kv = s.kv_mod.min(s.n_out);
    // Parallel over key/value sequences: each task owns dk, dv of its sequence and the dq of the output
    // sequences that read it, visited in increasing order.
    let dq_ptr = SyncPtr(dq_out.as_mut_ptr());
    dk[..n_kv * l * h * dkk]
        .par_chunks_mut(l * h * dkk)
        .zip(dv[..n_kv * l * h * dvv].par_chunks_mut(l * h * dvv))
        .enumerate()
        .for_each(|(kv, (dks, dvs))| {
            let ks = &k[kv * l * h * dkk..][..l * h * dkk];
            let vs = &v[kv * l * h * dvv..][..l * h * dvv];
            let mut dp = vec![T::ZERO; l];
            let mut w = vec![T::ZERO; l];
            let mut i = kv;
            while i < s.n_out {
                let qs = &q[s.q_of(i) * l * h * dkk..][..l * h * dkk];
                // SAFETY: output sequence i is visited by exactly one task (the one of i % kv_mod).
                let dqs = unsafe { std::slice::from_raw_parts_mut(dq_ptr.get().add(i * l * h * dkk), l * h * dkk) };
                dqs.fill(T::ZERO);
                let dos = &dout[i * l * h * dvv..][..l * h * dvv];
                for hh in 0..h {
                    for p in 0..l {
                        let prow = &probs[((i * h + hh) * l + p) * l..][..l];
                        let drow = &dos[p * h * dvv + hh * dvv..][..dvv];
                        // Effective weights after dropout, and d(weights).
                        for r in 0..l {
                            let keep = match (drop, keep_scale) {
                                (Some((d, t)), Some(ks)) => {
                                    if d.keep(t, ((i * h + hh) * l + p) * l + r) {
                                        ks
                                    } else {
                                        T::ZERO
                                    }
                                }
                                _ => T::ONE,
                            };
                            w[r] = prow[r] * keep;
                            let vrow = &vs[r * h * dvv + hh * dvv..][..dvv];
                            let dvrow = &mut dvs[r * h * dvv + hh * dvv..][..dvv];
                            let mut g = T::ZERO;
                            for c in 0..dvv {
                                g += drow[c] * vrow[c];
                                dvrow[c] += w[r] * drow[c];
                            }
                            dp[r] = g * keep;
                        }
                        // Softmax backward.
                        let mut dot = T::ZERO;
                        for r in 0..l {
                            dot += dp[r] * prow[r];
                        }
                        let qrow = &qs[p * h * dkk + hh * dkk..][..dkk];
                        let dqrow_start = p * h * dkk + hh * dkk;
                        for r in 0..l {
                            let ds = prow[r] * (dp[r] - dot) * scale;
                            let krow = &ks[r * h * dkk + hh * dkk..][..dkk];
                            let dkrow = &mut dks[r * h * dkk + hh * dkk..][..dkk];
                            for c in 0..dkk {
                                dqs[dqrow_start + c] += ds * krow[c];
                                dkrow[c] += ds * qrow[c];
                            }
                        }
                    }
                }
                i += s.kv_mod;
            }
        });
}

#[derive(Clone, Copy)]
struct SyncPtr<T>(*mut T);
// SAFETY: used only to hand disjoint regions of one buffer to different tasks.
unsafe impl<T> Send for SyncPtr<T> {}
unsafe impl<T> Sync for SyncPtr<T> {}
impl<T> SyncPtr<T> {
    fn get(self) -> *mut T {
        self.0
    }
}
