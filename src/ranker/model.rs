//! The NAR ranker (`docs/design.md` §5), layer by layer with explicit forward and backward passes.
//!
//! ```text
//! patches [B,P,din] → Linear → dropout → +pos → LN → 6 × (MHA, FFN) ─┬→ enc_out [B,P,d] → val head → score
//! tier embeddings [T,P,d] → Linear → dropout → +pos → LN             │
//!   → layer 1: self-attn over the T tier sequences (once per tier),  │
//!              cross-attn: tier queries × each architecture's keys ←─┘ (→ [T·B,P,d], per tier and arch)
//!   → layers 2..6: self-attn, cross-attn (keys/values once per layer, shared by the tiers), FFN
//!   → Σ over tiers → flatten → Linear(no bias) → ReLU → Linear → × d^-0.5 → tier logits
//! ```
//! MHA and FFN are post-norm with residuals, as in the reference; dropout sits on the projected inputs,
//! the attention probabilities, the attention output and the FFN output.

use rayon::prelude::*;

use super::config::ModelConfig;
use super::ops::{self, Accumulate, AttnGrads, AttnSaved, AttnShape, Dropout, LinearGrads, LinearShape, Real};
use super::params::{Init, Params};

pub(super) const LN_EPS: f64 = 1e-6;

#[derive(Clone, Copy, Debug)]
pub(super) struct Lin {
    pub(super) w: usize,
    pub(super) b: Option<usize>,
    pub(super) n_in: usize,
    pub(super) n_out: usize,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Ln {
    pub(super) g: usize,
    pub(super) b: usize,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Mha {
    pub(super) q: Lin,
    pub(super) k: Lin,
    pub(super) v: Lin,
    pub(super) fc: Lin,
    pub(super) ln: Ln,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Ffn {
    pub(super) w1: Lin,
    pub(super) w2: Lin,
    pub(super) ln: Ln,
}

#[derive(Clone, Debug)]
pub(super) struct Ids {
    pub(super) src_prj: Lin,
    pub(super) trg_prj: Lin,
    pub(super) enc_ln: Ln,
    pub(super) enc: Vec<(Mha, Ffn)>,
    pub(super) dec_ln: Ln,
    pub(super) dec: Vec<(Mha, Mha, Ffn)>,
    pub(super) tier1: Lin,
    pub(super) tier2: Lin,
    pub(super) val1: Lin,
    pub(super) val2: Lin,
}

/// The ranker: configuration, parameters (PyTorch names and shapes) and the positional table.
#[derive(Clone, Debug)]
pub struct Ranker<T: Real> {
    pub cfg: ModelConfig,
    pub params: Params<T>,
    pub(super) ids: Ids,
    /// Sinusoidal positions `[n_position, d]` (a buffer, not trained).
    pub pos: Vec<T>,
}

/// What a forward pass returns.
#[derive(Clone, Debug)]
pub struct Output<T> {
    /// Tier logits `[B, n_tier]`.
    pub logits: Vec<T>,
    /// Predicted accuracy (ranking score) `[B]`.
    pub score: Vec<T>,
    /// Encoder output `[B, P, d]` (tier embeddings are running means of it).
    pub enc_out: Vec<T>,
}

#[derive(Clone, Debug, Default)]
struct LnCache<T> {
    xhat: Vec<T>,
    rstd: Vec<T>,
}

#[derive(Clone, Debug, Default)]
struct MhaCache<T> {
    q: Vec<T>,
    k: Vec<T>,
    v: Vec<T>,
    probs: Vec<T>,
    ln: LnCache<T>,
}

#[derive(Clone, Debug, Default)]
struct FfnCache<T> {
    a: Vec<T>,
    ln: LnCache<T>,
}

/// Everything the backward pass needs from a forward pass.
#[derive(Clone, Debug, Default)]
pub struct Cache<T> {
    b: usize,
    drop: Option<Dropout>,
    src: Vec<T>,
    tiers: Vec<T>,
    enc0: LnCache<T>,
    enc: Vec<(MhaCache<T>, FfnCache<T>)>,
    enc_out: Vec<T>,
    val_h: Vec<T>,
    dec0: LnCache<T>,
    dec: Vec<(MhaCache<T>, MhaCache<T>, FfnCache<T>)>,
    total: Vec<T>,
    tier_h: Vec<T>,
}

/// Dropout tensor ids (with the step's seed they fix every mask).
mod tid {
    pub const ENC_IN: u64 = 1;
    pub const DEC_IN: u64 = 2;
    pub fn enc(layer: usize) -> u64 {
        100 + 10 * layer as u64
    }
    pub fn dec_self(layer: usize) -> u64 {
        1000 + 10 * layer as u64
    }
    pub fn dec_cross(layer: usize) -> u64 {
        2000 + 10 * layer as u64
    }
    pub fn dec_ffn(layer: usize) -> u64 {
        3000 + 10 * layer as u64
    }
    /// Offsets within a sublayer: attention probabilities, attention output, FFN output.
    pub const PROBS: u64 = 0;
    pub const ATTN_OUT: u64 = 1;
    pub const FFN_OUT: u64 = 2;
}

/// The sinusoid table of the reference: angle(pos, j) = pos / 10000^(2⌊j/2⌋/d); sin on even j, cos on odd.
pub fn sinusoid_table(n_position: usize, d: usize) -> Vec<f64> {
    let mut t = vec![0.0; n_position * d];
    for pos in 0..n_position {
        for j in 0..d {
            let angle = pos as f64 / 10000f64.powf(2.0 * (j / 2) as f64 / d as f64);
            t[pos * d + j] = if j % 2 == 0 { angle.sin() } else { angle.cos() };
        }
    }
    t
}

impl<T: Real> Ranker<T> {
    /// A freshly initialised ranker: Xavier-uniform matrices, PyTorch's default biases, LN at (1, 0).
    pub fn new(cfg: &ModelConfig, seed: u64) -> Ranker<T> {
        let mut p = Params::new();
        let d = cfg.d_model;
        let din = cfg.d_patch * cfg.d_patch;
        let hk = cfg.n_head * cfg.d_k;
        let hv = cfg.n_head * cfg.d_v;
        let lin = |p: &mut Params<T>, name: &str, n_in: usize, n_out: usize, bias: bool| Lin {
            w: p.add(&format!("{name}.weight"), &[n_out, n_in], Init::Xavier),
            b: bias.then(|| p.add(&format!("{name}.bias"), &[n_out], Init::Bias { fan_in: n_in })),
            n_in,
            n_out,
        };
        let ln = |p: &mut Params<T>, name: &str| Ln {
            g: p.add(&format!("{name}.weight"), &[d], Init::Ones),
            b: p.add(&format!("{name}.bias"), &[d], Init::Zeros),
        };
        let mha = |p: &mut Params<T>, name: &str| Mha {
            q: lin(p, &format!("{name}.w_qs"), d, hk, false),
            k: lin(p, &format!("{name}.w_ks"), d, hk, false),
            v: lin(p, &format!("{name}.w_vs"), d, hv, false),
            fc: lin(p, &format!("{name}.fc"), hv, d, false),
            ln: ln(p, &format!("{name}.layer_norm")),
        };
        let ffn = |p: &mut Params<T>, name: &str| Ffn {
            w1: lin(p, &format!("{name}.w_1"), d, cfg.d_ffn_inner, true),
            w2: lin(p, &format!("{name}.w_2"), cfg.d_ffn_inner, d, true),
            ln: ln(p, &format!("{name}.layer_norm")),
        };
        // Registration order = PyTorch's state_dict order.
        let src_prj = lin(&mut p, "src_prj", din, d, true);
        let trg_prj = lin(&mut p, "trg_prj", d, d, true);
        let enc: Vec<(Mha, Ffn)> = (0..cfg.n_layers)
            .map(|l| {
                (
                    mha(&mut p, &format!("encoder.layer_stack.{l}.slf_attn")),
                    ffn(&mut p, &format!("encoder.layer_stack.{l}.pos_ffn")),
                )
            })
            .collect();
        let enc_ln = ln(&mut p, "encoder.layer_norm");
        let dec: Vec<(Mha, Mha, Ffn)> = (0..cfg.n_layers)
            .map(|l| {
                (
                    mha(&mut p, &format!("decoder.layer_stack.{l}.slf_attn")),
                    mha(&mut p, &format!("decoder.layer_stack.{l}.enc_attn")),
                    ffn(&mut p, &format!("decoder.layer_stack.{l}.pos_ffn")),
                )
            })
            .collect();
        let dec_ln = ln(&mut p, "decoder.layer_norm");
        let flat = cfg.n_arch_patch * d;
        let tier1 = lin(&mut p, "tier_prj.0", flat, cfg.d_tier_prj_inner, false);
        let tier2 = lin(&mut p, "tier_prj.2", cfg.d_tier_prj_inner, cfg.n_tier, true);
        let val1 = lin(&mut p, "val_acc_prj.0", flat, cfg.d_val_acc_prj_inner, true);
        let val2 = lin(&mut p, "val_acc_prj.2", cfg.d_val_acc_prj_inner, 1, true);
        p.initialise(seed);
        let pos = sinusoid_table(cfg.n_position, d).into_iter().map(|v| T::from_f64(v as f32 as f64)).collect();
        let ids = Ids { src_prj, trg_prj, enc_ln, enc, dec_ln, dec, tier1, tier2, val1, val2 };
        Ranker { cfg: cfg.clone(), params: p, ids, pos }
    }

    pub(super) fn w(&self, l: &Lin) -> &[T] {
        self.params.get(l.w)
    }
    pub(super) fn b(&self, l: &Lin) -> Option<&[T]> {
        l.b.map(|b| self.params.get(b))
    }

    fn linear(&self, l: &Lin, x: &[T], rows: usize) -> Vec<T> {
        let mut y = vec![T::ZERO; rows * l.n_out];
        ops::linear_fwd(x, self.w(l), self.b(l), rows, l.n_in, l.n_out, &mut y);
        y
    }

    fn linear_relu(&self, l: &Lin, x: &[T], rows: usize) -> Vec<T> {
        let mut y = vec![T::ZERO; rows * l.n_out];
        ops::linear_relu_fwd(x, self.w(l), self.b(l), rows, l.n_in, l.n_out, &mut y);
        y
    }

    fn layernorm(&self, ln: &Ln, x: &[T], rows: usize) -> (Vec<T>, LnCache<T>) {
        let d = self.cfg.d_model;
        let mut y = vec![T::ZERO; rows * d];
        let mut c = LnCache { xhat: vec![T::ZERO; rows * d], rstd: vec![T::ZERO; rows] };
        ops::layernorm_fwd(
            x,
            self.params.get(ln.g),
            self.params.get(ln.b),
            d,
            LN_EPS,
            &mut y,
            &mut c.xhat,
            &mut c.rstd,
        );
        (y, c)
    }

    fn ln_output(&self, ln: &Ln, c: &LnCache<T>) -> Vec<T> {
        let mut y = vec![T::ZERO; c.xhat.len()];
        ops::layernorm_apply(&c.xhat, self.params.get(ln.g), self.params.get(ln.b), self.cfg.d_model, &mut y);
        y
    }

    pub(super) fn attn_shape(&self, n_out: usize, q_div: usize, kv_mod: usize) -> AttnShape {
        let c = &self.cfg;
        AttnShape { len: c.n_arch_patch, heads: c.n_head, dk: c.d_k, dv: c.d_v, n_out, q_div, kv_mod }
    }

    /// Multi-head attention + dropout + residual (queries' input, broadcast per `shape.q_div`) + LN.
    /// `kv_in = None` means self-attention.
    #[allow(clippy::too_many_arguments)]
    fn mha_fwd(
        &self,
        m: &Mha,
        q_in: &[T],
        kv_in: Option<&[T]>,
        shape: AttnShape,
        drop: Option<Dropout>,
        tensor: u64,
    ) -> (Vec<T>, MhaCache<T>) {
        let p = self.cfg.n_arch_patch;
        let d = self.cfg.d_model;
        let q = self.linear(&m.q, q_in, q_in.len() / d);
        let kv_x = kv_in.unwrap_or(q_in);
        let (k, v) = (self.linear(&m.k, kv_x, kv_x.len() / d), self.linear(&m.v, kv_x, kv_x.len() / d));
        let rows = shape.n_out * p;
        let mut probs = vec![T::ZERO; shape.n_out * shape.heads * p * p];
        let mut ao = vec![T::ZERO; rows * shape.heads * shape.dv];
        ops::attention_fwd(&shape, &q, &k, &v, &mut probs, &mut ao, drop.map(|dr| (dr, tensor + tid::PROBS)));
        let mut r = self.linear(&m.fc, &ao, rows);
        if let Some(dr) = drop {
            dr.apply(tensor + tid::ATTN_OUT, &mut r);
        }
        let seq = p * d;
        r.par_chunks_mut(seq).enumerate().for_each(|(i, rs)| {
            let src = &q_in[(i / shape.q_div) * seq..][..seq];
            rs.iter_mut().zip(src).for_each(|(a, b)| *a += *b);
        });
        let (y, ln) = self.layernorm(&m.ln, &r, rows);
        drop_vec(ao); // recomputed from probs and v in the backward pass
        (y, MhaCache { q, k, v, probs, ln })
    }

    /// Backward of [`Ranker::mha_fwd`]. Adds the gradient of the queries' input to `dq_in` and, for
    /// cross-attention, of the keys/values' input to `dkv_in` (self-attention adds both to `dq_in`).
    #[allow(clippy::too_many_arguments)]
    fn mha_bwd(
        &self,
        m: &Mha,
        c: &MhaCache<T>,
        q_in: &[T],
        kv_in: Option<&[T]>,
        shape: AttnShape,
        drop: Option<Dropout>,
        tensor: u64,
        dy: &[T],
        g: &mut [T],
        dq_in: &mut [T],
        dkv_in: Option<&mut [T]>,
    ) {
        let p = self.cfg.n_arch_patch;
        let d = self.cfg.d_model;
        let rows = shape.n_out * p;
        let mut dr = vec![T::ZERO; rows * d];
        {
            let (dg, db) = self.params.grad_pair(g, m.ln.g, m.ln.b);
            ops::layernorm_bwd(dy, &c.ln.xhat, &c.ln.rstd, self.params.get(m.ln.g), d, dg, db, &mut dr);
        }
        // Residual to the queries' input (summed over broadcast copies in order).
        let seq = p * d;
        if shape.q_div == 1 {
            dq_in.par_iter_mut().zip(&dr).for_each(|(a, b)| *a += *b);
        } else {
            dq_in.par_chunks_mut(seq).enumerate().for_each(|(qs, dst)| {
                for i in qs * shape.q_div..(qs + 1) * shape.q_div {
                    dst.iter_mut().zip(&dr[i * seq..][..seq]).for_each(|(a, b)| *a += *b);
                }
            });
        }
        if let Some(dr_) = drop {
            dr_.apply(tensor + tid::ATTN_OUT, &mut dr);
        }
        let mut dao = vec![T::ZERO; rows * shape.heads * shape.dv];
        let mut ao = vec![T::ZERO; rows * shape.heads * shape.dv];
        ops::attention_values(&shape, &c.v, &c.probs, &mut ao, drop.map(|dr_| (dr_, tensor + tid::PROBS)));
        ops::linear_bwd(
            &ao,
            self.w(&m.fc),
            &dr,
            LinearShape { rows, n_in: m.fc.n_in, n_out: m.fc.n_out },
            LinearGrads { dw: self.params.grad_mut(g, m.fc.w), db: None, dx: Some((&mut dao, Accumulate::Overwrite)) },
        );
        drop_vec(dr);
        drop_vec(ao);
        let q_rows = q_in.len() / d;
        let kv_rows = c.k.len() / (shape.heads * shape.dk);
        let mut dq_out = vec![T::ZERO; rows * shape.heads * shape.dk];
        let mut dk = vec![T::ZERO; kv_rows * shape.heads * shape.dk];
        let mut dv = vec![T::ZERO; kv_rows * shape.heads * shape.dv];
        ops::attention_bwd(
            &shape,
            AttnSaved { q: &c.q, k: &c.k, v: &c.v, probs: &c.probs },
            &dao,
            AttnGrads { dq: &mut dq_out, dk: &mut dk, dv: &mut dv },
            drop.map(|dr_| (dr_, tensor + tid::PROBS)),
        );
        drop_vec(dao);
        let dq = if shape.q_div == 1 {
            dq_out
        } else {
            let w = p * shape.heads * shape.dk;
            let mut dq = vec![T::ZERO; q_rows * shape.heads * shape.dk];
            dq.par_chunks_mut(w).enumerate().for_each(|(qs, dst)| {
                for i in qs * shape.q_div..(qs + 1) * shape.q_div {
                    dst.iter_mut().zip(&dq_out[i * w..][..w]).for_each(|(a, b)| *a += *b);
                }
            });
            dq
        };
        ops::linear_bwd(
            q_in,
            self.w(&m.q),
            &dq,
            LinearShape { rows: q_rows, n_in: d, n_out: m.q.n_out },
            LinearGrads { dw: self.params.grad_mut(g, m.q.w), db: None, dx: Some((dq_in, Accumulate::Add)) },
        );
        let (kv_x, dkv) = match (kv_in, dkv_in) {
            (Some(x), Some(dx)) => (x, dx),
            _ => (q_in, dq_in),
        };
        ops::linear_bwd(
            kv_x,
            self.w(&m.k),
            &dk,
            LinearShape { rows: kv_rows, n_in: d, n_out: m.k.n_out },
            LinearGrads { dw: self.params.grad_mut(g, m.k.w), db: None, dx: Some((&mut *dkv, Accumulate::Add)) },
        );
        ops::linear_bwd(
            kv_x,
            self.w(&m.v),
            &dv,
            LinearShape { rows: kv_rows, n_in: d, n_out: m.v.n_out },
            LinearGrads { dw: self.params.grad_mut(g, m.v.w), db: None, dx: Some((dkv, Accumulate::Add)) },
        );
    }

    fn ffn_fwd(&self, f: &Ffn, x: &[T], drop: Option<Dropout>, tensor: u64) -> (Vec<T>, FfnCache<T>) {
        let rows = x.len() / self.cfg.d_model;
        let a = self.linear_relu(&f.w1, x, rows);
        let mut r = self.linear(&f.w2, &a, rows);
        if let Some(dr) = drop {
            dr.apply(tensor + tid::FFN_OUT, &mut r);
        }
        r.par_iter_mut().zip(x).for_each(|(a, b)| *a += *b);
        let (y, ln) = self.layernorm(&f.ln, &r, rows);
        (y, FfnCache { a, ln })
    }

    #[allow(clippy::too_many_arguments)]
    fn ffn_bwd(
        &self,
        f: &Ffn,
        c: &FfnCache<T>,
        x: &[T],
        drop: Option<Dropout>,
        tensor: u64,
        dy: &[T],
        g: &mut [T],
        dx: &mut [T],
    ) {
        let d = self.cfg.d_model;
        let rows = x.len() / d;
        let mut dr = vec![T::ZERO; rows * d];
        {
            let (dg, db) = self.params.grad_pair(g, f.ln.g, f.ln.b);
            ops::layernorm_bwd(dy, &c.ln.xhat, &c.ln.rstd, self.params.get(f.ln.g), d, dg, db, &mut dr);
        }
        dx.par_iter_mut().zip(&dr).for_each(|(a, b)| *a += *b);
        if let Some(dr_) = drop {
            dr_.apply(tensor + tid::FFN_OUT, &mut dr);
        }
        let mut da = vec![T::ZERO; rows * f.w1.n_out];
        {
            let (dw, db) = self.params.grad_pair(g, f.w2.w, f.w2.b.expect("bias"));
            ops::linear_bwd(
                &c.a,
                self.w(&f.w2),
                &dr,
                LinearShape { rows, n_in: f.w2.n_in, n_out: f.w2.n_out },
                LinearGrads { dw, db: Some(db), dx: Some((&mut da, Accumulate::Overwrite)) },
            );
        }
        drop_vec(dr);
        ops::relu_bwd(&c.a, &mut da);
        let (dw, db) = self.params.grad_pair(g, f.w1.w, f.w1.b.expect("bias"));
        ops::linear_bwd(
            x,
            self.w(&f.w1),
            &da,
            LinearShape { rows, n_in: f.w1.n_in, n_out: f.w1.n_out },
            LinearGrads { dw, db: Some(db), dx: Some((dx, Accumulate::Add)) },
        );
    }

    /// Projects an input, applies dropout, adds positions and normalises: the start of both stacks.
    fn embed(
        &self,
        lin: &Lin,
        ln: &Ln,
        x: &[T],
        seqs: usize,
        drop: Option<Dropout>,
        tensor: u64,
    ) -> (Vec<T>, LnCache<T>) {
        let p = self.cfg.n_arch_patch;
        let d = self.cfg.d_model;
        let mut e = self.linear(lin, x, seqs * p);
        if let Some(dr) = drop {
            dr.apply(tensor, &mut e);
        }
        let pos = &self.pos[..p * d];
        e.par_chunks_mut(p * d).for_each(|s| s.iter_mut().zip(pos).for_each(|(a, b)| *a += *b));
        self.layernorm(ln, &e, seqs * p)
    }

    /// The model's fixed input transform ([`ModelConfig::log_cost_inputs`]): `x` itself, or `x` with every
    /// patch but the first (the op codes) mapped to ln(1 + x).
    pub fn prepare_input<'a>(&self, x: &'a [T]) -> std::borrow::Cow<'a, [T]> {
        if !self.cfg.log_cost_inputs {
            return x.into();
        }
        let (p, patch) = (self.cfg.n_arch_patch, self.cfg.d_patch * self.cfg.d_patch);
        let mut y = x.to_vec();
        y.par_chunks_mut(p * patch).for_each(|arch| {
            arch[patch..].iter_mut().for_each(|v| *v = T::from_f64(v.to_f64().ln_1p()));
        });
        y.into()
    }

    /// Forward pass over `b` architectures (`x`: `[b, P, d_patch²]`) with the tier embeddings
    /// `tiers` (`[n_tier, P, d]`). `drop` is `Some` in training.
    pub fn forward(&self, x: &[T], b: usize, tiers: &[T], drop: Option<Dropout>) -> (Output<T>, Cache<T>) {
        let cfg = &self.cfg;
        let (p, d, nt) = (cfg.n_arch_patch, cfg.d_model, cfg.n_tier);
        assert_eq!(x.len(), b * p * cfg.d_patch * cfg.d_patch, "input shape");
        let x = &*self.prepare_input(x);
        assert_eq!(tiers.len(), nt * p * d, "tier embedding shape");
        let ids = &self.ids;
        let mut cache = Cache { b, drop, src: x.to_vec(), tiers: tiers.to_vec(), ..Default::default() };

        // Encoder.
        let (mut h, c0) = self.embed(&ids.src_prj, &ids.enc_ln, x, b, drop, tid::ENC_IN);
        cache.enc0 = c0;
        for (l, (mha, ffn)) in ids.enc.iter().enumerate() {
            let (y, cm) = self.mha_fwd(mha, &h, None, self.attn_shape(b, 1, b), drop, tid::enc(l));
            let (y2, cf) = self.ffn_fwd(ffn, &y, drop, tid::enc(l));
            cache.enc.push((cm, cf));
            h = y2;
        }
        let enc_out = h;

        // Accuracy head.
        let val_h = self.linear_relu(&ids.val1, &enc_out, b);
        let score = self.linear(&ids.val2, &val_h, b);
        cache.val_h = val_h;

        // Decoder: the first layer's self-attention runs on the tier sequences alone.
        let (t0, c0) = self.embed(&ids.trg_prj, &ids.dec_ln, tiers, nt, drop, tid::DEC_IN);
        cache.dec0 = c0;
        let mut h = t0;
        for (l, (slf, crs, ffn)) in ids.dec.iter().enumerate() {
            let seqs = if l == 0 { nt } else { nt * b };
            let (y1, cs) = self.mha_fwd(slf, &h, None, self.attn_shape(seqs, 1, seqs), drop, tid::dec_self(l));
            let q_div = if l == 0 { b } else { 1 };
            let (y2, cc) =
                self.mha_fwd(crs, &y1, Some(&enc_out), self.attn_shape(nt * b, q_div, b), drop, tid::dec_cross(l));
            let (y3, cf) = self.ffn_fwd(ffn, &y2, drop, tid::dec_ffn(l));
            cache.dec.push((cs, cc, cf));
            h = y3;
        }
        // Σ over tiers (tier-major rows: sequence t·B + b).
        let seq = p * d;
        let mut total = vec![T::ZERO; b * seq];
        total.par_chunks_mut(seq).enumerate().for_each(|(bi, dst)| {
            for t in 0..nt {
                dst.iter_mut().zip(&h[(t * b + bi) * seq..][..seq]).for_each(|(a, v)| *a += *v);
            }
        });
        let tier_h = self.linear_relu(&ids.tier1, &total, b);
        let mut logits = self.linear(&ids.tier2, &tier_h, b);
        if cfg.scale_prj {
            let s = T::from_f64((d as f64).powf(-0.5));
            logits.iter_mut().for_each(|v| *v *= s);
        }
        cache.total = total;
        cache.tier_h = tier_h;
        cache.enc_out = enc_out.clone();
        (Output { logits, score: score.clone(), enc_out }, cache)
    }

    /// Backward pass: accumulates into `g` (one value per parameter, [`Params`] layout) the gradients
    /// of a loss whose gradients with respect to the logits and scores are `dlogits` and `dscore`.
    pub fn backward(&self, c: &Cache<T>, dlogits: &[T], dscore: &[T], g: &mut [T]) {
        let cfg = &self.cfg;
        let (p, d, nt, b) = (cfg.n_arch_patch, cfg.d_model, cfg.n_tier, c.b);
        let ids = &self.ids;
        let drop = c.drop;
        let seq = p * d;

        // Tier head.
        let mut dl = dlogits.to_vec();
        if cfg.scale_prj {
            let s = T::from_f64((d as f64).powf(-0.5));
            dl.iter_mut().for_each(|v| *v *= s);
        }
        let mut dh = vec![T::ZERO; b * ids.tier1.n_out];
        {
            let (dw, db) = self.params.grad_pair(g, ids.tier2.w, ids.tier2.b.expect("bias"));
            ops::linear_bwd(
                &c.tier_h,
                self.w(&ids.tier2),
                &dl,
                LinearShape { rows: b, n_in: ids.tier2.n_in, n_out: ids.tier2.n_out },
                LinearGrads { dw, db: Some(db), dx: Some((&mut dh, Accumulate::Overwrite)) },
            );
        }
        ops::relu_bwd(&c.tier_h, &mut dh);
        let mut dtotal = vec![T::ZERO; b * seq];
        ops::linear_bwd(
            &c.total,
            self.w(&ids.tier1),
            &dh,
            LinearShape { rows: b, n_in: ids.tier1.n_in, n_out: ids.tier1.n_out },
            LinearGrads {
                dw: self.params.grad_mut(g, ids.tier1.w),
                db: None,
                dx: Some((&mut dtotal, Accumulate::Overwrite)),
            },
        );

        // Decoder, top down. d(out of the last layer)[t·B + b] = dtotal[b].
        let mut dh_dec = vec![T::ZERO; nt * b * seq];
        dh_dec
            .par_chunks_mut(seq)
            .enumerate()
            .for_each(|(i, dst)| dst.copy_from_slice(&dtotal[(i % b) * seq..][..seq]));
        drop_vec(dtotal);
        let mut d_enc = vec![T::ZERO; b * seq];
        let enc_out = &c.enc_out;
        for l in (0..ids.dec.len()).rev() {
            let (slf, crs, ffn) = &ids.dec[l];
            let (cs, cc, cf) = &c.dec[l];
            // Inputs of the three sublayers, recomputed from the kept normalised values.
            let x_self = if l == 0 {
                self.ln_output(&ids.dec_ln, &c.dec0)
            } else {
                self.ln_output(&ids.dec[l - 1].2.ln, &c.dec[l - 1].2.ln)
            };
            let y1 = self.ln_output(&slf.ln, &cs.ln);
            let y2 = self.ln_output(&crs.ln, &cc.ln);
            let mut dy2 = vec![T::ZERO; y2.len()];
            self.ffn_bwd(ffn, cf, &y2, drop, tid::dec_ffn(l), &dh_dec, g, &mut dy2);
            drop_vec(y2);
            let seqs = if l == 0 { nt } else { nt * b };
            let q_div = if l == 0 { b } else { 1 };
            let mut dy1 = vec![T::ZERO; y1.len()];
            self.mha_bwd(
                crs,
                cc,
                &y1,
                Some(enc_out),
                self.attn_shape(nt * b, q_div, b),
                drop,
                tid::dec_cross(l),
                &dy2,
                g,
                &mut dy1,
                Some(&mut d_enc),
            );
            drop_vec(dy2);
            drop_vec(y1);
            let mut dx = vec![T::ZERO; x_self.len()];
            self.mha_bwd(
                slf,
                cs,
                &x_self,
                None,
                self.attn_shape(seqs, 1, seqs),
                drop,
                tid::dec_self(l),
                &dy1,
                g,
                &mut dx,
                None,
            );
            dh_dec = dx;
        }
        // Decoder input: LN → (+pos) → dropout → trg_prj.
        self.embed_bwd(&ids.trg_prj, &ids.dec_ln, &c.dec0, &c.tiers, nt, drop, tid::DEC_IN, dh_dec, g);

        // Accuracy head into the encoder output.
        let mut dvh = vec![T::ZERO; b * ids.val1.n_out];
        {
            let (dw, db) = self.params.grad_pair(g, ids.val2.w, ids.val2.b.expect("bias"));
            ops::linear_bwd(
                &c.val_h,
                self.w(&ids.val2),
                dscore,
                LinearShape { rows: b, n_in: ids.val2.n_in, n_out: 1 },
                LinearGrads { dw, db: Some(db), dx: Some((&mut dvh, Accumulate::Overwrite)) },
            );
        }
        ops::relu_bwd(&c.val_h, &mut dvh);
        {
            let (dw, db) = self.params.grad_pair(g, ids.val1.w, ids.val1.b.expect("bias"));
            ops::linear_bwd(
                enc_out,
                self.w(&ids.val1),
                &dvh,
                LinearShape { rows: b, n_in: ids.val1.n_in, n_out: ids.val1.n_out },
                LinearGrads { dw, db: Some(db), dx: Some((&mut d_enc, Accumulate::Add)) },
            );
        }

        // Encoder, top down.
        let mut dh = d_enc;
        for l in (0..ids.enc.len()).rev() {
            let (mha, ffn) = &ids.enc[l];
            let (cm, cf) = &c.enc[l];
            let x = if l == 0 {
                self.ln_output(&ids.enc_ln, &c.enc0)
            } else {
                self.ln_output(&ids.enc[l - 1].1.ln, &c.enc[l - 1].1.ln)
            };
            let y = self.ln_output(&mha.ln, &cm.ln);
            let mut dy = vec![T::ZERO; y.len()];
            self.ffn_bwd(ffn, cf, &y, drop, tid::enc(l), &dh, g, &mut dy);
            let mut dx = vec![T::ZERO; x.len()];
            self.mha_bwd(mha, cm, &x, None, self.attn_shape(b, 1, b), drop, tid::enc(l), &dy, g, &mut dx, None);
            dh = dx;
        }
        self.embed_bwd(&ids.src_prj, &ids.enc_ln, &c.enc0, &c.src, b, drop, tid::ENC_IN, dh, g);
    }

    #[allow(clippy::too_many_arguments)]
    fn embed_bwd(
        &self,
        lin: &Lin,
        ln: &Ln,
        lc: &LnCache<T>,
        x: &[T],
        seqs: usize,
        drop: Option<Dropout>,
        tensor: u64,
        dy: Vec<T>,
        g: &mut [T],
    ) {
        let d = self.cfg.d_model;
        let rows = seqs * self.cfg.n_arch_patch;
        let mut de = vec![T::ZERO; rows * d];
        {
            let (dg, db) = self.params.grad_pair(g, ln.g, ln.b);
            ops::layernorm_bwd(&dy, &lc.xhat, &lc.rstd, self.params.get(ln.g), d, dg, db, &mut de);
        }
        if let Some(dr) = drop {
            dr.apply(tensor, &mut de);
        }
        let (dw, db) = self.params.grad_pair(g, lin.w, lin.b.expect("bias"));
        ops::linear_bwd(
            x,
            self.w(lin),
            &de,
            LinearShape { rows, n_in: lin.n_in, n_out: lin.n_out },
            LinearGrads { dw, db: Some(db), dx: None },
        );
    }
}

fn drop_vec<T>(v: Vec<T>) {
    drop(v);
}
