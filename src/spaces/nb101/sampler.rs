//! How NAR's sampler draws a NAS-Bench-101 cell (`docs/design.md` §6).

use super::{Cell, MAX_EDGES, Nb101, Op};
use crate::rng::Rng;
use crate::sampler::Propose;

impl Propose for Nb101 {
    /// The reference's construction: a vertex count; each vertex after the input gets one random
    /// predecessor (interior vertices a uniform op); then `9 − n + 1` more random edges, each possibly
    /// void; the result is pruned and validated.
    fn propose(rng: &mut Rng, keys: &[i64], _target: Option<&[f64]>) -> Option<Cell> {
        let n = (*keys.get(rng.below(keys.len().max(1)))?).clamp(2, 7) as usize;
        let mut m = vec![vec![0i64; n]; n];
        let mut ops = vec!["output"; n];
        ops[0] = "input";
        for v in 1..n {
            m[rng.below(v)][v] = 1;
            if v < n - 1 {
                ops[v] = Op::INTERIOR[rng.below(3)].name();
            }
        }
        for _ in 0..(MAX_EDGES + 1).saturating_sub(n) {
            let begin = rng.below(n);
            if begin == n - 1 {
                continue;
            }
            let end = begin + rng.below(n - begin);
            if end != begin {
                m[begin][end] = 1;
            }
        }
        Cell::new(&m, &ops).ok()
    }
}
