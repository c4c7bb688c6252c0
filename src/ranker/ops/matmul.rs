//! Matrix products: the large ones through the `gemm` crate (parallel), the small strided ones of
//! attention single-threaded, and the fixed-order column sum of bias gradients.

use rayon::prelude::*;

use super::profile;
use super::real::Real;

/// How an operand is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trans {
    /// As the product reads it (`m×k` for `a`).
    No,
    /// Transposed (`k×m` for `a`).
    Yes,
}

/// What a product does with the output's old values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accumulate {
    /// `c = a·b`.
    Overwrite,
    /// `c += a·b`.
    Add,
}

impl Accumulate {
    fn adds(self) -> bool {
        self == Accumulate::Add
    }
}

/// Rows per parallel task in row-wise kernels.
pub(super) const ROW_CHUNK: usize = 64;

/// `c[m×n] = a·b` (or `+=` with [`Accumulate::Add`]), where `a` is `m×k` (stored `k×m` with
/// [`Trans::Yes`]) and `b` is `k×n` (stored `n×k` with [`Trans::Yes`]), all row-major.
#[allow(clippy::too_many_arguments)]
pub fn matmul<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    a_t: Trans,
    b: &[T],
    b_t: Trans,
    c: &mut [T],
    acc: Accumulate,
) {
    profile::time("matmul", || {
        assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n, "matmul shapes");
        if m == 0 || n == 0 {
            return;
        }
        if k == 0 {
            if !acc.adds() {
                c[..m * n].fill(T::ZERO);
            }
            return;
        }
        profile::add_flops(2.0 * m as f64 * n as f64 * k as f64);
        let (a_rs, a_cs) = if a_t == Trans::Yes { (1, m as isize) } else { (k as isize, 1) };
        let (b_rs, b_cs) = if b_t == Trans::Yes { (1, k as isize) } else { (n as isize, 1) };
        // SAFETY: the slices hold at least the m×k, k×n and m×n elements addressed by these strides.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                c.as_mut_ptr(),
                1,
                n as isize,
                acc.adds(),
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

/// A strided view of a small matrix: element (i, j) at `data[off + i·rs + j·cs]` (non-negative
/// strides).
#[derive(Clone, Copy)]
pub(super) struct View {
    pub off: usize,
    pub rs: isize,
    pub cs: isize,
}

impl View {
    /// Whether a `rows×cols` matrix seen through this view lies inside a slice of `len` elements.
    fn fits(&self, rows: usize, cols: usize, len: usize) -> bool {
        if rows == 0 || cols == 0 {
            return true;
        }
        if self.rs < 0 || self.cs < 0 {
            return false;
        }
        let last = (rows - 1)
            .checked_mul(self.rs as usize)
            .and_then(|r| (cols - 1).checked_mul(self.cs as usize).and_then(|c| r.checked_add(c)))
            .and_then(|e| e.checked_add(self.off));
        last.is_some_and(|last| last < len)
    }
}

/// `c (+)= a·b` on small strided matrices (`a` `m×k`, `b` `k×n`, `c` `m×n`, each a slice and its view),
/// single-threaded (callers are already parallel). Panics if a view reaches past its slice.
pub(super) fn small_mm<T: Real>(
    (m, n, k): (usize, usize, usize),
    (a, av): (&[T], View),
    (b, bv): (&[T], View),
    (c, cv): (&mut [T], View),
    acc: Accumulate,
) {
    assert!(
        av.fits(m, k, a.len()) && bv.fits(k, n, b.len()) && cv.fits(m, n, c.len()),
        "small_mm: a view reaches past its slice"
    );
    // SAFETY: the assertion above keeps every element the three views address inside its slice.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr().add(cv.off),
            cv.cs,
            cv.rs,
            acc.adds(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_checked_against_their_slices() {
        // A 2×3 row-major matrix at offset 4 of a slice of 10 ends at element 4 + 1·3 + 2·1 = 9.
        let v = View { off: 4, rs: 3, cs: 1 };
        assert!(v.fits(2, 3, 10) && !v.fits(2, 3, 9) && !v.fits(3, 3, 10));
        assert!(v.fits(0, 3, 0), "an empty matrix fits anywhere");
        assert!(!View { off: 0, rs: -1, cs: 1 }.fits(2, 2, 100));
        assert!(!View { off: usize::MAX, rs: 1, cs: 1 }.fits(1, 2, 100), "no overflow");
        // The product of views that fit: [[1, 2], [3, 4]] · [[5, 6], [7, 8]].
        let (a, b, mut c) = ([1.0f64, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [0.0; 4]);
        let row = View { off: 0, rs: 2, cs: 1 };
        small_mm((2, 2, 2), (&a[..], row), (&b[..], row), (&mut c[..], row), Accumulate::Overwrite);
        assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
    }

    #[test]
    #[should_panic(expected = "small_mm: a view reaches past its slice")]
    fn a_view_past_its_slice_panics_before_any_unsafe_access() {
        let (a, b, mut c) = ([1.0f64; 4], [1.0; 3], [0.0; 4]);
        let row = View { off: 0, rs: 2, cs: 1 };
        small_mm((2, 2, 2), (&a[..], row), (&b[..], row), (&mut c[..], row), Accumulate::Overwrite);
    }
}
