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

/// Dot product with eight independent accumulators, so the compiler can keep them in vector lanes
/// (a single running sum is a serial chain: float addition may not be reordered). The order of the
/// additions is fixed, whatever the thread count.
#[inline]
pub fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let n = a.len().min(b.len());
    let mut acc = [T::ZERO; 8];
    let (ac, bc) = (a[..n].chunks_exact(8), b[..n].chunks_exact(8));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = T::ZERO;
    for (x, y) in ar.iter().zip(br) {
        tail += *x * *y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Sum with eight independent accumulators (see [`dot`]).
#[inline]
pub fn sum<T: Real>(a: &[T]) -> T {
    let mut acc = [T::ZERO; 8];
    let chunks = a.chunks_exact(8);
    let rest = chunks.remainder();
    for x in chunks {
        for l in 0..8 {
            acc[l] += x[l];
        }
    }
    let mut tail = T::ZERO;
    rest.iter().for_each(|x| tail += *x);
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// `y += a·x`.
#[inline]
pub fn axpy<T: Real>(a: T, x: &[T], y: &mut [T]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * *x;
    }
}

/// Per-kernel wall time, collected when `NAR_PROFILE` is set (for `nar bench train`).
pub mod profile {
    use std::collections::BTreeMap;
    use std::sync::{Mutex, OnceLock};
    use std::time::Instant;

    static ON: OnceLock<bool> = OnceLock::new();
    static TIMES: Mutex<BTreeMap<&'static str, (f64, usize)>> = Mutex::new(BTreeMap::new());
    static FLOPS: Mutex<f64> = Mutex::new(0.0);

    /// Counts matrix-product FLOPs when profiling.
    pub fn add_flops(f: f64) {
        if enabled() {
            *FLOPS.lock().expect("profile lock") += f;
        }
    }

    /// Takes the counted matrix-product FLOPs.
    pub fn take_flops() -> f64 {
        std::mem::take(&mut *FLOPS.lock().expect("profile lock"))
    }

    pub fn enabled() -> bool {
        *ON.get_or_init(|| std::env::var_os("NAR_PROFILE").is_some())
    }

    /// Runs `f`, adding its time to `name` when profiling.
    #[inline]
    pub fn time<R>(name: &'static str, f: impl FnOnce() -> R) -> R {
        if !enabled() {
            return f();
        }
        let t = Instant::now();
        let r = f();
        let mut m = TIMES.lock().expect("profile lock");
        let e = m.entry(name).or_insert((0.0, 0));
        e.0 += t.elapsed().as_secs_f64();
        e.1 += 1;
        r
    }

    /// Takes the collected times: `(kernel, seconds, calls)`.
    pub fn take() -> Vec<(&'static str, f64, usize)> {
        let mut m = TIMES.lock().expect("profile lock");
        let v = m.iter().map(|(k, (s, n))| (*k, *s, *n)).collect();
        m.clear();
        v
    }
}

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
    profile::time("matmul", || {
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
        profile::add_flops(2.0 * m as f64 * n as f64 * k as f64);
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
    })
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
    matmul(rows, n_out, n_in, x, false, w, true, y, false);
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
    profile::time("bias_grad", || {
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
    })
}

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

/// Dropout masks: element `index` of tensor `tensor` under `seed` is kept with probability `1 − p`.
/// Masks are drawn in blocks of [`Dropout::BLOCK`] elements, each from a generator seeded by
/// `(seed, tensor, block)`: a pure function of the position, whatever the thread count, and cheap
/// enough to recompute in the backward pass instead of storing.
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

/// The keep/drop stream of one block (wyrand).
pub struct MaskStream {
    state: u64,
    threshold: u64,
}

impl Iterator for MaskStream {
    type Item = bool;
    #[inline]
    fn next(&mut self) -> Option<bool> {
        self.state = self.state.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.state) * u128::from(self.state ^ 0xe703_7ed1_a0b4_28db);
        Some((((t >> 64) ^ t) as u64) >> 11 >= self.threshold)
    }
}

impl Dropout {
    /// Elements per independently seeded block.
    pub const BLOCK: usize = 1024;

    /// The mask of block `block` of tensor `tensor`.
    pub fn stream(&self, tensor: u64, block: usize) -> MaskStream {
        let state = mix(self.seed
            ^ mix(tensor.wrapping_add(0x9e37_79b9_7f4a_7c15))
            ^ mix(block as u64 ^ 0x5851_f42d_4c95_7f2d));
        MaskStream { state, threshold: (self.p * (1u64 << 53) as f64) as u64 }
    }

    /// Applies the mask in place (scaling kept elements by `1/(1−p)`); the same call is its backward.
    pub fn apply<T: Real>(&self, tensor: u64, x: &mut [T]) {
        if self.p <= 0.0 {
            return;
        }
        let scale = T::from_f64(1.0 / (1.0 - self.p));
        x.par_chunks_mut(Self::BLOCK).enumerate().for_each(|(c, chunk)| {
            for (v, keep) in chunk.iter_mut().zip(self.stream(tensor, c)) {
                *v = if keep { *v * scale } else { T::ZERO };
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

/// A strided view of a small matrix: element (i, j) at `data[off + i·rs + j·cs]`.
#[derive(Clone, Copy)]
struct View {
    off: usize,
    rs: isize,
    cs: isize,
}

/// `c (+)= a·b` on small strided matrices, single-threaded (callers are already parallel).
#[allow(clippy::too_many_arguments)]
fn small_mm<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    av: View,
    b: &[T],
    bv: View,
    c: &mut [T],
    cv: View,
    accumulate: bool,
) {
    // SAFETY: callers pass views that stay inside their slices for the given m, n, k.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr().add(cv.off),
            cv.cs,
            cv.rs,
            accumulate,
            a.as_ptr().add(av.off),
            av.cs,
            av.rs,
            b.as_ptr().add(bv.off),
            bv.cs,
            bv.rs,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Scaled dot-product attention: per output sequence and head, `softmax(q·kᵀ/√dk)` (kept in `probs`),
/// dropout, times `v`. Rows of `q`/`k`/`v`/`out` are `[seq][pos][head·dim]`; each head's slice is a
/// strided matrix, multiplied in place by small single-threaded GEMMs.
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
    profile::time("attention", || {
        let (l, h, dk) = (s.len, s.heads, s.dk);
        let scale = T::from_f64(1.0 / (dk as f64).sqrt());
        probs.par_chunks_mut(h * l * l).enumerate().for_each(|(i, pr)| {
            for hh in 0..h {
                head_scores(s, i, hh, q, k, &mut pr[hh * l * l..][..l * l]);
                softmax_rows(&mut pr[hh * l * l..][..l * l], l, scale);
            }
        });
    });
    attention_values(s, v, probs, out, drop);
}

/// Attention scores `q_h · k_hᵀ` (`[len, len]`) of output sequence `i`, head `hh`.
fn head_scores<T: Real>(s: &AttnShape, i: usize, hh: usize, q: &[T], k: &[T], prob: &mut [T]) {
    let (l, h, dk) = (s.len, s.heads, s.dk);
    let qw = (h * dk) as isize;
    small_mm(
        l,
        l,
        dk,
        q,
        View { off: s.q_of(i) * l * h * dk + hh * dk, rs: qw, cs: 1 },
        k,
        View { off: s.kv_of(i) * l * h * dk + hh * dk, rs: 1, cs: qw },
        prob,
        View { off: 0, rs: l as isize, cs: 1 },
        false,
    );
}

/// Attention output `weights · v_h` (`[len, dv]`) of output sequence `i`, head `hh`, into the
/// sequence's output rows `o` (`[len, heads·dv]`).
fn head_values<T: Real>(s: &AttnShape, i: usize, hh: usize, weights: &[T], v: &[T], o: &mut [T]) {
    let (l, h, dv) = (s.len, s.heads, s.dv);
    let vw = (h * dv) as isize;
    small_mm(
        l,
        dv,
        l,
        weights,
        View { off: 0, rs: l as isize, cs: 1 },
        v,
        View { off: s.kv_of(i) * l * h * dv + hh * dv, rs: vw, cs: 1 },
        o,
        View { off: hh * dv, rs: vw, cs: 1 },
        false,
    );
}

/// Row-wise `softmax(scale · x)` of an `[rows, l]` block, in place.
fn softmax_rows<T: Real>(x: &mut [T], l: usize, scale: T) {
    for row in x.chunks_mut(l) {
        let mut max = T::from_f64(f64::NEG_INFINITY);
        for x in row.iter_mut() {
            *x *= scale;
            if *x > max {
                max = *x;
            }
        }
        let mut total = T::ZERO;
        for x in row.iter_mut() {
            *x = (*x - max).exp();
            total += *x;
        }
        let inv = T::ONE / total;
        row.iter_mut().for_each(|x| *x *= inv);
    }
}

/// [`attention_fwd`] without dropout and without keeping the probabilities: per output sequence and
/// head, the scores, their softmax and the product with `v` run back to back in one `[len, len]`
/// scratch block per task (it stays in L1). The same kernels in the same order as [`attention_fwd`]
/// and [`attention_values`], so the output is bit for bit theirs.
pub fn attention_infer<T: Real>(s: &AttnShape, q: &[T], k: &[T], v: &[T], out: &mut [T]) {
    profile::time("attention", || {
        let (l, h, dv) = (s.len, s.heads, s.dv);
        let scale = T::from_f64(1.0 / (s.dk as f64).sqrt());
        out.par_chunks_mut(l * h * dv).enumerate().for_each_init(
            || vec![T::ZERO; l * l],
            |prob, (i, o)| {
                for hh in 0..h {
                    head_scores(s, i, hh, q, k, prob);
                    softmax_rows(prob, l, scale);
                    head_values(s, i, hh, prob, v, o);
                }
            },
        );
    })
}

/// The second half of [`attention_fwd`]: `out = dropout(probs) · v` per sequence and head. The
/// backward pass calls it again to recompute the attention output instead of keeping it.
pub fn attention_values<T: Real>(s: &AttnShape, v: &[T], probs: &[T], out: &mut [T], drop: Option<(Dropout, u64)>) {
    profile::time("attention", || {
        let (l, h, dv) = (s.len, s.heads, s.dv);
        let keep_scale = drop.map(|(d, _)| T::from_f64(1.0 / (1.0 - d.p)));
        out.par_chunks_mut(l * h * dv).enumerate().for_each_init(
            || vec![T::ZERO; l * l],
            |dropped, (i, o)| {
                for hh in 0..h {
                    let prob = &probs[(i * h + hh) * l * l..][..l * l];
                    let weights: &[T] = match (drop, keep_scale) {
                        (Some((d, t)), Some(ks)) => {
                            for ((w, p), keep) in dropped.iter_mut().zip(prob).zip(d.stream(t, i * h + hh)) {
                                *w = if keep { *p * ks } else { T::ZERO };
                            }
                            dropped
                        }
                        _ => prob,
                    };
                    head_values(s, i, hh, weights, v, o);
                }
            },
        );
    })
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
    profile::time("attention_bwd", || {
        let (l, h, dkk, dvv) = (s.len, s.heads, s.dk, s.dv);
        let scale = T::from_f64(1.0 / (dkk as f64).sqrt());
        let keep_scale = drop.map(|(d, _)| T::from_f64(1.0 / (1.0 - d.p)));
        let (qw, vw) = ((h * dkk) as isize, (h * dvv) as isize);
        let n_kv = s.kv_mod.min(s.n_out);
        let flat = |rs: usize| View { off: 0, rs: rs as isize, cs: 1 };
        // Parallel over key/value sequences: each task owns dk, dv of its sequence and the dq of the
        // output sequences that read it, visited in increasing order.
        let dq_ptr = SyncPtr(dq_out.as_mut_ptr());
        dk[..n_kv * l * h * dkk]
            .par_chunks_mut(l * h * dkk)
            .zip(dv[..n_kv * l * h * dvv].par_chunks_mut(l * h * dvv))
            .enumerate()
            .for_each(|(kv, (dks, dvs))| {
                let mut weights = vec![T::ZERO; l * l];
                let mut dp = vec![T::ZERO; l * l];
                let mut i = kv;
                while i < s.n_out {
                    let qo = s.q_of(i) * l * h * dkk;
                    // SAFETY: output sequence i is visited by exactly one task (the one of i % kv_mod).
                    let dqs = unsafe { std::slice::from_raw_parts_mut(dq_ptr.get().add(i * l * h * dkk), l * h * dkk) };
                    let dos = &dout[i * l * h * dvv..][..l * h * dvv];
                    for hh in 0..h {
                        let prob = &probs[(i * h + hh) * l * l..][..l * l];
                        let mut mask = drop.map(|(d, t)| d.stream(t, i * h + hh));
                        // Effective weights after dropout.
                        for (w, p) in weights.iter_mut().zip(prob) {
                            *w = match (&mut mask, keep_scale) {
                                (Some(m), Some(ks)) => {
                                    if m.next().expect("endless") {
                                        *p * ks
                                    } else {
                                        T::ZERO
                                    }
                                }
                                _ => *p,
                            };
                        }
                        // dv_h += weightsᵀ · dout_h
                        small_mm(
                            l,
                            dvv,
                            l,
                            &weights,
                            View { off: 0, rs: 1, cs: l as isize },
                            dos,
                            View { off: hh * dvv, rs: vw, cs: 1 },
                            dvs,
                            View { off: hh * dvv, rs: vw, cs: 1 },
                            true,
                        );
                        // d(weights) = dout_h · v_hᵀ, then through the dropout mask.
                        small_mm(
                            l,
                            l,
                            dvv,
                            dos,
                            View { off: hh * dvv, rs: vw, cs: 1 },
                            v,
                            View { off: kv * l * h * dvv + hh * dvv, rs: 1, cs: vw },
                            &mut dp,
                            flat(l),
                            false,
                        );
                        if let (Some((d, t)), Some(ks)) = (drop, keep_scale) {
                            for (g, keep) in dp.iter_mut().zip(d.stream(t, i * h + hh)) {
                                *g = if keep { *g * ks } else { T::ZERO };
                            }
                        }
                        // Softmax backward: ds = p ⊙ (dp − Σ dp·p) · scale, in place in dp.
                        for (dprow, prow) in dp.chunks_mut(l).zip(prob.chunks(l)) {
                            let dpp = dot(dprow, prow);
                            for (g, p) in dprow.iter_mut().zip(prow) {
                                *g = *p * (*g - dpp) * scale;
                            }
                        }
                        // dq_h = ds · k_h;  dk_h += dsᵀ · q_h
                        small_mm(
                            l,
                            dkk,
                            l,
                            &dp,
                            flat(l),
                            k,
                            View { off: kv * l * h * dkk + hh * dkk, rs: qw, cs: 1 },
                            dqs,
                            View { off: hh * dkk, rs: qw, cs: 1 },
                            false,
                        );
                        small_mm(
                            l,
                            dkk,
                            l,
                            &dp,
                            View { off: 0, rs: 1, cs: l as isize },
                            q,
                            View { off: qo + hh * dkk, rs: qw, cs: 1 },
                            dks,
                            View { off: hh * dkk, rs: qw, cs: 1 },
                            true,
                        );
                    }
                    i += s.kv_mod;
                }
            });
    })
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
