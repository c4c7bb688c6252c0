//! Scaled dot-product attention over short sequences: forward (training and inference) and backward,
//! each head's slice a strided matrix multiplied by small single-threaded GEMMs.

use rayon::prelude::*;

use super::dropout::Dropout;
use super::matmul::{Accumulate, View, small_mm};
use super::profile;
use super::real::{Real, dot};

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
        (l, l, dk),
        (q, View { off: s.q_of(i) * l * h * dk + hh * dk, rs: qw, cs: 1 }),
        (k, View { off: s.kv_of(i) * l * h * dk + hh * dk, rs: 1, cs: qw }),
        (prob, View { off: 0, rs: l as isize, cs: 1 }),
        Accumulate::Overwrite,
    );
}

/// Attention output `weights · v_h` (`[len, dv]`) of output sequence `i`, head `hh`, into the
/// sequence's output rows `o` (`[len, heads·dv]`).
fn head_values<T: Real>(s: &AttnShape, i: usize, hh: usize, weights: &[T], v: &[T], o: &mut [T]) {
    let (l, h, dv) = (s.len, s.heads, s.dv);
    let vw = (h * dv) as isize;
    small_mm(
        (l, dv, l),
        (weights, View { off: 0, rs: l as isize, cs: 1 }),
        (v, View { off: s.kv_of(i) * l * h * dv + hh * dv, rs: vw, cs: 1 }),
        (o, View { off: hh * dv, rs: vw, cs: 1 }),
        Accumulate::Overwrite,
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

/// What [`attention_fwd`] kept for the backward pass: its inputs `q`, `k`, `v` and the softmax
/// probabilities (`[n_out][heads][len][len]`).
pub struct AttnSaved<'a, T> {
    pub q: &'a [T],
    pub k: &'a [T],
    pub v: &'a [T],
    pub probs: &'a [T],
}

/// The gradients [`attention_bwd`] produces: `dq` per *output* sequence (written), `dk`, `dv` per key
/// sequence (accumulated).
pub struct AttnGrads<'a, T> {
    pub dq: &'a mut [T],
    pub dk: &'a mut [T],
    pub dv: &'a mut [T],
}

/// Backward of [`attention_fwd`] given the output gradient `dout` (rows as the output's). Writes `dq`
/// per *output* sequence (`n_out` sequences; callers sum them when queries are shared) and accumulates
/// `dk`, `dv` per key sequence.
pub fn attention_bwd<T: Real>(
    s: &AttnShape,
    saved: AttnSaved<'_, T>,
    dout: &[T],
    grads: AttnGrads<'_, T>,
    drop: Option<(Dropout, u64)>,
) {
    let AttnSaved { q, k, v, probs } = saved;
    let AttnGrads { dq: dq_out, dk, dv } = grads;
    // The one unchecked access below is the per-task window into `dq`: every output sequence's rows
    // must be there (the other buffers are read through checked slices and views).
    assert!(dq_out.len() >= s.n_out * s.len * s.heads * s.dk, "attention_bwd: dq is shorter than n_out sequences");
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
                    // SAFETY: i < n_out and dq holds n_out sequences (asserted above); output sequence i is
                    // visited by exactly one task (the one of i % kv_mod).
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
                            (l, dvv, l),
                            (&weights[..], View { off: 0, rs: 1, cs: l as isize }),
                            (dos, View { off: hh * dvv, rs: vw, cs: 1 }),
                            (dvs, View { off: hh * dvv, rs: vw, cs: 1 }),
                            Accumulate::Add,
                        );
                        // d(weights) = dout_h · v_hᵀ, then through the dropout mask.
                        small_mm(
                            (l, l, dvv),
                            (dos, View { off: hh * dvv, rs: vw, cs: 1 }),
                            (v, View { off: kv * l * h * dvv + hh * dvv, rs: 1, cs: vw }),
                            (&mut dp[..], flat(l)),
                            Accumulate::Overwrite,
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
                            (l, dkk, l),
                            (&dp[..], flat(l)),
                            (k, View { off: kv * l * h * dkk + hh * dkk, rs: qw, cs: 1 }),
                            (dqs, View { off: hh * dkk, rs: qw, cs: 1 }),
                            Accumulate::Overwrite,
                        );
                        small_mm(
                            (l, dkk, l),
                            (&dp[..], View { off: 0, rs: 1, cs: l as isize }),
                            (q, View { off: qo + hh * dkk, rs: qw, cs: 1 }),
                            (dks, View { off: hh * dkk, rs: qw, cs: 1 }),
                            Accumulate::Add,
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
