//! Every cell of a declared vertices-family space, one per isomorphism class — NAS-Bench-101's
//! `generate_graphs.py` definition, generalised to the declaration's bounds (the walk is the built-in
//! enumeration's, `nb101::enumerate::{full_dags, first_of_each_class}`, with the declaration's filter): for each vertex count (exactly `max_vertices`, or 2 to
//! it), every upper-triangular matrix in bit order whose vertices all lie on an input → output path
//! (every vertex but the output has an out-edge, every vertex but the input an in-edge), with at most
//! `max_edges` edges, the operation vertices' in-degrees within `in_degree` and, with `output:
//! leaves`, the output reading exactly the operation vertices no other one reads; then every labelling
//! of the operation vertices by the declared ops, the first vertex varying slowest. A graph is kept
//! when it is the first of its class — the canonical form of its matrix (the least code over the
//! permutations of the operation vertices) and the least labelling under that form's automorphisms —,
//! each kept cell is hashed ([`VertexSpace::hash`]), and classes and hashes must agree one to one.
//! Up to 7 vertices (NAS-Bench-101's bound; the matrices of 8 are 2²⁸).

use rayon::prelude::*;

use super::declaration::VerticesOutput;
use super::vertices::{VertexCell, VertexSpace};
use crate::spaces::nb101::enumerate::{Matrix, first_of_each_class, full_dags};

/// The most vertices enumerated.
pub const MAX_ENUMERATED_VERTICES: usize = crate::spaces::nb101::MAX_VERTICES;

/// The labelled graphs a space may walk through (its matrices × labellings) before enumeration is
/// refused as too large.
pub const MAX_LABELLED: u64 = 50_000_000;

/// An enumerated cell with its hash (32 hex digits).
pub struct Entry {
    pub cell: VertexCell,
    pub hash: String,
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
        let reps: Vec<VertexCell> = first_of_each_class(&matrices, self.decl.ops.len())
            .into_iter()
            .map(|(m, labels)| VertexCell {
                matrix: (0..m.n).map(|i| (0..m.n).map(|j| m.adj[i] >> j & 1 == 1).collect()).collect(),
                ops: std::iter::once(None).chain(labels[..m.n - 2].iter().map(|&l| Some(l))).chain([None]).collect(),
            })
            .collect();
        let mut entries: Vec<Entry> = reps.into_par_iter().map(|cell| Entry { hash: self.hash(&cell), cell }).collect();
        entries.par_sort_unstable_by(|a, b| a.hash.cmp(&b.hash));
        if let Some(w) = entries.windows(2).find(|w| w[0].hash == w[1].hash) {
            return Err(format!("two non-isomorphic cells share the hash {}", w[0].hash));
        }
        Ok(entries)
    }

    /// The unlabelled matrices the declaration allows, in `generate_graphs.py` order: the full DAGs
    /// within the vertex and edge bounds whose operation vertices' in-degrees are within `in_degree`
    /// and, with `output: leaves`, whose output reads exactly the operation vertices no other one reads.
    fn matrices(&self) -> Vec<Matrix> {
        let f = &self.fam;
        let counts = if f.exact_vertices { f.max_vertices..=f.max_vertices } else { 2..=f.max_vertices };
        full_dags(counts, f.max_edges, |m| {
            let n = m.n;
            let reads = |v: usize| (0..n).filter(|&u| m.adj[u] >> v & 1 == 1).count();
            if !(1..n - 1).all(|v| (f.in_degree.0..=f.in_degree.1).contains(&reads(v))) {
                return false;
            }
            if f.output == VerticesOutput::Leaves {
                let interior = ((1u8 << (n - 1)) - 1) & !1;
                return (0..n - 1).all(|v| {
                    let to_output = m.adj[v] >> (n - 1) & 1 == 1;
                    let leaf = v > 0 && m.adj[v] & interior == 0;
                    to_output == (leaf || n == 2)
                });
            }
            true
        })
    }
}
