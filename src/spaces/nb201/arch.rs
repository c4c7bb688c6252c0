//! The NAS-Bench-201 architecture: its ops, the cell's six edges, its index and string forms, its
//! equivalence classes, and the three image data sets its networks are built for.
//!
//! Edge order everywhere (string form, NAR's per-edge values, [`Arch::ops`]):
//! (0→1), (0→2), (1→2), (0→3), (1→3), (2→3).

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use thiserror::Error;

/// Number of architectures in the space.
pub const SPACE_SIZE: usize = 15_625;
/// Number of edges in a cell.
pub const NUM_EDGES: usize = 6;
/// Number of nodes in a cell.
pub const NUM_NODES: usize = 4;
/// `(from, to)` of each edge, in NAS-Bench-201's order.
pub const EDGES: [(usize, usize); NUM_EDGES] = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)];

/// The operation on an edge; the discriminant is NAR's op code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    None = 0,
    SkipConnect = 1,
    Conv1x1 = 2,
    Conv3x3 = 3,
    AvgPool3x3 = 4,
}

impl Op {
    /// All ops in code order.
    pub const ALL: [Op; 5] = [Op::None, Op::SkipConnect, Op::Conv1x1, Op::Conv3x3, Op::AvgPool3x3];

    /// NAS-Bench-201's name of the op.
    pub fn name(self) -> &'static str {
        match self {
            Op::None => "none",
            Op::SkipConnect => "skip_connect",
            Op::Conv1x1 => "nor_conv_1x1",
            Op::Conv3x3 => "nor_conv_3x3",
            Op::AvgPool3x3 => "avg_pool_3x3",
        }
    }

    /// The op's code (0..=4).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The op with this code.
    pub fn from_code(code: u8) -> Option<Op> {
        Op::ALL.get(code as usize).copied()
    }

    /// Parses a NAS-Bench-201 op name.
    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a string or matrix is not a NAS-Bench-201 architecture.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ArchError {
    #[error("expected 3 nodes separated by '+', found {found} in {text:?}")]
    NodeCount { found: usize, text: String },
    #[error("node {node} must be written as '|op~i|…|' (starting and ending with '|'), found {part:?}")]
    NodeSyntax { node: usize, part: String },
    #[error("node {node} must have {expected} incoming edges, found {found}")]
    EdgeCount { node: usize, expected: usize, found: usize },
    #[error("edge {edge:?} of node {node} must be written as 'op~i'")]
    EdgeSyntax { node: usize, edge: String },
    #[error(
        "unknown operation {name:?} on edge into node {node} (known: none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3)"
    )]
    UnknownOp { node: usize, name: String },
    #[error("edge {edge:?} into node {node} must come from node {expected}")]
    WrongSource { node: usize, edge: String, expected: usize },
    #[error("the cell matrix must be 4×4, found {rows} rows")]
    MatrixRows { rows: usize },
    #[error("row {row} of the cell matrix has {len} entries, expected 4")]
    MatrixCols { row: usize, len: usize },
    #[error("cell matrix entry ({row}, {col}) is {value}; op codes are 0..=4")]
    BadCode { row: usize, col: usize, value: i64 },
    #[error("cell matrix entry ({row}, {col}) is {value} but must be 0: NAS-Bench-201 has no edge {row}→{col}")]
    NotAnEdge { row: usize, col: usize, value: i64 },
    #[error("index {index} is out of range: NAS-Bench-201 has indices 0..{SPACE_SIZE}")]
    BadIndex { index: usize },
    #[error("{text:?} is not an index: NAS-Bench-201 indices are written as digits, 0..{SPACE_SIZE}")]
    SignedIndex { text: String },
    #[error("index {text} is out of range: NAS-Bench-201 has indices 0..{SPACE_SIZE}")]
    HugeIndex { text: String },
}

/// A NAS-Bench-201 architecture: one op per edge.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arch {
    ops: [Op; NUM_EDGES],
}

/// The NAS-Bench-201 index order: line i holds the six op codes of architecture i. Taken from the
/// public NAS-Bench-201 release (the `index` column of its architecture table); checked in the tests
/// against `data/nb201/nb201_accuracy.csv`.
const INDEX_ORDER: &str = include_str!("index_order.txt");

struct IndexTables {
    code_of_index: Vec<u16>,
    index_of_code: Vec<u16>,
}

fn tables() -> &'static IndexTables {
    static TABLES: OnceLock<IndexTables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let code_of_index: Vec<u16> =
            INDEX_ORDER.lines().map(|line| line.bytes().fold(0u16, |acc, d| acc * 5 + u16::from(d - b'0'))).collect();
        assert_eq!(code_of_index.len(), SPACE_SIZE, "index_order.txt is incomplete");
        let mut index_of_code = vec![u16::MAX; SPACE_SIZE];
        for (i, &c) in code_of_index.iter().enumerate() {
            index_of_code[c as usize] = i as u16;
        }
        assert!(index_of_code.iter().all(|&i| i != u16::MAX), "index_order.txt repeats an architecture");
        IndexTables { code_of_index, index_of_code }
    })
}

/// For each [`Arch::code`], the code of its canonical form (computed once over the space).
fn canonical_codes() -> &'static [u16] {
    static CANONICAL: OnceLock<Vec<u16>> = OnceLock::new();
    CANONICAL.get_or_init(|| {
        let mut best: std::collections::HashMap<String, Arch> = std::collections::HashMap::new();
        let key = |a: &Arch| (a.ops.iter().filter(|&&o| o != Op::None).count(), a.index());
        for a in Arch::all() {
            let slot = best.entry(a.function()).or_insert(a);
            if key(&a) < key(slot) {
                *slot = a;
            }
        }
        (0..SPACE_SIZE as u16).map(|c| best[&Arch::from_code(c).function()].code()).collect()
    })
}

/// How many distinct functions the space's cells compute (the number of canonical forms).
pub fn distinct_functions() -> usize {
    let mut codes = canonical_codes().to_vec();
    codes.sort_unstable();
    codes.dedup();
    codes.len()
}

impl Arch {
    /// An architecture from its six edge ops in NAS-Bench-201 edge order.
    pub fn new(ops: [Op; NUM_EDGES]) -> Arch {
        Arch { ops }
    }

    /// The six edge ops in NAS-Bench-201 edge order.
    /// The 24 architectures with exactly one edge's op changed, edge by edge in op-code order.
    pub fn neighbours(&self) -> Vec<Arch> {
        let mut out = Vec::with_capacity(NUM_EDGES * (Op::ALL.len() - 1));
        for e in 0..NUM_EDGES {
            for op in Op::ALL {
                if op != self.ops[e] {
                    let mut ops = self.ops;
                    ops[e] = op;
                    out.push(Arch { ops });
                }
            }
        }
        out
    }

    pub fn ops(&self) -> [Op; NUM_EDGES] {
        self.ops
    }

    /// The base-5 number of the op codes, first edge most significant (0..15,625): a dense key that
    /// does not depend on the benchmark's index order.
    pub fn code(&self) -> u16 {
        self.ops.iter().fold(0u16, |acc, op| acc * 5 + u16::from(op.code()))
    }

    /// The architecture with this [`Arch::code`].
    pub fn from_code(code: u16) -> Arch {
        let mut ops = [Op::None; NUM_EDGES];
        let mut rest = code;
        for slot in ops.iter_mut().rev() {
            *slot = Op::ALL[(rest % 5) as usize];
            rest /= 5;
        }
        Arch { ops }
    }

    /// The architecture's index in NAS-Bench-201.
    pub fn index(&self) -> usize {
        tables().index_of_code[self.code() as usize] as usize
    }

    /// The architecture at NAS-Bench-201 index `index`.
    pub fn from_index(index: usize) -> Result<Arch, ArchError> {
        let code = *tables().code_of_index.get(index).ok_or(ArchError::BadIndex { index })?;
        Ok(Arch::from_code(code))
    }

    /// The 4×4 cell matrix: entry (i, j) is the op code of edge i→j, 0 elsewhere.
    pub fn matrix(&self) -> [[u8; NUM_NODES]; NUM_NODES] {
        let mut m = [[0u8; NUM_NODES]; NUM_NODES];
        for (&(i, j), op) in EDGES.iter().zip(self.ops) {
            m[i][j] = op.code();
        }
        m
    }

    /// Reads the 4×4 cell matrix form.
    pub fn from_matrix(matrix: &[Vec<i64>]) -> Result<Arch, ArchError> {
        if matrix.len() != NUM_NODES {
            return Err(ArchError::MatrixRows { rows: matrix.len() });
        }
        for (row, r) in matrix.iter().enumerate() {
            if r.len() != NUM_NODES {
                return Err(ArchError::MatrixCols { row, len: r.len() });
            }
            for (col, &value) in r.iter().enumerate() {
                if col <= row && value != 0 {
                    return Err(ArchError::NotAnEdge { row, col, value });
                }
                if !(0..=4).contains(&value) {
                    return Err(ArchError::BadCode { row, col, value });
                }
            }
        }
        let mut ops = [Op::None; NUM_EDGES];
        for (slot, &(i, j)) in ops.iter_mut().zip(&EDGES) {
            *slot = Op::from_code(matrix[i][j] as u8).expect("checked above");
        }
        Ok(Arch { ops })
    }

    /// The function the cell computes, as a formal expression of its input `x`: the output node's
    /// terms, sorted and joined by `+` (docs/design.md §1, "Equivalent cells"). `skip_connect` is the
    /// identity, `none` is zero, a node is the sum of its incoming terms (so order and grouping of a
    /// sum do not matter), an op applied to a zero node is zero, and `avg_pool_3x3` (no weights,
    /// linear) distributes over a sum; each convolution keeps its own weights, so `conv(a) + conv(a)`
    /// stays two terms. Cells with the same expression are the same trainable function; the all-zero
    /// cell's expression is empty.
    pub fn function(&self) -> String {
        let mut nodes: [Vec<String>; NUM_NODES] = Default::default();
        nodes[0] = vec!["x".to_string()];
        for j in 1..NUM_NODES {
            let mut terms = Vec::new();
            for (&(i, jj), &op) in EDGES.iter().zip(&self.ops) {
                if jj != j || nodes[i].is_empty() {
                    continue;
                }
                match op {
                    Op::None => {}
                    Op::SkipConnect => terms.extend(nodes[i].iter().cloned()),
                    Op::AvgPool3x3 => terms.extend(nodes[i].iter().map(|t| format!("avg({t})"))),
                    Op::Conv1x1 | Op::Conv3x3 => {
                        let name = if op == Op::Conv1x1 { "conv1" } else { "conv3" };
                        terms.push(format!("{name}({})", nodes[i].join("+")));
                    }
                }
            }
            terms.sort_unstable();
            nodes[j] = terms;
        }
        nodes[NUM_NODES - 1].join("+")
    }

    /// The cell's canonical form: of the cells computing its [`Arch::function`], the one with the
    /// most `none` edges, then the lowest NAS-Bench-201 index. Equivalent cells share it.
    pub fn canonical(&self) -> Arch {
        Arch::from_code(canonical_codes()[self.code() as usize])
    }

    /// Whether two cells compute the same function.
    pub fn equivalent(&self, other: &Arch) -> bool {
        self.canonical() == other.canonical()
    }

    /// How many edges carry each op, in code order (NAR's `edges_type_counts`).
    pub fn op_counts(&self) -> [usize; 5] {
        let mut counts = [0; 5];
        self.ops.iter().for_each(|op| counts[op.code() as usize] += 1);
        counts
    }

    /// Every architecture in NAS-Bench-201 index order.
    pub fn all() -> Vec<Arch> {
        tables().code_of_index.iter().map(|&c| Arch::from_code(c)).collect()
    }
}

impl fmt::Display for Arch {
    /// The NAS-Bench-201 string, e.g. `|nor_conv_3x3~0|+|none~0|skip_connect~1|+|…~0|…~1|…~2|`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for node in 1..NUM_NODES {
            if node > 1 {
                f.write_str("+")?;
            }
            f.write_str("|")?;
            for (e, &(i, j)) in EDGES.iter().enumerate() {
                if j == node {
                    write!(f, "{}~{}|", self.ops[e], i)?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Arch({self})")
    }
}

impl FromStr for Arch {
    type Err = ArchError;

    fn from_str(text: &str) -> Result<Arch, ArchError> {
        let nodes: Vec<&str> = text.trim().split('+').collect();
        if nodes.len() != NUM_NODES - 1 {
            return Err(ArchError::NodeCount { found: nodes.len(), text: text.to_string() });
        }
        let mut ops = [Op::None; NUM_EDGES];
        let mut e = 0;
        for (k, part) in nodes.iter().enumerate() {
            let node = k + 1;
            let inner = part
                .strip_prefix('|')
                .and_then(|p| p.strip_suffix('|'))
                .ok_or_else(|| ArchError::NodeSyntax { node, part: part.to_string() })?;
            let edges: Vec<&str> = inner.split('|').collect();
            if edges.len() != node {
                return Err(ArchError::EdgeCount { node, expected: node, found: edges.len() });
            }
            for (source, edge) in edges.iter().enumerate() {
                let (name, from) =
                    edge.split_once('~').ok_or_else(|| ArchError::EdgeSyntax { node, edge: edge.to_string() })?;
                let op = Op::from_name(name).ok_or_else(|| ArchError::UnknownOp { node, name: name.to_string() })?;
                if from.parse::<usize>().ok() != Some(source) {
                    return Err(ArchError::WrongSource { node, edge: edge.to_string(), expected: source });
                }
                ops[e] = op;
                e += 1;
            }
        }
        Ok(Arch { ops })
    }
}

/// The three image datasets NAS-Bench-201 trains every architecture on; each gives a different network
/// (input resolution and classifier size). NAS-Bench-101 trains on CIFAR-10 only.
///
/// Written `cifar10`, `cifar100`, `imagenet16` (NAS-Bench-201's `cifar10-valid` and `ImageNet16-120`
/// are read too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageDataset {
    #[serde(alias = "cifar10-valid")]
    Cifar10,
    Cifar100,
    #[serde(alias = "ImageNet16-120")]
    ImageNet16,
}

impl ImageDataset {
    pub const ALL: [ImageDataset; 3] = [ImageDataset::Cifar10, ImageDataset::Cifar100, ImageDataset::ImageNet16];

    /// The short name used on nar's command line and in NAR's accuracy keys (`cifar10_val_acc`, …).
    pub fn name(self) -> &'static str {
        match self {
            ImageDataset::Cifar10 => "cifar10",
            ImageDataset::Cifar100 => "cifar100",
            ImageDataset::ImageNet16 => "imagenet16",
        }
    }

    /// NAS-Bench-201's name of the network setting, used as the prefix of NAR's cost keys.
    pub fn nar_key(self) -> &'static str {
        match self {
            ImageDataset::Cifar10 => "cifar10-valid",
            ImageDataset::Cifar100 => "cifar100",
            ImageDataset::ImageNet16 => "ImageNet16-120",
        }
    }

    /// Parses either spelling.
    pub fn from_name(name: &str) -> Option<ImageDataset> {
        ImageDataset::ALL.into_iter().find(|d| d.name() == name || d.nar_key() == name)
    }

    /// Input side length in pixels.
    pub fn resolution(self) -> u64 {
        match self {
            ImageDataset::Cifar10 | ImageDataset::Cifar100 => 32,
            ImageDataset::ImageNet16 => 16,
        }
    }

    /// Number of classes.
    pub fn classes(self) -> u64 {
        match self {
            ImageDataset::Cifar10 => 10,
            ImageDataset::Cifar100 => 100,
            ImageDataset::ImageNet16 => 120,
        }
    }
}

impl fmt::Display for ImageDataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
