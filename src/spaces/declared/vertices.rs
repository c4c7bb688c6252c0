//! The vertices family of declared spaces: operations on vertices, plain edges (NAS-Bench-101 and
//! spaces like it).
//!
//! A cell is an upper-triangular adjacency matrix over its vertices — the input first, the output
//! last — and an op per operation vertex; its text form is `nar arch`'s JSON, `{"matrix": [[…]],
//! "ops": [...]}` (the ops of the operation vertices, or of every vertex with `input` and `output` at
//! the ends, as NAS-Bench-101 writes them). With `output: leaves` the output reads exactly the
//! operation vertices no other vertex reads, whatever the matrix's last column says.
//!
//! A cell is checked after pruning, as NAS-Bench-101 checks one: vertices off every input → output
//! path are removed, then the vertex count (`max_vertices`, `exact_vertices`), the edge count
//! (`max_edges`) and the operation vertices' in-degrees (`in_degree`) must hold. **Identity**: the
//! pruned cell's NAS-Bench-101 graph hash (vertex labels: input −1, output −2, an op its code), so a
//! declaration of NAS-Bench-101's ops in its order gives NAS-Bench-101's hashes. **Equivalence**
//! (with `zero`/`identity` declared): a `zero` vertex computes nothing and is removed, an `identity`
//! vertex is contracted (its inputs feed its outputs directly), then the cell is pruned again; the
//! hash of that cell is its function class.

use md5::{Digest, Md5};
use serde_json::Value;

use super::declaration::{Declaration, Merge, VerticesFamily, VerticesOutput};
use crate::spaces::nb101::hash::{graph_fingerprint, to_hex};

/// A cell: `matrix[i][j]` an edge i → j (i < j), `ops[v]` the op code of vertex v (`None` for the
/// input and the output).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VertexCell {
    pub matrix: Vec<Vec<bool>>,
    pub ops: Vec<Option<usize>>,
}

impl VertexCell {
    fn len(&self) -> usize {
        self.ops.len()
    }

    fn edges(&self) -> usize {
        self.matrix.iter().flatten().filter(|&&e| e).count()
    }

    /// The cell restricted to the vertices `keep` says, in order.
    fn keep(&self, keep: &[bool]) -> VertexCell {
        let idx: Vec<usize> = (0..self.len()).filter(|&v| keep[v]).collect();
        VertexCell {
            matrix: idx.iter().map(|&i| idx.iter().map(|&j| self.matrix[i][j]).collect()).collect(),
            ops: idx.iter().map(|&v| self.ops[v]).collect(),
        }
    }

    /// NAS-Bench-101's pruning: only the vertices on an input → output path stay; `None` where the
    /// output is not reachable from the input.
    fn pruned(&self) -> Option<VertexCell> {
        let n = self.len();
        let mut from_input = vec![false; n];
        from_input[0] = true;
        for j in 1..n {
            from_input[j] = (0..j).any(|i| from_input[i] && self.matrix[i][j]);
        }
        let mut to_output = vec![false; n];
        to_output[n - 1] = true;
        for i in (0..n - 1).rev() {
            to_output[i] = (i + 1..n).any(|j| to_output[j] && self.matrix[i][j]);
        }
        if !from_input[n - 1] {
            return None;
        }
        let keep: Vec<bool> = (0..n).map(|v| from_input[v] && to_output[v]).collect();
        Some(self.keep(&keep))
    }
}

/// A declared vertices-family space.
#[derive(Clone, Debug)]
pub struct VertexSpace {
    pub decl: Declaration,
    pub fam: VerticesFamily,
}

impl VertexSpace {
    pub fn new(decl: Declaration, fam: VerticesFamily) -> VertexSpace {
        VertexSpace { decl, fam }
    }

    /// Parses the text form (JSON) into the cell as given, checked for shape and op names.
    pub fn parse(&self, text: &str) -> Result<VertexCell, String> {
        let v: Value =
            serde_json::from_str(text.trim()).map_err(|e| format!("not JSON {{\"matrix\": …, \"ops\": …}}: {e}"))?;
        let rows = v.get("matrix").and_then(Value::as_array).ok_or("field `matrix`: missing or not a list")?;
        let n = rows.len();
        if n < 2 || n > self.fam.max_vertices.max(2) + 16 {
            return Err(format!(
                "field `matrix`: {n} rows; a cell of {} has 2 to {} vertices",
                self.decl.name, self.fam.max_vertices
            ));
        }
        let mut matrix = vec![vec![false; n]; n];
        for (i, row) in rows.iter().enumerate() {
            let row = row
                .as_array()
                .filter(|r| r.len() == n)
                .ok_or_else(|| format!("field `matrix`: row {i} is not {n} numbers"))?;
            for (j, x) in row.iter().enumerate() {
                match x.as_u64() {
                    Some(0) => {}
                    Some(1) if j > i => matrix[i][j] = true,
                    Some(1) => {
                        return Err(format!(
                            "field `matrix`: [{i}][{j}] is 1 on or below the diagonal (edges go from a vertex to a later one)"
                        ));
                    }
                    _ => return Err(format!("field `matrix`: [{i}][{j}] is {x}, not 0 or 1")),
                }
            }
        }
        let names = v.get("ops").and_then(Value::as_array).ok_or("field `ops`: missing or not a list")?;
        let names: Vec<&str> =
            names.iter().map(|x| x.as_str().ok_or("field `ops`: not a list of names")).collect::<Result<_, _>>()?;
        // The interior ops alone, or every vertex's with input and output at the ends.
        let interior: &[&str] =
            if names.len() == n && names.first() == Some(&"input") && names.last() == Some(&"output") {
                &names[1..n - 1]
            } else if names.len() == n - 2 {
                &names
            } else {
                return Err(format!("field `ops`: {} names for {} operation vertices", names.len(), n - 2));
            };
        let mut ops = vec![None];
        for name in interior {
            let code = self.decl.op(name).ok_or_else(|| {
                format!("field `ops`: {name:?} is not an op of {} ({})", self.decl.name, self.decl.ops.join(", "))
            })?;
            ops.push(Some(code));
        }
        ops.push(None);
        let mut cell = VertexCell { matrix, ops };
        self.wire_output(&mut cell);
        Ok(cell)
    }

    /// With `output: leaves`, sets the output's column: it reads the operation vertices no other
    /// operation vertex reads (the input, where there is no operation vertex).
    fn wire_output(&self, cell: &mut VertexCell) {
        if self.fam.output != VerticesOutput::Leaves {
            return;
        }
        let n = cell.len();
        for v in 0..n - 1 {
            let reads = (v + 1..n - 1).any(|w| cell.matrix[v][w]);
            cell.matrix[v][n - 1] = v > 0 && !reads;
        }
        if n == 2 {
            cell.matrix[0][1] = true;
        }
    }

    /// A random cell as NAS-Bench-101's random search draws one: every upper-triangular edge of a
    /// `max_vertices` matrix with probability ½, every operation vertex's op uniform, pruned; drawn
    /// again until it is a cell of the space (`None` after 100,000 draws: the space's cells are too
    /// rare for rejection sampling).
    pub fn sample(&self, rng: &mut crate::rng::Rng) -> Option<VertexCell> {
        let n = self.fam.max_vertices;
        let ops = self.decl.ops.len();
        for _ in 0..100_000 {
            let mut matrix = vec![vec![false; n]; n];
            for (i, row) in matrix.iter_mut().enumerate() {
                for e in row.iter_mut().skip(i + 1) {
                    *e = rng.below(2) == 1;
                }
            }
            let mut ops: Vec<Option<usize>> = (0..n).map(|_| Some(rng.below(ops))).collect();
            ops[0] = None;
            ops[n - 1] = None;
            let mut cell = VertexCell { matrix, ops };
            self.wire_output(&mut cell);
            if let Ok(p) = self.check(&cell) {
                return Some(p);
            }
        }
        None
    }

    /// The cells one change away from a pruned cell, as NAS-Bench-101's neighbourhood: one operation
    /// vertex's op changed, or one edge added or removed (the output's column too, unless the output
    /// reads the leaves), kept where the result is a cell of the space; each pruned result once, the
    /// cell itself left out.
    pub fn neighbours(&self, cell: &VertexCell) -> Vec<VertexCell> {
        let n = cell.len();
        let mut out: Vec<VertexCell> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        seen.insert(self.hash(cell));
        let mut push = |c: VertexCell, out: &mut Vec<VertexCell>| {
            if let Ok(p) = self.check(&c)
                && seen.insert(self.hash(&p))
            {
                out.push(p);
            }
        };
        for v in 1..n - 1 {
            for op in (0..self.decl.ops.len()).filter(|&o| Some(o) != cell.ops[v]) {
                let mut c = cell.clone();
                c.ops[v] = Some(op);
                push(c, &mut out);
            }
        }
        let last = if self.fam.output == VerticesOutput::Leaves { n - 1 } else { n };
        for i in 0..n {
            for j in i + 1..last {
                let mut c = cell.clone();
                c.matrix[i][j] = !c.matrix[i][j];
                self.wire_output(&mut c);
                push(c, &mut out);
            }
        }
        out
    }

    /// The pruned cell, or why it is not a cell of the space.
    pub fn check(&self, cell: &VertexCell) -> Result<VertexCell, String> {
        let p = cell.pruned().ok_or("the output is not reachable from the input")?;
        let f = &self.fam;
        if p.len() > f.max_vertices {
            return Err(format!("{} vertices after pruning, at most {}", p.len(), f.max_vertices));
        }
        if f.exact_vertices && p.len() != f.max_vertices {
            return Err(format!("{} vertices after pruning; every cell has exactly {}", p.len(), f.max_vertices));
        }
        if p.edges() > f.max_edges {
            return Err(format!("{} edges after pruning, at most {}", p.edges(), f.max_edges));
        }
        for v in 1..p.len() - 1 {
            let d = (0..v).filter(|&u| p.matrix[u][v]).count();
            if d < f.in_degree.0 || d > f.in_degree.1 {
                return Err(format!(
                    "vertex {v} reads {d} vertices; in_degree is [{}, {}]",
                    f.in_degree.0, f.in_degree.1
                ));
            }
        }
        Ok(p)
    }

    /// The cell with `zero` vertices removed and `identity` vertices contracted, pruned again (`None`:
    /// it computes nothing).
    pub fn function_form(&self, pruned: &VertexCell) -> Option<VertexCell> {
        let mut c = pruned.clone();
        loop {
            let n = c.len();
            let zero = (1..n - 1).find(|&v| c.ops[v].is_some() && c.ops[v] == self.decl.zero);
            let ident = (1..n - 1).find(|&v| c.ops[v].is_some() && c.ops[v] == self.decl.identity);
            if let Some(v) = zero {
                let keep: Vec<bool> = (0..n).map(|u| u != v).collect();
                c = c.keep(&keep).pruned()?;
            } else if let Some(v) = ident {
                for u in 0..v {
                    for w in v + 1..n {
                        if c.matrix[u][v] && c.matrix[v][w] {
                            c.matrix[u][w] = true;
                        }
                    }
                }
                let keep: Vec<bool> = (0..n).map(|u| u != v).collect();
                c = c.keep(&keep).pruned()?;
            } else {
                return Some(c);
            }
        }
    }

    /// A cell's NAS-Bench-101 graph hash (32 hex digits).
    pub fn hash(&self, cell: &VertexCell) -> String {
        let n = cell.len();
        let labels: Vec<i32> = (0..n)
            .map(|v| match cell.ops[v] {
                Some(code) => code as i32,
                None if v == 0 => -1,
                None => -2,
            })
            .collect();
        let mut raw = graph_fingerprint(n, |v, w| cell.matrix[v][w], &labels);
        // A summing output is another function than a concatenating one: its hash says so.
        if self.fam.output_merge == Merge::Sum {
            let mut h = Md5::new();
            h.update(raw);
            h.update(b"sum");
            raw = h.finalize().into();
        }
        to_hex(&raw)
    }

    /// The hash of a cell's function class: the hash of its [`VertexSpace::function_form`] (of the
    /// empty cell where it computes nothing).
    pub fn class_hash(&self, pruned: &VertexCell) -> String {
        match self.function_form(pruned) {
            Some(f) => self.hash(&f),
            None => "0".repeat(32),
        }
    }

    /// The text form (JSON, `input` and `output` at the ends).
    pub fn text(&self, cell: &VertexCell) -> String {
        let m: Vec<Vec<u8>> = cell.matrix.iter().map(|r| r.iter().map(|&e| e as u8).collect()).collect();
        let ops: Vec<&str> = (0..cell.len())
            .map(|v| match cell.ops[v] {
                Some(c) => self.decl.ops[c].as_str(),
                None if v == 0 => "input",
                None => "output",
            })
            .collect();
        serde_json::json!({"matrix": m, "ops": ops}).to_string()
    }
}
