//! Dropout masks from a counter-based generator: a pure function of `(seed, tensor, index)`.

use rayon::prelude::*;

use super::real::Real;

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
