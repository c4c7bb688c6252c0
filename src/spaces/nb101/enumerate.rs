//! The whole NAS-Bench-101 space: every unique cell, exactly as NAS-Bench-101's `generate_graphs.py`
//! defines it, in a fraction of the time.
//!
//! `generate_graphs.py` walks vertex counts 2..=7, then every upper-triangular matrix by its bit string
//! (edge x→y is bit `y(y-1)/2 + x`), keeps the "full" DAGs (every vertex but the output has an out-edge,
//! every vertex but the input an in-edge) with at most 9 edges, tries every labelling of the interior
//! vertices (`itertools.product`, first vertex slowest) and keeps the *first* graph of each hash. That is
//! 1,293,208 labelled graphs for 423,624 unique cells.
//!
//! Hashing all 1.3 M graphs costs ~60 M md5 calls. Instead we sort the graphs into isomorphism classes
//! with an exact, cheap key: the canonical form of the unlabelled matrix (minimum over permutations of
//! the interior vertices) plus the smallest labelling under that form's automorphisms. Only the first
//! graph of each class (in `generate_graphs.py` order, so the same representative matrix NAS-Bench-101
//! stores) is then hashed, in parallel, and the result is checked to have one hash per class.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{Cell, MAX_EDGES, MAX_VERTICES, Op, hash};

/// One unique cell of the space with its raw fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub hash: [u8; 16],
    pub cell: Cell,
}

/// Number of unique NAS-Bench-101 cells.
pub const SPACE_SIZE: usize = 423_624;

/// An unlabelled DAG of at most [`MAX_VERTICES`] vertices: `adj[v]` the bit set of v's successors.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Matrix {
    pub n: usize,
    pub adj: [u8; MAX_VERTICES],
}

/// Every full DAG (all vertices on an input→output path: every vertex but the output has an out-edge,
/// every vertex but the input an in-edge) with a vertex count in `counts` (2 to [`MAX_VERTICES`]), at
/// most `max_edges` edges and accepted by `keep`, in `generate_graphs.py` order.
pub(crate) fn full_dags(
    counts: std::ops::RangeInclusive<usize>,
    max_edges: usize,
    keep: impl Fn(&Matrix) -> bool,
) -> Vec<Matrix> {
    let mut out = Vec::new();
    for n in counts {
        let bits_len = n * (n - 1) / 2;
        for bits in 0u32..(1 << bits_len) {
            if bits.count_ones() as usize > max_edges {
                continue;
            }
            let mut adj = [0u8; MAX_VERTICES];
            for y in 1..n {
                for x in 0..y {
                    if bits >> (y * (y - 1) / 2 + x) & 1 == 1 {
                        adj[x] |= 1 << y;
                    }
                }
            }
            let has_out = (0..n - 1).all(|v| adj[v] != 0);
            let has_in = (1..n).all(|v| (0..n).any(|u| adj[u] >> v & 1 == 1));
            let m = Matrix { n, adj };
            if has_out && has_in && keep(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// All permutations of `0..k`, in lexicographic order.
pub(crate) fn permutations(k: usize) -> Vec<Vec<usize>> {
    fn go(prefix: &mut Vec<usize>, used: &mut [bool], out: &mut Vec<Vec<usize>>) {
        if prefix.len() == used.len() {
            out.push(prefix.clone());
            return;
        }
        for i in 0..used.len() {
            if !used[i] {
                used[i] = true;
                prefix.push(i);
                go(prefix, used, out);
                prefix.pop();
                used[i] = false;
            }
        }
    }
    let mut out = Vec::new();
    go(&mut Vec::new(), &mut vec![false; k], &mut out);
    out
}

/// The matrix with interior vertex `1 + i` moved to `1 + perm[i]`, as an n×n row-major bit code.
fn permuted_code(m: &Matrix, perm: &[usize]) -> u64 {
    let map = |v: usize| if v == 0 || v == m.n - 1 { v } else { 1 + perm[v - 1] };
    let mut code = 0u64;
    for i in 0..m.n {
        for j in 0..m.n {
            if m.adj[i] >> j & 1 == 1 {
                code |= 1 << (map(i) * MAX_VERTICES + map(j));
            }
        }
    }
    code
}

/// The isomorphism class of an unlabelled matrix: its canonical code, the permutation that maps it
/// there, and (shared per class) the canonical form's automorphisms.
struct Canonical {
    class: usize,
    to_canonical: Vec<usize>,
}

/// The labels of a labelled graph's interior vertices (the first `n − 2`).
pub(crate) type Labels = [usize; MAX_VERTICES - 2];

/// The first labelled graph of each isomorphism class, in `generate_graphs.py` order: every matrix of
/// `matrices` (in order) with every labelling of its interior vertices by `0..labels` (first vertex
/// slowest), kept when no earlier graph is isomorphic to it — same canonical matrix (the least code over
/// the permutations of the interior vertices) and same least labelling under that form's automorphisms.
pub(crate) fn first_of_each_class(matrices: &[Matrix], labels: usize) -> Vec<(Matrix, Labels)> {
    // Canonical forms of the unlabelled matrices.
    let perms_by_k: Vec<Vec<Vec<usize>>> = (0..=MAX_VERTICES - 2).map(permutations).collect();
    let mut classes: HashMap<(usize, u64), usize> = HashMap::new();
    let mut automorphisms: Vec<Vec<Vec<usize>>> = Vec::new();
    let canon: Vec<Canonical> = matrices
        .iter()
        .map(|m| {
            let perms = &perms_by_k[m.n - 2];
            let (best, code) = perms
                .iter()
                .enumerate()
                .map(|(i, p)| (i, permuted_code(m, p)))
                .min_by_key(|&(i, code)| (code, i))
                .expect("at least the identity permutation");
            let next = classes.len();
            let class = *classes.entry((m.n, code)).or_insert(next);
            if class == next {
                // Automorphisms of the canonical form: permutations of the canonical matrix onto itself.
                let mut canon_adj = [0u8; MAX_VERTICES];
                for (i, row) in canon_adj.iter_mut().enumerate().take(m.n) {
                    *row = ((code >> (i * MAX_VERTICES)) & 0x7f) as u8;
                }
                let c = Matrix { n: m.n, adj: canon_adj };
                let auts = perms.iter().filter(|q| permuted_code(&c, q) == code).cloned().collect();
                automorphisms.push(auts);
            }
            Canonical { class, to_canonical: perms[best].clone() }
        })
        .collect();

    // Walk the labelled graphs in generate_graphs.py order; keep the first of each class.
    let base = labels as u64;
    let mut seen: HashMap<(usize, u64), ()> = HashMap::new();
    let mut reps = Vec::new();
    let mut labelling: Labels = [0; MAX_VERTICES - 2];
    let mut canonical_labels: Labels = [0; MAX_VERTICES - 2];
    for (m, c) in matrices.iter().zip(&canon) {
        let k = m.n - 2;
        for code in 0..base.pow(k as u32) {
            // itertools.product: the first interior vertex varies slowest.
            let mut rest = code;
            for i in (0..k).rev() {
                labelling[i] = (rest % base) as usize;
                rest /= base;
            }
            for i in 0..k {
                canonical_labels[c.to_canonical[i]] = labelling[i];
            }
            let key = automorphisms[c.class]
                .iter()
                .map(|q| {
                    let mut permuted: Labels = [0; MAX_VERTICES - 2];
                    for i in 0..k {
                        permuted[q[i]] = canonical_labels[i];
                    }
                    permuted[..k].iter().fold(0u64, |acc, &l| acc * base + l as u64)
                })
                .min()
                .expect("the identity is an automorphism");
            if seen.insert((c.class, key), ()).is_none() {
                reps.push((*m, labelling));
            }
        }
    }
    reps
}

/// Every unique NAS-Bench-101 cell, sorted by hash, each represented by the matrix and labelling
/// that `generate_graphs.py` meets first (the one NAS-Bench-101 stores).
pub fn all_cells() -> Vec<Entry> {
    let matrices = full_dags(2..=MAX_VERTICES, MAX_EDGES, |_| true);
    let reps: Vec<Cell> = first_of_each_class(&matrices, Op::INTERIOR.len())
        .into_iter()
        .map(|(m, labels)| {
            let mut ops = [Op::Input; MAX_VERTICES];
            for i in 0..m.n - 2 {
                ops[1 + i] = Op::INTERIOR[labels[i]];
            }
            ops[m.n - 1] = Op::Output;
            Cell::from_parts(m.n, m.adj, ops)
        })
        .collect();
    let mut entries: Vec<Entry> =
        reps.into_par_iter().map(|cell| Entry { hash: hash::fingerprint(&cell), cell }).collect();
    entries.par_sort_unstable_by_key(|e| e.hash);
    // Isomorphism classes and hashes must agree one to one, as NAS-Bench-101 verified.
    if let Some(w) = entries.windows(2).find(|w| w[0].hash == w[1].hash) {
        panic!("two non-isomorphic NAS-Bench-101 cells share hash {}", hash::to_hex(&w[0].hash));
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_dags_are_the_matrices_pruning_leaves_alone() {
        // Cross-check the degree test against the pruning rules of `Cell::prune` for up to 6 vertices.
        let dags = full_dags(2..=MAX_VERTICES, MAX_EDGES, |_| true);
        let ops = |n: usize| {
            let mut o = vec!["conv3x3-bn-relu"; n];
            o[0] = "input";
            o[n - 1] = "output";
            o
        };
        for n in 2..=6 {
            let ours: Vec<[u8; MAX_VERTICES]> = dags.iter().filter(|m| m.n == n).map(|m| m.adj).collect();
            let mut expected = Vec::new();
            for bits in 0u32..(1 << (n * (n - 1) / 2)) {
                let mut m = vec![vec![0i64; n]; n];
                for y in 1..n {
                    for x in 0..y {
                        m[x][y] = i64::from(bits >> (y * (y - 1) / 2 + x) & 1 == 1);
                    }
                }
                if let Ok(p) = Cell::prune(&m, &ops(n))
                    && p.removed.is_empty()
                {
                    expected.push(p.cell.adj);
                }
            }
            assert_eq!(ours, expected, "{n} vertices");
        }
        // 1,293,208 labelled graphs in all, the number generate_graphs.py walks.
        let labelled: usize = dags.iter().map(|x| 3usize.pow(x.n as u32 - 2)).sum();
        assert_eq!(labelled, 1_293_208);
    }

    #[test]
    fn permutations_are_complete() {
        assert_eq!(permutations(5).len(), 120);
        assert_eq!(permutations(0).len(), 1);
    }
}
