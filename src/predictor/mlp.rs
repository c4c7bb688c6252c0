//! A small ranking network (`model: mlp`): a multi-layer perceptron on any feature sets, trained with
//! RankNet's pairwise loss (Burges et al. 2005) — the ranking objective that lifts PINAT and NN-Former
//! where labels are scarce — or a squared loss on the normalised rank, for the ablation.
//!
//! - Inputs: every column as `sign(x)·ln(1 + |x|)` (the cost columns span six decades), standardised
//!   by the labelled rows' mean and deviation (a constant column is left at 0).
//! - Network: `layers` hidden layers of `hidden` units with ReLU, then one linear output, the score.
//!   Weights and biases start as PyTorch's `nn.Linear` does, uniform in ±1/√fan_in, drawn from the seed.
//! - Pairwise loss: over the pairs (i, j) of labelled architectures with acc_i > acc_j, mean
//!   softplus(s_j − s_i); ties give no pair. Every pair when each architecture has at most `partners`
//!   others; else the pairs {i, i ± o} (indices taken in a random order, modulo n) for `partners`/2
//!   distinct offsets o drawn once from the seed — every architecture then meets `partners` others. Squared loss: mean (s_i − r_i)², r the standardised
//!   normalised rank ([`super::rank_target`]).
//! - Full-batch AdamW (β 0.9/0.999, ε 1e-8, decoupled weight decay as `torch.optim.AdamW`) for `epochs`
//!   steps. Products go through `gemm` (`crate::ranker::ops::matmul`) and the pair sums run one row per
//!   task in a fixed order, so a fit is the same at any thread count. Scoring runs row by row in a
//!   fixed order, so an architecture's score does not depend on the batch it is scored in.
//!
//! Shapes: X [n, d] → H₁ [n, h] → … → H_L [n, h] → s [n].

use anyhow::{Result, bail};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::features::Table;
use crate::ranker::ops::{Accumulate, Trans, matmul};
use crate::rng::Rng;

/// The `mlp:` block of a configuration (used when `model: mlp`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Units per hidden layer.
    #[serde(default = "hidden")]
    pub hidden: usize,
    /// Hidden layers.
    #[serde(default = "layers")]
    pub layers: usize,
    /// Full-batch steps.
    #[serde(default = "epochs")]
    pub epochs: usize,
    #[serde(default = "learning_rate")]
    pub learning_rate: f64,
    #[serde(default = "weight_decay")]
    pub weight_decay: f64,
    #[serde(default)]
    pub loss: MlpLoss,
    /// The pairwise loss compares each architecture with at most this many others (all of them when
    /// there are fewer): a fixed random circulant set of pairs, drawn from the seed, keeps a fit on
    /// 1,000 labels fast.
    #[serde(default = "partners")]
    pub partners: usize,
}

/// What the network minimises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MlpLoss {
    /// RankNet's pairwise logistic loss.
    #[default]
    Pairwise,
    /// Squared error on the standardised normalised rank.
    Squared,
}

fn hidden() -> usize {
    64
}
fn layers() -> usize {
    2
}
fn epochs() -> usize {
    300
}
fn learning_rate() -> f64 {
    1e-3
}
fn weight_decay() -> f64 {
    1e-3
}
fn partners() -> usize {
    256
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig {
            hidden: hidden(),
            layers: layers(),
            epochs: epochs(),
            learning_rate: learning_rate(),
            weight_decay: weight_decay(),
            loss: MlpLoss::default(),
            partners: partners(),
        }
    }
}

impl MlpConfig {
    /// Checks the values are usable, naming the field (`mlp`, or an ensemble member's).
    pub fn check(&self, field: &str) -> Result<()> {
        if self.hidden == 0 || self.hidden > 4096 {
            bail!("{field}.hidden must be between 1 and 4096, found {}", self.hidden);
        }
        if self.layers == 0 || self.layers > 8 {
            bail!("{field}.layers must be between 1 and 8, found {}", self.layers);
        }
        if self.partners < 2 {
            bail!("{field}.partners must be at least 2, found {}", self.partners);
        }
        if self.epochs == 0 || self.epochs > 100_000 {
            bail!("{field}.epochs must be between 1 and 100000, found {}", self.epochs);
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            bail!("{field}.learning_rate must be in (0, 1], found {}", self.learning_rate);
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0 && self.learning_rate * self.weight_decay < 1.0)
        {
            bail!(
                "{field}.weight_decay must be ≥ 0 with learning_rate × weight_decay < 1, found {}",
                self.weight_decay
            );
        }
        Ok(())
    }
}

/// One linear layer: `w` [inp × out] row-major, `b` [out].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Dense {
    inp: usize,
    out: usize,
    w: Vec<f64>,
    b: Vec<f64>,
}

/// A fitted ranking network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mlp {
    /// Per column: the mean and deviation of the transformed labelled rows.
    mean: Vec<f64>,
    std: Vec<f64>,
    /// The hidden layers, then the output layer (`out` 1).
    layers: Vec<Dense>,
}

/// `sign(x)·ln(1 + |x|)`.
fn squash(x: f64) -> f64 {
    x.signum() * x.abs().ln_1p()
}

/// Adam's moments of one parameter vector.
struct Moments {
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Moments {
    fn new(n: usize) -> Moments {
        Moments { m: vec![0.0; n], v: vec![0.0; n] }
    }

    /// One AdamW step of `p` along `g` (step `t` ≥ 1).
    fn step(&mut self, p: &mut [f64], g: &[f64], t: i32, cfg: &MlpConfig) {
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
        let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        let decay = 1.0 - cfg.learning_rate * cfg.weight_decay;
        for k in 0..p.len() {
            p[k] *= decay;
            self.m[k] = b1 * self.m[k] + (1.0 - b1) * g[k];
            self.v[k] = b2 * self.v[k] + (1.0 - b2) * g[k] * g[k];
            p[k] -= cfg.learning_rate * (self.m[k] / c1) / ((self.v[k] / c2).sqrt() + eps);
        }
    }
}

impl Mlp {
    /// Fits the network to rank the rows of `x` by `y` (validation accuracies).
    pub fn fit(cfg: &MlpConfig, x: &Table, y: &[f64], seed: u64) -> Result<Mlp> {
        cfg.check("mlp")?;
        if x.rows < 2 || x.cols == 0 {
            bail!("the network needs at least 2 labelled architectures and 1 feature, found {} and {}", x.rows, x.cols);
        }
        let (n, d) = (x.rows, x.cols);
        let mut mean = vec![0.0; d];
        let mut std = vec![0.0; d];
        for c in 0..d {
            let col: Vec<f64> = (0..n).map(|r| squash(x.data[r * d + c])).collect();
            let m = col.iter().sum::<f64>() / n as f64;
            let var = col.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64;
            mean[c] = m;
            std[c] = if var > 1e-24 { var.sqrt() } else { 0.0 };
        }
        let mut rng = Rng::new(seed);
        let mut layers = Vec::new();
        let mut inp = d;
        for l in 0..=cfg.layers {
            let out = if l == cfg.layers { 1 } else { cfg.hidden };
            let bound = 1.0 / (inp as f64).sqrt();
            let mut draw = |k: usize| (0..k).map(|_| (2.0 * rng.uniform() - 1.0) * bound).collect::<Vec<f64>>();
            let w = draw(inp * out);
            let b = draw(out);
            layers.push(Dense { inp, out, w, b });
            inp = out;
        }
        let mut net = Mlp { mean, std, layers };
        let input = net.inputs(x);
        let target = super::rank_target(y);
        let mut moments: Vec<(Moments, Moments)> =
            net.layers.iter().map(|l| (Moments::new(l.w.len()), Moments::new(l.b.len()))).collect();
        // The standardised rank, for the squared loss.
        let r_mean = target.iter().sum::<f64>() / n as f64;
        let r_sd = (target.iter().map(|v| (v - r_mean).powi(2)).sum::<f64>() / n as f64).sqrt().max(1e-12);
        let partners = Partners::draw(n, cfg.partners, &mut rng);
        let pairs = (0..n).map(|i| partners.of(i).filter(|&j| target[i] > target[j]).count()).sum::<usize>();
        if cfg.loss == MlpLoss::Pairwise && pairs == 0 {
            bail!("the pairwise loss needs two labelled architectures of different accuracy");
        }
        for t in 1..=cfg.epochs {
            let acts = net.forward(&input, n);
            let s = acts.last().expect("an output layer");
            // ∂loss/∂s [n].
            let g: Vec<f64> = match cfg.loss {
                MlpLoss::Pairwise => (0..n)
                    .into_par_iter()
                    .map(|i| {
                        let mut gi = 0.0;
                        for j in partners.of(i) {
                            if target[i] > target[j] {
                                // softplus(s_j − s_i): ∂/∂s_i = −σ(s_j − s_i).
                                gi -= sigmoid(s[j] - s[i]);
                            } else if target[j] > target[i] {
                                gi += sigmoid(s[i] - s[j]);
                            }
                        }
                        gi / pairs as f64
                    })
                    .collect(),
                MlpLoss::Squared => (0..n).map(|i| 2.0 * (s[i] - (target[i] - r_mean) / r_sd) / n as f64).collect(),
            };
            net.backward_step(&input, &acts, g, n, &mut moments, t as i32, cfg);
        }
        Ok(net)
    }

    /// The transformed, standardised rows of `x` [rows × d].
    fn inputs(&self, x: &Table) -> Vec<f64> {
        let d = self.mean.len();
        let mut out = Vec::with_capacity(x.rows * d);
        for r in 0..x.rows {
            for (c, &v) in x.row(r).iter().enumerate() {
                out.push(if self.std[c] > 0.0 { (squash(v) - self.mean[c]) / self.std[c] } else { 0.0 });
            }
        }
        out
    }

    /// Every layer's output (after ReLU for the hidden ones) for `n` rows of `input`; the last is the
    /// score [n].
    fn forward(&self, input: &[f64], n: usize) -> Vec<Vec<f64>> {
        let mut acts: Vec<Vec<f64>> = Vec::with_capacity(self.layers.len());
        for (l, layer) in self.layers.iter().enumerate() {
            let a = if l == 0 { input } else { &acts[l - 1] };
            let mut z = vec![0.0; n * layer.out];
            for row in z.chunks_mut(layer.out) {
                row.copy_from_slice(&layer.b);
            }
            matmul(n, layer.out, layer.inp, a, Trans::No, &layer.w, Trans::No, &mut z, Accumulate::Add);
            if l + 1 < self.layers.len() {
                z.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            acts.push(z);
        }
        acts
    }

    /// Back-propagates `g` = ∂loss/∂s [n] and takes one AdamW step.
    #[allow(clippy::too_many_arguments)]
    fn backward_step(
        &mut self,
        input: &[f64],
        acts: &[Vec<f64>],
        mut g: Vec<f64>,
        n: usize,
        moments: &mut [(Moments, Moments)],
        t: i32,
        cfg: &MlpConfig,
    ) {
        for l in (0..self.layers.len()).rev() {
            let layer = &self.layers[l];
            let a = if l == 0 { input } else { &acts[l - 1] };
            // g is ∂loss/∂z_l [n × out]: dW = aᵀ g [inp × out], db = Σ_rows g, ∂loss/∂a = g Wᵀ [n × inp].
            let mut dw = vec![0.0; layer.inp * layer.out];
            matmul(layer.inp, layer.out, n, a, Trans::Yes, &g, Trans::No, &mut dw, Accumulate::Overwrite);
            let mut db = vec![0.0; layer.out];
            for row in g.chunks(layer.out) {
                db.iter_mut().zip(row).for_each(|(s, v)| *s += v);
            }
            if l > 0 {
                let mut ga = vec![0.0; n * layer.inp];
                matmul(n, layer.inp, layer.out, &g, Trans::No, &layer.w, Trans::Yes, &mut ga, Accumulate::Overwrite);
                // Through the ReLU of layer l − 1.
                ga.iter_mut().zip(&acts[l - 1]).for_each(|(gv, av)| {
                    if *av <= 0.0 {
                        *gv = 0.0;
                    }
                });
                g = ga;
            }
            let layer = &mut self.layers[l];
            let (mw, mb) = &mut moments[l];
            mw.step(&mut layer.w, &dw, t, cfg);
            mb.step(&mut layer.b, &db, t, cfg);
        }
    }

    /// Scores of the rows of `x` (higher = better).
    pub fn scores(&self, x: &Table) -> Result<Vec<f64>> {
        if x.cols != self.mean.len() {
            bail!("the network was fitted on {} features per architecture, not {}", self.mean.len(), x.cols);
        }
        if x.rows == 0 {
            return Ok(Vec::new());
        }
        let input = self.inputs(x);
        let d = self.mean.len();
        // Row by row in a fixed order (not through gemm, whose blocking depends on the batch): an
        // architecture's score is the same whatever it is scored with.
        Ok(input.par_chunks(d).map(|row| self.score_row(row)).collect())
    }

    /// The score of one transformed input row: each unit's bias plus its inputs' terms in input order.
    fn score_row(&self, row: &[f64]) -> f64 {
        let mut a = row.to_vec();
        for (l, layer) in self.layers.iter().enumerate() {
            let mut z = layer.b.clone();
            for (k, &ak) in a.iter().enumerate() {
                let w = &layer.w[k * layer.out..][..layer.out];
                z.iter_mut().zip(w).for_each(|(zj, wj)| *zj += ak * wj);
            }
            if l + 1 < self.layers.len() {
                z.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            a = z;
        }
        a[0]
    }

    /// Reads a network written as JSON for `cols` features, naming the file in errors: every layer's
    /// shape is checked against the next before any score is computed.
    pub fn from_json(value: serde_json::Value, cols: usize, path: &std::path::Path) -> Result<Mlp> {
        let net: Mlp = serde_json::from_value(value)
            .map_err(|e| anyhow::anyhow!("{}: not nar's ranking network: {e}", path.display()))?;
        if net.mean.len() != cols || net.std.len() != cols {
            bail!(
                "{}: the network reads {} features, but the feature sets have {cols}",
                path.display(),
                net.mean.len()
            );
        }
        let mut inp = cols;
        for (l, layer) in net.layers.iter().enumerate() {
            let last = l + 1 == net.layers.len();
            if layer.inp != inp
                || layer.w.len() != layer.inp * layer.out
                || layer.b.len() != layer.out
                || (last && layer.out != 1)
            {
                bail!("{}: layer {l} of the network has inconsistent shapes", path.display());
            }
            inp = layer.out;
        }
        if net.layers.is_empty() {
            bail!("{}: the network has no layers", path.display());
        }
        let values = net.mean.iter().chain(&net.std).chain(net.layers.iter().flat_map(|l| l.w.iter().chain(&l.b)));
        if values.clone().any(|v| !v.is_finite()) {
            bail!("{}: the network holds a value that is not finite", path.display());
        }
        Ok(net)
    }
}

/// The pairs the pairwise loss compares: all of them, or a random circulant set (see the module docs).
struct Partners {
    n: usize,
    /// Empty: every pair. Else the architectures in a random order and the offsets.
    order: Vec<usize>,
    /// Where each architecture stands in `order`.
    place: Vec<usize>,
    offsets: Vec<usize>,
}

impl Partners {
    fn draw(n: usize, partners: usize, rng: &mut Rng) -> Partners {
        if n <= partners + 1 {
            return Partners { n, order: Vec::new(), place: Vec::new(), offsets: Vec::new() };
        }
        let order = rng.permutation(n);
        let mut place = vec![0; n];
        for (k, &i) in order.iter().enumerate() {
            place[i] = k;
        }
        // Offsets in 1..=(n − 1)/2, so that i + o and i − o are distinct and no pair repeats.
        let mut all: Vec<usize> = (1..=(n - 1) / 2).collect();
        rng.shuffle(&mut all);
        all.truncate(partners / 2);
        all.sort_unstable();
        Partners { n, order, place, offsets: all }
    }

    /// The architectures `i` is compared with.
    fn of(&self, i: usize) -> Box<dyn Iterator<Item = usize> + '_> {
        if self.offsets.is_empty() {
            return Box::new((0..self.n).filter(move |&j| j != i));
        }
        let k = self.place[i];
        Box::new(
            self.offsets
                .iter()
                .flat_map(move |&o| [self.order[(k + o) % self.n], self.order[(k + self.n - o) % self.n]]),
        )
    }
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 40 architectures of 3 features whose accuracy is a monotone function of the first two; the
    /// pairwise loss learns to order them, and the gradient of the network matches finite differences.
    #[test]
    fn the_network_learns_an_order_and_its_gradient_is_exact() {
        let mut rng = Rng::new(3);
        let data: Vec<f64> = (0..120).map(|_| rng.uniform() * 10.0).collect();
        let x = Table { rows: 40, cols: 3, data };
        let y: Vec<f64> = (0..40).map(|r| x.row(r)[0] + 2.0 * x.row(r)[1]).collect();
        let cfg = MlpConfig { hidden: 16, epochs: 200, learning_rate: 1e-2, ..MlpConfig::default() };
        let net = Mlp::fit(&cfg, &x, &y, 1).unwrap();
        let tau = crate::ranker::metrics::kendall_tau(&net.scores(&x).unwrap(), &y);
        assert!(tau > 0.9, "τ {tau}");
        // A row's score does not depend on the rows scored with it.
        let all = net.scores(&x).unwrap();
        let some = net.scores(&x.select(&[7, 3, 31])).unwrap();
        assert_eq!(some, [all[7], all[3], all[31]]);
        // Same seed, same network; the file round trip keeps it.
        assert_eq!(Mlp::fit(&cfg, &x, &y, 1).unwrap(), net);
        let back = Mlp::from_json(serde_json::to_value(&net).unwrap(), 3, std::path::Path::new("p.json")).unwrap();
        assert_eq!(back.scores(&x).unwrap(), net.scores(&x).unwrap());
        let e = Mlp::from_json(serde_json::to_value(&net).unwrap(), 4, std::path::Path::new("p.json")).unwrap_err();
        assert_eq!(e.to_string(), "p.json: the network reads 3 features, but the feature sets have 4");

        // The analytic gradient of the squared loss against finite differences, for one weight of each
        // layer: one step of plain gradient descent (no Adam) is emulated by reading dW directly.
        let input = net.inputs(&x);
        let loss = |m: &Mlp| -> f64 {
            let s = m.forward(&input, 40).pop().unwrap();
            s.iter().zip(&y).map(|(a, b)| (a - b / 30.0).powi(2)).sum::<f64>() / 40.0
        };
        for l in 0..net.layers.len() {
            let k = net.layers[l].w.len() / 2;
            let mut plus = net.clone();
            plus.layers[l].w[k] += 1e-6;
            let mut minus = net.clone();
            minus.layers[l].w[k] -= 1e-6;
            let numeric = (loss(&plus) - loss(&minus)) / 2e-6;
            // The analytic one: a zero-learning-rate step leaves the weights; read dW through Adam's
            // first moment (m = (1 − β₁)·g after one step).
            let acts = net.forward(&input, 40);
            let s = acts.last().unwrap();
            let g: Vec<f64> = (0..40).map(|i| 2.0 * (s[i] - y[i] / 30.0) / 40.0).collect();
            let mut copy = net.clone();
            let mut moments: Vec<(Moments, Moments)> =
                copy.layers.iter().map(|l| (Moments::new(l.w.len()), Moments::new(l.b.len()))).collect();
            let tiny = MlpConfig { learning_rate: 1e-300, weight_decay: 0.0, ..cfg.clone() };
            copy.backward_step(&input, &acts, g, 40, &mut moments, 1, &tiny);
            let analytic = moments[l].0.m[k] / 0.1;
            assert!((numeric - analytic).abs() <= 1e-5 * (1.0 + numeric.abs()), "layer {l}: {numeric} vs {analytic}");
        }
    }

    #[test]
    fn bad_settings_are_named() {
        let bad = MlpConfig { hidden: 0, ..MlpConfig::default() };
        assert_eq!(bad.check("mlp").unwrap_err().to_string(), "mlp.hidden must be between 1 and 4096, found 0");
        let bad = MlpConfig { learning_rate: 0.5, weight_decay: 2.0, ..MlpConfig::default() };
        assert!(
            bad.check("ensemble.members[3].mlp")
                .unwrap_err()
                .to_string()
                .starts_with("ensemble.members[3].mlp.weight_decay")
        );
        let x = Table { rows: 3, cols: 1, data: vec![1.0, 2.0, 3.0] };
        let e = Mlp::fit(&MlpConfig::default(), &x, &[5.0, 5.0, 5.0], 0).unwrap_err();
        assert_eq!(e.to_string(), "the pairwise loss needs two labelled architectures of different accuracy");
    }
}
