//! How NAR's sampler draws a NAS-Bench-201 architecture (`docs/design.md` §6): each edge's op from the
//! top tier's op distribution when one is selected, else uniformly.

use super::{Arch, NUM_EDGES, Nb201, Op};
use crate::rng::Rng;
use crate::sampler::{Propose, draw_weighted};

impl Propose for Nb201 {
    fn propose(rng: &mut Rng, _keys: &[i64], target: Option<&[f64]>) -> Option<Arch> {
        let mut ops = [Op::None; NUM_EDGES];
        for op in ops.iter_mut() {
            let code = match target {
                Some(p) => draw_weighted(rng, p),
                None => rng.below(5),
            };
            *op = Op::ALL[code];
        }
        Some(Arch::new(ops))
    }
}
