//! Inference passes of the ranker: the same layers as [`Ranker::forward`] without what training needs
//! (no caches for the backward pass, no dropout, buffers reused across batches), in two depths:
//!
//! - [`Ranker::infer_scores`]: encoder and accuracy head only, the ranking score. About a sixth of the
//!   whole model's arithmetic (the decoder runs every layer once per tier).
//! - [`Ranker::infer`]: the whole model, tier logits too.
//!
//! Every value is computed by the same kernels, in the same order, on the same rows as in
//! [`Ranker::forward`], so scores and logits are bit for bit the training pass's (tests assert it);
//! and none depends on the batch it was computed in (a batch of one runs as two rows).
//!
//! ```text
//! x [B,P,d_patch²] → src_prj → +pos → LN → 6 × (MHA, FFN) → enc_out [B,P,d] → val head → score [B]
//!                                                             └→ decoder (5 tiers) → tier head → logits [B,T]
//! ```

use super::model::{Ffn, LN_EPS, Lin, Ln, Mha, Ranker};
use super::ops::{self, Real};

/// Buffers of the inference passes, grown on first use and reused by later batches.
#[derive(Debug, Default)]
pub struct Workspace<T> {
    /// Encoder activations `[B·P, d]`.
    enc: Vec<T>,
    /// Decoder activations `[T·B·P, d]` (`[T·P, d]` before the first cross-attention).
    dec: Vec<T>,
    /// A sublayer's output before the residual and norm `[rows, d]`.
    out: Vec<T>,
    /// Queries, keys, values and the attention output `[rows, heads·dim]`.
    q: Vec<T>,
    k: Vec<T>,
    v: Vec<T>,
    att: Vec<T>,
    /// FFN hidden layer `[rows, d_ffn_inner]`.
    hidden: Vec<T>,
    /// Σ over tiers of the decoder output `[B, P·d]`.
    total: Vec<T>,
    /// Hidden layer of a head `[B, inner]`.
    head: Vec<T>,
}

impl<T> Workspace<T> {
    /// The encoder outputs `[b, P, d]` of the last pass over `b` architectures.
    pub fn encoding(&self, b: usize) -> &[T] {
        &self.enc[..self.enc.len() / b.max(2) * b]
    }
}

/// Resizes a buffer to `n` values without clearing it (every kernel below overwrites its output).
fn sized<T: Real>(v: &mut Vec<T>, n: usize) -> &mut [T] {
    v.resize(n, T::ZERO);
    &mut v[..n]
}

impl<T: Real> Ranker<T> {
    fn lin_into(&self, l: &Lin, x: &[T], rows: usize, y: &mut Vec<T>) {
        ops::linear_fwd(x, self.w(l), self.b(l), rows, l.n_in, l.n_out, sized(y, rows * l.n_out));
    }

    fn lin_relu_into(&self, l: &Lin, x: &[T], rows: usize, y: &mut Vec<T>) {
        ops::linear_relu_fwd(x, self.w(l), self.b(l), rows, l.n_in, l.n_out, sized(y, rows * l.n_out));
    }

    /// `x ← LN(x + res)`, sequence `i` of `x` adding sequence `i / q_div` of `res`.
    fn add_ln(&self, ln: &Ln, x: &mut [T], res: &[T], q_div: usize) {
        let (p, d) = (self.cfg.n_arch_patch, self.cfg.d_model);
        ops::add_layernorm(x, res, p * d, q_div, self.params.get(ln.g), self.params.get(ln.b), d, LN_EPS);
    }

    /// Projection, positions and norm of `seqs` input sequences (`x`: `[seqs·P, n_in]`) into `h`.
    fn embed_into(&self, lin: &Lin, ln: &Ln, x: &[T], seqs: usize, h: &mut Vec<T>) {
        let (p, d) = (self.cfg.n_arch_patch, self.cfg.d_model);
        self.lin_into(lin, x, seqs * p, h);
        let pos = &self.pos[..p * d];
        self.add_ln(ln, h, pos, seqs.max(1));
    }

    /// Multi-head attention, residual and norm, in place on the queries' input `h` (`n_in` sequences,
    /// broadcast `shape.q_div` times when `shape.n_out` is larger; `h` is then replaced by the
    /// `n_out` output sequences). `kv` is `None` for self-attention.
    fn mha_infer(&self, m: &Mha, h: &mut Vec<T>, kv: Option<&[T]>, shape: ops::AttnShape, ws: &mut Bufs<T>) {
        let d = self.cfg.d_model;
        let rows = shape.n_out * self.cfg.n_arch_patch;
        let q_rows = h.len() / d;
        self.lin_into(&m.q, h, q_rows, ws.q);
        let kv_x: &[T] = kv.unwrap_or(h);
        let kv_rows = kv_x.len() / d;
        self.lin_into(&m.k, kv_x, kv_rows, ws.k);
        self.lin_into(&m.v, kv_x, kv_rows, ws.v);
        ops::attention_infer(&shape, ws.q, ws.k, ws.v, sized(ws.att, rows * shape.heads * shape.dv));
        self.lin_into(&m.fc, ws.att, rows, ws.out);
        self.add_ln(&m.ln, ws.out, h, shape.q_div);
        std::mem::swap(h, ws.out);
    }

    /// Position-wise FFN, residual and norm, in place on `h`.
    fn ffn_infer(&self, f: &Ffn, h: &mut Vec<T>, ws: &mut Bufs<T>) {
        let rows = h.len() / self.cfg.d_model;
        self.lin_relu_into(&f.w1, h, rows, ws.hidden);
        self.lin_into(&f.w2, ws.hidden, rows, ws.out);
        self.add_ln(&f.ln, ws.out, h, 1);
        std::mem::swap(h, ws.out);
    }

    /// Encoder over `b` architectures (`x`: `[b, P, d_patch²]`); the output `[b, P, d]` is left in
    /// the workspace's encoder buffer.
    fn encode_infer(&self, x: &[T], b: usize, ws: &mut Workspace<T>) {
        let cfg = &self.cfg;
        assert_eq!(x.len(), b * cfg.n_arch_patch * cfg.d_patch * cfg.d_patch, "input shape");
        let x = &*self.prepare_input(x);
        let ids = &self.ids;
        let (enc, mut bufs) = ws.split_enc();
        self.embed_into(&ids.src_prj, &ids.enc_ln, x, b, enc);
        for (mha, ffn) in &ids.enc {
            self.mha_infer(mha, enc, None, self.attn_shape(b, 1, b), &mut bufs);
            self.ffn_infer(ffn, enc, &mut bufs);
        }
    }

    /// Encoder outputs `[b, P, d]` of `b` architectures (what the tier embeddings average).
    pub fn infer_encoding(&self, x: &[T], b: usize, ws: &mut Workspace<T>) -> Vec<T> {
        let (x, rows) = two_rows(x, b);
        self.encode_infer(&x, rows, ws);
        ws.encoding(b).to_vec()
    }

    /// Accuracy scores `[b]` of `b` architectures: encoder and accuracy head, no decoder.
    pub fn infer_scores(&self, x: &[T], b: usize, ws: &mut Workspace<T>) -> Vec<T> {
        let (x, rows) = two_rows(x, b);
        self.encode_infer(&x, rows, ws);
        let mut score = self.score_head(rows, ws);
        score.truncate(b);
        score
    }

    fn score_head(&self, b: usize, ws: &mut Workspace<T>) -> Vec<T> {
        let ids = &self.ids;
        self.lin_relu_into(&ids.val1, &ws.enc, b, &mut ws.head);
        let mut score = Vec::new();
        self.lin_into(&ids.val2, &ws.head, b, &mut score);
        score
    }

    /// Tier logits `[b, n_tier]` and accuracy scores `[b]` of `b` architectures with the tier
    /// embeddings `tiers` (`[n_tier, P, d]`): the whole model.
    pub fn infer(&self, x: &[T], b_out: usize, tiers: &[T], ws: &mut Workspace<T>) -> (Vec<T>, Vec<T>) {
        let cfg = &self.cfg;
        let (p, d, nt) = (cfg.n_arch_patch, cfg.d_model, cfg.n_tier);
        assert_eq!(tiers.len(), nt * p * d, "tier embedding shape");
        let ids = &self.ids;
        let (x, b) = two_rows(x, b_out);
        self.encode_infer(&x, b, ws);
        let mut score = self.score_head(b, ws);
        score.truncate(b_out);
        let (enc, dec, mut bufs) = ws.split_dec();
        // Decoder: the first layer's self-attention runs on the tier sequences alone, its
        // cross-attention broadcasts them over the architectures (tier-major: sequence t·B + b).
        self.embed_into(&ids.trg_prj, &ids.dec_ln, tiers, nt, dec);
        for (l, (slf, crs, ffn)) in ids.dec.iter().enumerate() {
            let seqs = if l == 0 { nt } else { nt * b };
            self.mha_infer(slf, dec, None, self.attn_shape(seqs, 1, seqs), &mut bufs);
            let q_div = if l == 0 { b } else { 1 };
            self.mha_infer(crs, dec, Some(enc), self.attn_shape(nt * b, q_div, b), &mut bufs);
            self.ffn_infer(ffn, dec, &mut bufs);
        }
        let seq = p * d;
        let total = sized(&mut ws.total, b * seq);
        total.fill(T::ZERO);
        for (bi, dst) in total.chunks_mut(seq).enumerate() {
            for t in 0..nt {
                dst.iter_mut().zip(&ws.dec[(t * b + bi) * seq..][..seq]).for_each(|(a, v)| *a += *v);
            }
        }
        self.lin_relu_into(&ids.tier1, &ws.total, b, &mut ws.head);
        let mut logits = Vec::new();
        self.lin_into(&ids.tier2, &ws.head, b, &mut logits);
        if cfg.scale_prj {
            let s = T::from_f64((d as f64).powf(-0.5));
            logits.iter_mut().for_each(|v| *v *= s);
        }
        logits.truncate(b_out * nt);
        (logits, score)
    }
}

/// A batch of one architecture runs as two copies of it: the matrix kernels take another path for a
/// single row, whose sums can differ in the last bit, and a score must not depend on its batch.
fn two_rows<T: Real>(x: &[T], b: usize) -> (std::borrow::Cow<'_, [T]>, usize) {
    if b == 1 { ([x, x].concat().into(), 2) } else { (x.into(), b) }
}

/// The scratch buffers a sublayer borrows while an activation buffer is borrowed beside them.
struct Bufs<'a, T> {
    out: &'a mut Vec<T>,
    q: &'a mut Vec<T>,
    k: &'a mut Vec<T>,
    v: &'a mut Vec<T>,
    att: &'a mut Vec<T>,
    hidden: &'a mut Vec<T>,
}

impl<T> Workspace<T> {
    fn split_enc(&mut self) -> (&mut Vec<T>, Bufs<'_, T>) {
        let Workspace { enc, out, q, k, v, att, hidden, .. } = self;
        (enc, Bufs { out, q, k, v, att, hidden })
    }

    fn split_dec(&mut self) -> (&[T], &mut Vec<T>, Bufs<'_, T>) {
        let Workspace { enc, dec, out, q, k, v, att, hidden, .. } = self;
        (enc, dec, Bufs { out, q, k, v, att, hidden })
    }
}
