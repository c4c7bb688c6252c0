//! Every cell of a declared vertices-family space, one per isomorphism class — NAS-Bench-101's
//! `generate_graphs.py` definition (nar's built-in `nb101::enumerate` is the same walk, specialised),
//! generalised to the declaration's bounds: for each vertex count (exactly `max_vertices`, or 2 to
//! it), every upper-triangular matrix in bit order whose vertices all lie on an input → output path
//! (every vertex but the output has an out-edge, every vertex but the input an in-edge), with at most
//! `max_edges` edges, the operation vertices' in-degrees within `in_degree` and, with `output:
//! leaves`, the output reading exactly the operation vertices no other one reads; then every labelling
//! of the operation vertices by the declared ops, the first vertex varying slowest. A graph is kept
//! when it is the first of its class — the canonical form of its matrix (the least code over the
//! permutations of the operation vertices) and the least labelling under that form's automorphisms —,
//! each kept cell is hashed ([`VertexSpace::hash`]), and classes and hashes must agree one to one.
//! Up to 7 vertices (NAS-Bench-101's bound; the matrices of 8 are 2²⁸).

use std::collections::HashMap;

use rayon::prelude::*;

use super::declaration::VerticesOutput;
use super::vertices::{VertexCell, VertexSpace};
use crate::spaces::nb101::enumerate::permutations;

/// The most vertices enumerated.
pub const MAX_ENUMERATED_VERTICES: usize = 7;

/// The labelled graphs a space may walk through (its matrices × labellings) before enumeration is
/// refused as too large.
pub const MAX_LABELLED: u64 = 50_000_000;

/// An enumerated cell with its hash (raw bytes, [`crate::spaces::nb101::hash::to_hex`] for the text).
pub struct Entry {
    pub cell: VertexCell,
    pub hash: String,
}

/// An unlabelled matrix: `adj[v]` the bit set of v's successors.
#[derive(Clone, Copy)]
struct Matrix {
    n: usize,
    adj: [u8; MAX_ENUMERATED_VERTICES],
}

impl VertexSpace {
    /// Every cell, one per isomorphism class, sorted by hash; or why the space cannot be enumerated.
    pub fn enumerate(&self) -> Result<Vec<Entry>, String> {
        let f = &self.fam;
        if f.max_vertices > MAX_ENUMERATED_VERTICES {
            return Err(format!(
                "{}: cells of up to {} vertices; nar enumerates up to {MAX_ENUMERATED_VERTICES} (the matrices of 8 are 2^28): it is searched by sampling",
                self.decl.name, f.max_vertices
            ));
        }
        let matrices = self.matrices();
        let ops = self.decl.ops.len() as u64;
        let labelled: u64 = matrices.iter().map(|m| ops.saturating_pow(m.n as u32 - 2)).fold(0, u64::saturating_add);
        if labelled > MAX_LABELLED {
            return Err(format!(
                "{}: {labelled} labelled graphs to walk, more than the {MAX_LABELLED} nar enumerates: it is searched by sampling",
                self.decl.name
            ));
        }
        if matrices.is_empty() {
            return Err(format!("{}: no cell satisfies the declaration", self.decl.name));
        }
        let perms: Vec<Vec<Vec<usize>>> = (0..=MAX_ENUMERATED_VERTICES - 2).map(permutations).collect();
        let mut classes: HashMap<(usize, u64), usize> = HashMap::new();
        let mut automorphisms: Vec<Vec<Vec<usize>>> = Vec::new();
        let mut canon: Vec<(usize, Vec<usize>)> = Vec::with_capacity(matrices.len());
        for m in &matrices {
            let ps = &perms[m.n - 2];
            let (best, code) = ps
                .iter()
                .enumerate()
                .map(|(i, p)| (i, permuted_code(m, p)))
                .min_by_key(|&(i, code)| (code, i))
                .expect("the identity permutation");
            let next = classes.len();
            let class = *classes.entry((m.n, code)).or_insert(next);
            if class == next {
                let mut adj = [0u8; MAX_ENUMERATED_VERTICES];
                for (i, row) in adj.iter_mut().enumerate().take(m.n) {
                    *row = ((code >> (i * 8)) & 0xff) as u8;
                }
                let c = Matrix { n: m.n, adj };
                automorphisms.push(ps.iter().filter(|q| permuted_code(&c, q) == code).cloned().collect());
            }
            canon.push((class, ps[best].clone()));
        }
        let mut seen: HashMap<(usize, u64), ()> = HashMap::new();
        let mut reps: Vec<VertexCell> = Vec::new();
        for (m, (class, to_canonical)) in matrices.iter().zip(&canon) {
            let k = m.n - 2;
            let mut labels = vec![0usize; k];
            let mut canonical_labels = vec![0usize; k];
            for code in 0..ops.pow(k as u32) {
                let mut rest = code;
                for l in labels.iter_mut().rev() {
                    *l = (rest % ops) as usize;
                    rest /= ops;
                }
                for i in 0..k {
                    canonical_labels[to_canonical[i]] = labels[i];
                }
                let key = automorphisms[*class]
                    .iter()
                    .map(|q| {
                        let mut permuted = vec![0usize; k];
                        for i in 0..k {
                            permuted[q[i]] = canonical_labels[i];
                        }
                        permuted.iter().fold(0u64, |acc, &l| acc * ops + l as u64)
                    })
                    .min()
                    .expect("the identity is an automorphism");
                if seen.insert((*class, key), ()).is_none() {
                    let matrix = (0..m.n).map(|i| (0..m.n).map(|j| m.adj[i] >> j & 1 == 1).collect()).collect();
                    let ops = std::iter::once(None).chain(labels.iter().map(|&l| Some(l))).chain([None]).collect();
                    reps.push(VertexCell { matrix, ops });
                }
            }
        }
        let mut entries: Vec<Entry> = reps.into_par_iter().map(|cell| Entry { hash: self.hash(&cell), cell }).collect();
        entries.par_sort_unstable_by(|a, b| a.hash.cmp(&b.hash));
        if let Some(w) = entries.windows(2).find(|w| w[0].hash == w[1].hash) {
            return Err(format!("two non-isomorphic cells share the hash {}", w[0].hash));
        }
        Ok(entries)
    }

    /// The unlabelled matrices the declaration allows, in `generate_graphs.py` order.
    fn matrices(&self) -> Vec<Matrix> {
        let f = &self.fam;
        let counts = if f.exact_vertices { f.max_vertices..=f.max_vertices } else { 2..=f.max_vertices };
        let mut out = Vec::new();
        for n in counts {
            let bits_len = n * (n - 1) / 2;
            for bits in 0u32..(1 << bits_len) {
                if bits.count_ones() as usize > f.max_edges {
                    continue;
                }
                let mut adj = [0u8; MAX_ENUMERATED_VERTICES];
                for y in 1..n {
                    for x in 0..y {
                        if bits >> (y * (y - 1) / 2 + x) & 1 == 1 {
                            adj[x] |= 1 << y;
                        }
                    }
                }
                let reads = |v: usize| (0..n).filter(|&u| adj[u] >> v & 1 == 1).count();
                if !(0..n - 1).all(|v| adj[v] != 0) || !(1..n).all(|v| reads(v) > 0) {
                    continue;
                }
                if !(1..n - 1).all(|v| (f.in_degree.0..=f.in_degree.1).contains(&reads(v))) {
                    continue;
                }
                if f.output == VerticesOutput::Leaves {
                    // The output reads exactly the operation vertices no operation vertex reads.
                    let interior = ((1u8 << (n - 1)) - 1) & !1;
                    let leaves_ok = (0..n - 1).all(|v| {
                        let to_output = adj[v] >> (n - 1) & 1 == 1;
                        let leaf = v > 0 && adj[v] & interior == 0;
                        to_output == (leaf || n == 2)
                    });
                    if !leaves_ok {
                        continue;
                    }
                }
                out.push(Matrix { n, adj });
            }
        }
        out
    }
}

/// The matrix with operation vertex `1 + i` moved to `1 + perm[i]`, as an n×n row-major bit code (8
/// bits a row).
fn permuted_code(m: &Matrix, perm: &[usize]) -> u64 {
    let map = |v: usize| if v == 0 || v == m.n - 1 { v } else { 1 + perm[v - 1] };
    let mut code = 0u64;
    for i in 0..m.n {
        for j in 0..m.n {
            if m.adj[i] >> j & 1 == 1 {
                code |= 1 << (map(i) * 8 + map(j));
            }
        }
    }
    code
}
