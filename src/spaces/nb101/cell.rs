//! The NAS-Bench-101 cell: the validated, pruned model spec (nasbench's `ModelSpec`), its ops and its
//! neighbours.

use super::{bounded, hash};

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Most vertices a (pruned) cell may have, input and output included.
pub const MAX_VERTICES: usize = 7;
/// Unique cells in the space (NAS-Bench-101's count, which `enumerate` reproduces).
pub const NUM_CELLS: usize = 423_624;
/// Most edges a (pruned) cell may have.
pub const MAX_EDGES: usize = 9;

/// The operation at a vertex.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Input,
    Conv3x3,
    Conv1x1,
    MaxPool3x3,
    Output,
}

impl Op {
    /// The interior ops in NAS-Bench-101's order; the position is the op's hash label.
    pub const INTERIOR: [Op; 3] = [Op::Conv3x3, Op::Conv1x1, Op::MaxPool3x3];

    /// NAS-Bench-101's name of the op.
    pub fn name(self) -> &'static str {
        match self {
            Op::Input => "input",
            Op::Conv3x3 => "conv3x3-bn-relu",
            Op::Conv1x1 => "conv1x1-bn-relu",
            Op::MaxPool3x3 => "maxpool3x3",
            Op::Output => "output",
        }
    }

    /// Parses a NAS-Bench-101 op name.
    pub fn from_name(name: &str) -> Option<Op> {
        [Op::Input, Op::Conv3x3, Op::Conv1x1, Op::MaxPool3x3, Op::Output].into_iter().find(|op| op.name() == name)
    }

    /// The label `hash_module` uses: -1 input, -2 output, else the index in [`Op::INTERIOR`].
    pub fn hash_label(self) -> i32 {
        match self {
            Op::Input => -1,
            Op::Output => -2,
            Op::Conv3x3 => 0,
            Op::Conv1x1 => 1,
            Op::MaxPool3x3 => 2,
        }
    }

    /// The code NAR's feature tensor uses (input 1, conv1x1 2, conv3x3 3, maxpool 4, output 5).
    pub fn feature_code(self) -> u8 {
        match self {
            Op::Input => 1,
            Op::Conv1x1 => 2,
            Op::Conv3x3 => 3,
            Op::MaxPool3x3 => 4,
            Op::Output => 5,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a matrix and op list do not make a NAS-Bench-101 cell.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CellError {
    #[error("the adjacency matrix is empty")]
    Empty,
    #[error("the adjacency matrix is not square: row {row} has {len} entries, expected {expected}")]
    NotSquare { row: usize, len: usize, expected: usize },
    #[error("the operation list has {ops} entries but the matrix has {vertices} vertices")]
    OpsLength { ops: usize, vertices: usize },
    #[error("adjacency entry ({row}, {col}) is {value}; entries must be 0 or 1")]
    NotBinary { row: usize, col: usize, value: i64 },
    #[error(
        "the adjacency matrix is not upper-triangular: entry ({row}, {col}) is set (edges must go from a lower to a higher vertex)"
    )]
    NotUpperTriangular { row: usize, col: usize },
    #[error(
        "unknown operation {name:?} at vertex {vertex} (known: input, conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3, output)"
    )]
    UnknownOp { vertex: usize, name: String },
    #[error("vertex 0 must be \"input\", found {found:?}")]
    FirstNotInput { found: String },
    #[error("the last vertex ({vertex}) must be \"output\", found {found:?}")]
    LastNotOutput { vertex: usize, found: String },
    #[error("interior vertex {vertex} has op {found:?}; only the first vertex is input and the last is output")]
    MisplacedIo { vertex: usize, found: String },
    #[error("the cell is disconnected: no path leads from the input to the output")]
    Disconnected,
    #[error("the pruned cell has {vertices} vertices; at most {MAX_VERTICES} are allowed")]
    TooManyVertices { vertices: usize },
    #[error("the pruned cell has {edges} edges; at most {MAX_EDGES} are allowed")]
    TooManyEdges { edges: usize },
}

/// An unvalidated cell as it appears in files: a 0/1 matrix and op names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellSpec {
    #[serde(alias = "module_adjacency", alias = "adjacency", deserialize_with = "bounded::matrix")]
    pub matrix: Vec<Vec<i64>>,
    #[serde(alias = "module_operations", alias = "operations")]
    pub ops: Vec<String>,
}

/// A valid, pruned NAS-Bench-101 cell: 2..=7 vertices, every vertex on an input→output path, at most 9
/// edges, vertex 0 the input and the last vertex the output. Row `i` of `adj` has bit `j` set for the
/// edge i→j (always i < j).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cell {
    n: u8,
    pub(super) adj: [u8; MAX_VERTICES],
    ops: [Op; MAX_VERTICES],
}

/// The outcome of validating a spec: the pruned cell and the vertices pruning removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pruned {
    pub cell: Cell,
    /// Indices (in the spec) of the vertices removed because they are not on an input→output path.
    pub removed: Vec<usize>,
}

impl Cell {
    /// Validates and prunes a matrix and op names (NAS-Bench-101's `ModelSpec` rules).
    pub fn new(matrix: &[Vec<i64>], ops: &[impl AsRef<str>]) -> Result<Cell, CellError> {
        Self::prune(matrix, ops).map(|p| p.cell)
    }

    /// Like [`Cell::new`], also reporting which vertices pruning removed.
    pub fn prune(matrix: &[Vec<i64>], ops: &[impl AsRef<str>]) -> Result<Pruned, CellError> {
        let n = matrix.len();
        if n == 0 {
            return Err(CellError::Empty);
        }
        for (row, r) in matrix.iter().enumerate() {
            if r.len() != n {
                return Err(CellError::NotSquare { row, len: r.len(), expected: n });
            }
        }
        if ops.len() != n {
            return Err(CellError::OpsLength { ops: ops.len(), vertices: n });
        }
        for (row, r) in matrix.iter().enumerate() {
            for (col, &value) in r.iter().enumerate() {
                if value != 0 && value != 1 {
                    return Err(CellError::NotBinary { row, col, value });
                }
                if value == 1 && col <= row {
                    return Err(CellError::NotUpperTriangular { row, col });
                }
            }
        }
        let mut parsed = Vec::with_capacity(n);
        for (vertex, name) in ops.iter().enumerate() {
            let name = name.as_ref();
            let op = Op::from_name(name).ok_or_else(|| CellError::UnknownOp { vertex, name: name.to_string() })?;
            parsed.push(op);
        }
        if parsed[0] != Op::Input {
            return Err(CellError::FirstNotInput { found: ops[0].as_ref().to_string() });
        }
        if parsed[n - 1] != Op::Output {
            return Err(CellError::LastNotOutput { vertex: n - 1, found: ops[n - 1].as_ref().to_string() });
        }
        for (vertex, op) in parsed.iter().enumerate().take(n - 1).skip(1) {
            if matches!(op, Op::Input | Op::Output) {
                return Err(CellError::MisplacedIo { vertex, found: op.name().to_string() });
            }
        }
        // Pruning: keep the vertices reachable from the input that also reach the output.
        let edge = |i: usize, j: usize| matrix[i][j] == 1;
        let mut from_input = vec![false; n];
        from_input[0] = true;
        for j in 1..n {
            from_input[j] = (0..j).any(|i| from_input[i] && edge(i, j));
        }
        let mut to_output = vec![false; n];
        to_output[n - 1] = true;
        for i in (0..n - 1).rev() {
            to_output[i] = (i + 1..n).any(|j| to_output[j] && edge(i, j));
        }
        if !from_input[n - 1] {
            return Err(CellError::Disconnected);
        }
        let kept: Vec<usize> = (0..n).filter(|&v| from_input[v] && to_output[v]).collect();
        let removed: Vec<usize> = (0..n).filter(|&v| !(from_input[v] && to_output[v])).collect();
        if kept.len() > MAX_VERTICES {
            return Err(CellError::TooManyVertices { vertices: kept.len() });
        }
        let mut cell = Cell { n: kept.len() as u8, adj: [0; MAX_VERTICES], ops: [Op::Input; MAX_VERTICES] };
        for (a, &i) in kept.iter().enumerate() {
            cell.ops[a] = parsed[i];
            for (b, &j) in kept.iter().enumerate() {
                if edge(i, j) {
                    cell.adj[a] |= 1 << b;
                }
            }
        }
        let edges = cell.num_edges();
        if edges > MAX_EDGES {
            return Err(CellError::TooManyEdges { edges });
        }
        Ok(Pruned { cell, removed })
    }

    /// Builds a cell from parts already known to be valid and pruned (used by enumeration).
    pub(crate) fn from_parts(n: usize, adj: [u8; MAX_VERTICES], ops: [Op; MAX_VERTICES]) -> Cell {
        debug_assert!((2..=MAX_VERTICES).contains(&n));
        Cell { n: n as u8, adj, ops }
    }

    /// A compact byte form: vertex count, 7 adjacency rows (bit j of row i = edge i→j), 7 op codes
    /// (`Op` order: input, conv3x3, conv1x1, maxpool3x3, output; unused slots 0).
    pub fn to_bytes(&self) -> [u8; 15] {
        let mut out = [0u8; 15];
        out[0] = self.n;
        out[1..8].copy_from_slice(&self.adj);
        for (slot, op) in out[8..15].iter_mut().zip(self.ops()) {
            *slot = *op as u8;
        }
        out
    }

    /// Reads [`Cell::to_bytes`], checking every rule a cell must satisfy (and that it is pruned).
    pub fn from_bytes(bytes: &[u8; 15]) -> Result<Cell, String> {
        let n = bytes[0] as usize;
        if !(2..=MAX_VERTICES).contains(&n) {
            return Err(format!("vertex count {n} is outside 2..=7"));
        }
        let mut adj = [0u8; MAX_VERTICES];
        adj.copy_from_slice(&bytes[1..8]);
        for (i, &row) in adj.iter().enumerate() {
            // Row i may only point to vertices i+1..n.
            let allowed = if i + 1 < n { ((1u16 << n) - (1u16 << (i + 1))) as u8 } else { 0 };
            if row & !allowed != 0 {
                return Err(format!("adjacency row {i} has edges outside the upper triangle of {n} vertices"));
            }
        }
        let all = [Op::Input, Op::Conv3x3, Op::Conv1x1, Op::MaxPool3x3, Op::Output];
        let mut ops = [Op::Input; MAX_VERTICES];
        for (v, (&code, slot)) in bytes[8..8 + n].iter().zip(ops.iter_mut()).enumerate() {
            let op = *all.get(code as usize).ok_or_else(|| format!("op code {code} is unknown"))?;
            let expected_io = if v == 0 {
                Some(Op::Input)
            } else if v == n - 1 {
                Some(Op::Output)
            } else {
                None
            };
            match expected_io {
                Some(io) if op != io => return Err(format!("vertex {v} must be {io}, found {op}")),
                None if matches!(op, Op::Input | Op::Output) => return Err(format!("interior vertex {v} is {op}")),
                _ => {}
            }
            *slot = op;
        }
        let cell = Cell { n: n as u8, adj, ops };
        // Pruned: every vertex but the output has an out-edge, every vertex but the input an in-edge.
        let has_in = |v: usize| (0..v).any(|u| cell.has_edge(u, v));
        if (0..n - 1).any(|v| adj[v] == 0) || (1..n).any(|v| !has_in(v)) {
            return Err("a vertex is not on an input→output path".to_string());
        }
        if cell.num_edges() > MAX_EDGES {
            return Err(format!("{} edges; at most {MAX_EDGES} are allowed", cell.num_edges()));
        }
        Ok(cell)
    }

    /// Number of vertices, input and output included.
    pub fn num_vertices(&self) -> usize {
        self.n as usize
    }

    /// Number of edges.
    pub fn num_edges(&self) -> usize {
        self.adj[..self.num_vertices()].iter().map(|r| r.count_ones() as usize).sum()
    }

    /// Whether the edge i→j exists.
    pub fn has_edge(&self, i: usize, j: usize) -> bool {
        i < self.num_vertices() && j < self.num_vertices() && self.adj[i] >> j & 1 == 1
    }

    /// The op at each vertex.
    pub fn ops(&self) -> &[Op] {
        &self.ops[..self.num_vertices()]
    }

    /// The adjacency matrix as 0/1 rows.
    pub fn matrix(&self) -> Vec<Vec<u8>> {
        let n = self.num_vertices();
        (0..n).map(|i| (0..n).map(|j| self.has_edge(i, j) as u8).collect()).collect()
    }

    /// Op names, in NAS-Bench-101 spelling.
    pub fn op_names(&self) -> Vec<&'static str> {
        self.ops().iter().map(|o| o.name()).collect()
    }

    /// NAS-Bench-101's isomorphism-invariant hash of this cell (32 hex digits).
    pub fn hash(&self) -> String {
        hash::to_hex(&hash::fingerprint(self))
    }

    /// The unvalidated spec form of this cell (for JSON output).
    pub fn spec(&self) -> CellSpec {
        CellSpec {
            matrix: self.matrix().into_iter().map(|r| r.into_iter().map(i64::from).collect()).collect(),
            ops: self.op_names().into_iter().map(String::from).collect(),
        }
    }
}

impl fmt::Debug for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cell").field("matrix", &self.matrix()).field("ops", &self.op_names()).finish()
    }
}

impl TryFrom<&CellSpec> for Cell {
    type Error = CellError;
    fn try_from(spec: &CellSpec) -> Result<Cell, CellError> {
        Cell::new(&spec.matrix, &spec.ops)
    }
}

/// The valid cells one mutation away from `cell`: one interior vertex's op changed, or one edge i→j
/// (i < j) added or removed, pruned and validated. Isomorphic results are kept once (by hash), and any
/// result isomorphic to `cell` itself is left out.
pub fn neighbours(cell: &Cell) -> Vec<Cell> {
    let n = cell.num_vertices();
    let matrix: Vec<Vec<i64>> = cell.matrix().iter().map(|r| r.iter().map(|&x| i64::from(x)).collect()).collect();
    let ops = cell.op_names();
    let mut candidates = Vec::new();
    for v in 1..n.saturating_sub(1) {
        for op in Op::INTERIOR {
            if op.name() != ops[v] {
                let mut o = ops.clone();
                o[v] = op.name();
                candidates.extend(Cell::new(&matrix, &o).ok());
            }
        }
    }
    for i in 0..n {
        for j in i + 1..n {
            let mut m = matrix.clone();
            m[i][j] = 1 - m[i][j];
            candidates.extend(Cell::new(&m, &ops).ok());
        }
    }
    let own = hash::fingerprint(cell);
    let mut seen = std::collections::HashSet::from([own]);
    candidates.retain(|c| seen.insert(hash::fingerprint(c)));
    candidates
}
