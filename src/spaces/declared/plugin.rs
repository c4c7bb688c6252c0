//! A declared space as the registry's third space ([`Declared`], `SpaceKind::Declared`): the one code
//! path every command, predictor and search takes on a built-in space, on the cells of a declaration
//! (docs/design.md §1, "Declared spaces").
//!
//! The generic pipeline reaches a space through a type (`SearchSpace` and the traits above it), not a
//! value, so a declared space is the declaration **active in the process**: [`activate`] sets it once
//! — from `--space FILE.yaml`, from a dataset store (which carries its declaration's text), from a
//! run folder (`space.yaml`) — and every [`Declared`] function reads it. One process holds one
//! declared space: activating another is refused naming both (a dataset or journal of another
//! declaration is refused the same way).
//!
//! - [`DArch`], an architecture, is a handle to an interned cell: `Copy` as the pipeline needs, equal
//!   exactly when the cells are (a vertices-family cell is interned pruned).
//! - [`DId`], its identity: an edges-family cell's index in the mixed-radix order of its ops (with
//!   chosen inputs, of its `(source, op)` pairs), a vertices-family cell's NAS-Bench-101 graph hash
//!   (shared by isomorphic cells).
//! - A space too large to list (the DARTS cell; a vertices family past 7 vertices) is searched within
//!   its tables' cells where a table names them, else within a fixed uniform sample of
//!   [`SAMPLED_POOL`] of its cells (seed 0); its function classes are not computed (each cell is its
//!   own query).
//! - [`DTask`], the network: a task of the declaration. A declared space has no cost model: the
//!   `renas` and `cost` feature sets and the transformer, which read one, are refused; a cost is a
//!   column of the table (`--max latency=…`, `--objectives val,params` with a `params` column).

use std::collections::HashMap;
use std::fmt;
use std::sync::{OnceLock, RwLock};

use super::edges::{Classes, EdgeCell};
use super::vertices::VertexCell;
use super::{DeclaredSpace, EdgeSpace};
use crate::benchmark::Benchmark;
use crate::cost::NetworkCost;
use crate::encode::FeatureTensor;
use crate::features::Featurize;
use crate::features::graph::{MAX_VERTICES as GRAPH_VERTICES, OpGraph};
use crate::rng::Rng;
use crate::space::{AccuracyScale, Enumerable, SearchSpace, SpaceKind, Task};
use crate::stats::Shape;

/// The space declared in a file, as the registry's plug-in.
pub struct Declared;

/// An architecture of the active declared space: a handle to its interned cell.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct DArch(u32);

/// The identity of a declared space's architecture (index or graph hash, see the module docs).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct DId(pub u128);

/// A task of the active declaration, by position: the network an architecture is built into.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DTask(u16);

/// A cell of either family.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
enum Cell {
    Edge(EdgeCell),
    Vertex(VertexCell),
}

#[derive(Default)]
struct Interner {
    cells: Vec<Cell>,
    handles: HashMap<Cell, u32>,
}

/// The active declaration and what is derived from it once.
pub struct Active {
    pub space: DeclaredSpace,
    tasks: &'static [Task],
    graph_ops: &'static [&'static str],
    /// Graph-op code of each op (`None`: the zero op, which is no operation).
    graph_code: Vec<Option<u8>>,
    cells: RwLock<Interner>,
    all: OnceLock<Vec<(DArch, DId)>>,
    /// Whether `all` lists the space (not a sample of it).
    listed: OnceLock<bool>,
    /// Each enumerated cell's class representative (the canonical cell of its function class).
    canonical: OnceLock<HashMap<DArch, DArch>>,
}

static ACTIVE: OnceLock<&'static Active> = OnceLock::new();

/// The most columns the paths feature set of a declared space has (see `max_path_len`).
pub const MAX_PATH_COLUMNS: usize = 1_000;

/// How many cells of a space too large to list its pool holds, drawn uniformly with seed 0.
pub const SAMPLED_POOL: usize = 20_000;

/// Makes `space` the process's declared space; the same declaration again is a no-op, another one is
/// refused naming both.
pub fn activate(space: DeclaredSpace) -> Result<&'static Active, String> {
    let d = space.declaration();
    if let Some(a) = ACTIVE.get() {
        let on = a.space.declaration();
        if on.sha256 == d.sha256 {
            return Ok(a);
        }
        return Err(format!(
            "{} (declaration {}, sha256 {}) is not the declared space in use: {} (declaration {}, sha256 {}); one process works on one declared space",
            d.source.display(),
            d.name,
            &d.sha256[..12],
            on.source.display(),
            on.name,
            &on.sha256[..12]
        ));
    }
    let tasks: &'static [Task] =
        Box::leak(d.tasks.iter().map(|t| Task::named(t)).collect::<Vec<_>>().into_boxed_slice());
    let mut graph_ops: Vec<&'static str> = Vec::new();
    let mut graph_code = Vec::new();
    for (code, op) in d.ops.iter().enumerate() {
        if Some(code) == d.zero {
            graph_code.push(None);
        } else {
            graph_code.push(Some(graph_ops.len() as u8));
            graph_ops.push(Box::leak(op.clone().into_boxed_str()));
        }
    }
    let active = Box::leak(Box::new(Active {
        space,
        tasks,
        graph_ops: Box::leak(graph_ops.into_boxed_slice()),
        graph_code,
        cells: RwLock::new(Interner::default()),
        all: OnceLock::new(),
        listed: OnceLock::new(),
        canonical: OnceLock::new(),
    }));
    // Another thread may have won the race: its declaration is checked as above.
    match ACTIVE.set(active) {
        Ok(()) => Ok(active),
        Err(_) => activate(active.space.clone()),
    }
}

/// Reads the declaration at `path` and activates it.
pub fn activate_file(path: &std::path::Path) -> Result<&'static Active, String> {
    activate(DeclaredSpace::load(path)?)
}

/// Activates the declaration whose text a store or run folder kept (`source` names it in errors).
pub fn activate_text(text: &str, source: &std::path::Path) -> Result<&'static Active, String> {
    activate(DeclaredSpace::of(super::Declaration::parse(text, source)?))
}

/// The active declaration, if any.
pub fn active() -> Option<&'static Active> {
    ACTIVE.get().copied()
}

/// The active declaration: every path into the pipeline activates one first (`--space FILE.yaml`, a
/// store, a run folder), so its absence is a bug, not an input.
fn the() -> &'static Active {
    active().expect("a declared space is in use (activated by --space FILE.yaml, a dataset or a run)")
}

impl Active {
    pub fn declaration(&self) -> &super::Declaration {
        self.space.declaration()
    }

    fn intern(&self, cell: Cell) -> DArch {
        if let Some(&h) = self.cells.read().unwrap_or_else(|e| e.into_inner()).handles.get(&cell) {
            return DArch(h);
        }
        let mut w = self.cells.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&h) = w.handles.get(&cell) {
            return DArch(h);
        }
        let h = u32::try_from(w.cells.len()).expect("fewer than 2^32 distinct cells in one process");
        w.cells.push(cell.clone());
        w.handles.insert(cell, h);
        DArch(h)
    }

    fn cell(&self, a: DArch) -> Cell {
        self.cells.read().unwrap_or_else(|e| e.into_inner()).cells[a.0 as usize].clone()
    }

    /// Parses an architecture's text form; why not, where it is not one of the space's.
    pub fn parse(&self, text: &str) -> Result<DArch, String> {
        Ok(match &self.space {
            DeclaredSpace::Edges(s) => self.intern(Cell::Edge(s.parse(text)?)),
            DeclaredSpace::Vertices(s) => self.intern(Cell::Vertex(s.check(&s.parse(text)?)?)),
        })
    }

    /// The text form of an architecture.
    pub fn text(&self, a: DArch) -> String {
        match (&self.space, self.cell(a)) {
            (DeclaredSpace::Edges(s), Cell::Edge(c)) => s.text(&c),
            (DeclaredSpace::Vertices(s), Cell::Vertex(c)) => s.text(&c),
            _ => unreachable!("cells are of the active family"),
        }
    }

    fn id(&self, a: DArch) -> DId {
        match (&self.space, self.cell(a)) {
            (DeclaredSpace::Edges(s), Cell::Edge(c)) => DId(edge_code(s, &c)),
            (DeclaredSpace::Vertices(s), Cell::Vertex(c)) => DId(hex_u128(&s.hash(&c))),
            _ => unreachable!("cells are of the active family"),
        }
    }

    fn is_vertices(&self) -> bool {
        matches!(self.space, DeclaredSpace::Vertices(_))
    }

    /// Every cell with its id, in the space's order (edges: index; vertices: hash); a space too large
    /// to list: [`SAMPLED_POOL`] cells drawn uniformly with seed 0, each once, in id order.
    fn all(&self) -> &[(DArch, DId)] {
        self.all.get_or_init(|| {
            let listed: Option<Vec<Cell>> = match &self.space {
                DeclaredSpace::Edges(s) if s.enumerable() => Some(s.all().into_iter().map(Cell::Edge).collect()),
                DeclaredSpace::Edges(_) => None,
                DeclaredSpace::Vertices(s) => {
                    s.enumerate().ok().map(|entries| entries.into_iter().map(|e| Cell::Vertex(e.cell)).collect())
                }
            };
            let _ = self.listed.set(listed.is_some());
            let cells: Vec<Cell> = listed.unwrap_or_else(|| {
                let mut rng = Rng::new(0);
                (0..SAMPLED_POOL)
                    .map_while(|_| match &self.space {
                        DeclaredSpace::Edges(s) => Some(Cell::Edge(s.sample(&mut rng))),
                        DeclaredSpace::Vertices(s) => s.sample(&mut rng).map(Cell::Vertex),
                    })
                    .collect()
            });
            let mut all: Vec<(DArch, DId)> =
                cells.into_iter().map(|c| self.intern(c)).map(|a| (a, self.id(a))).collect();
            all.sort_by_key(|&(_, id)| id);
            all.dedup_by_key(|&mut (_, id)| id);
            all
        })
    }

    /// Whether every architecture can be listed.
    pub fn enumerable(&self) -> bool {
        match &self.space {
            DeclaredSpace::Edges(s) => s.enumerable(),
            DeclaredSpace::Vertices(_) => {
                self.all();
                self.listed.get().copied().unwrap_or(false)
            }
        }
    }

    /// Each enumerated cell's class representative: edges, the class's cell with the most zero edges,
    /// then the lowest index ([`Classes`]); vertices, the class's cell with the least hash.
    fn canonical_map(&self) -> &HashMap<DArch, DArch> {
        self.canonical.get_or_init(|| {
            let all = self.all();
            let mut map = HashMap::with_capacity(all.len());
            match &self.space {
                DeclaredSpace::Edges(s) => {
                    let cells: Vec<EdgeCell> = all
                        .iter()
                        .map(|&(a, _)| match self.cell(a) {
                            Cell::Edge(c) => c,
                            Cell::Vertex(_) => unreachable!(),
                        })
                        .collect();
                    let classes = Classes::of(s, &cells);
                    for (i, &(a, _)) in all.iter().enumerate() {
                        map.insert(a, all[classes.canonical[classes.class[i] as usize]].0);
                    }
                }
                DeclaredSpace::Vertices(s) => {
                    let mut first: HashMap<String, DArch> = HashMap::new();
                    for &(a, _) in all {
                        let Cell::Vertex(c) = self.cell(a) else { unreachable!() };
                        let rep = *first.entry(s.class_hash(&c)).or_insert(a);
                        map.insert(a, rep);
                    }
                }
            }
            map
        })
    }
}

/// An edges-family cell's code: the full family's mixed-radix index; with chosen inputs, the
/// mixed-radix number of its `(source, op)` pairs (node j's pairs in radix j × ops), the first most
/// significant.
fn edge_code(s: &EdgeSpace, c: &EdgeCell) -> u128 {
    if s.fam.inputs_per_node.is_none() {
        return s.index(c);
    }
    let ops = s.decl.ops.len() as u128;
    let mut code: u128 = 0;
    for (n, pairs) in c.nodes.iter().enumerate() {
        let j = (s.fam.inputs + n) as u128;
        for &(src, op) in pairs {
            code = code * j * ops + src as u128 * ops + op as u128;
        }
    }
    code
}

/// The cell of an [`edge_code`], where it is one of the space's.
fn edge_cell(s: &EdgeSpace, mut code: u128) -> Option<EdgeCell> {
    let Some(k) = s.fam.inputs_per_node else {
        return s.size().is_some_and(|n| code < n).then(|| s.from_index(code));
    };
    let ops = s.decl.ops.len() as u128;
    let mut nodes: Vec<Vec<(usize, usize)>> = vec![Vec::new(); s.fam.nodes - s.fam.inputs];
    for n in (0..nodes.len()).rev() {
        let j = (s.fam.inputs + n) as u128;
        let mut pairs = Vec::with_capacity(k);
        for _ in 0..k {
            let pair = code % (j * ops);
            code /= j * ops;
            pairs.push(((pair / ops) as usize, (pair % ops) as usize));
        }
        pairs.reverse();
        nodes[n] = pairs;
    }
    let cell = EdgeCell { nodes };
    (code == 0 && s.parse(&s.text(&cell)).is_ok_and(|p| p == cell)).then_some(cell)
}

fn hex_u128(hex: &str) -> u128 {
    u128::from_str_radix(hex, 16).expect("a hash is 32 hex digits")
}

impl fmt::Display for DId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if active().is_some_and(Active::is_vertices) { write!(f, "{:032x}", self.0) } else { write!(f, "{}", self.0) }
    }
}

/// Bytes of a vertices-family cell in the store: the vertex count, each vertex's op (255: none), each
/// row's successor bits.
fn vertex_bytes(max_vertices: usize) -> usize {
    1 + max_vertices + 2 * max_vertices
}

impl SearchSpace for Declared {
    type Arch = DArch;
    type Id = DId;
    type Network = DTask;
    const KIND: SpaceKind = SpaceKind::Declared;

    fn accuracy_scale() -> AccuracyScale {
        match the().declaration().accuracy {
            super::declaration::AccuracyScale::Percent => AccuracyScale::Percent,
            super::declaration::AccuracyScale::Fraction => AccuracyScale::Fraction,
        }
    }
    /// The enumerated count; a space too large to list, the most a dataset may hold.
    fn size() -> usize {
        let a = the();
        if a.enumerable() { a.all().len() } else { usize::MAX }
    }
    /// The declaration's tasks (none while no declaration is active: the built-in spaces' listings).
    fn tasks() -> &'static [Task] {
        active().map_or(&[], |a| a.tasks)
    }
    fn arch_bytes() -> usize {
        match &the().space {
            DeclaredSpace::Edges(_) => 16,
            DeclaredSpace::Vertices(s) => 16 + vertex_bytes(s.fam.max_vertices),
        }
    }
    fn id_column() -> &'static str {
        if the().is_vertices() { "hash" } else { "arch_index" }
    }
    fn arch_column_names() -> &'static [&'static str] {
        &["arch"]
    }
    fn has_cost_model() -> bool {
        false
    }
    fn listed() -> bool {
        the().enumerable()
    }
    fn declaration() -> Option<crate::space::DeclarationText> {
        active().map(|a| {
            let d = a.declaration();
            crate::space::DeclarationText {
                source: d.source.display().to_string(),
                sha256: d.sha256.clone(),
                text: d.text.clone(),
            }
        })
    }
    fn id(arch: &DArch) -> DId {
        the().id(*arch)
    }
    fn parse_id(text: &str) -> Result<DId, String> {
        let a = the();
        let t = text.trim();
        match &a.space {
            DeclaredSpace::Edges(s) => {
                let i: u128 = t
                    .parse()
                    .ok()
                    .filter(|_| t.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| format!("{text:?} is not an index of {} (digits)", s.decl.name))?;
                match edge_cell(s, i) {
                    Some(_) => Ok(DId(i)),
                    None => Err(format!("{i} is not the index of a cell of {}", s.decl.name)),
                }
            }
            DeclaredSpace::Vertices(s) => {
                if t.len() != 32 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!("{text:?} is not a cell hash of {} (32 hex digits)", s.decl.name));
                }
                Ok(DId(hex_u128(t)))
            }
        }
    }
    fn parse_arch_columns(values: &[&str]) -> Result<DArch, String> {
        the().parse(values[0])
    }
    fn arch_columns(arch: &DArch) -> Vec<String> {
        vec![the().text(*arch)]
    }
    fn network(task: Task) -> Result<DTask, String> {
        let a = the();
        a.tasks.iter().position(|t| *t == task).map(|i| DTask(i as u16)).ok_or_else(|| Self::unknown_task(task))
    }
    fn unknown_task(task: Task) -> String {
        let d = the().declaration();
        format!("{} has no task {task}; its tasks: {}", d.name, d.tasks.join(", "))
    }
    fn neighbours(arch: &DArch) -> Vec<DArch> {
        let a = the();
        match (&a.space, a.cell(*arch)) {
            (DeclaredSpace::Edges(s), Cell::Edge(c)) => {
                s.neighbours(&c).into_iter().map(|n| a.intern(Cell::Edge(n))).collect()
            }
            (DeclaredSpace::Vertices(s), Cell::Vertex(c)) => {
                s.neighbours(&c).into_iter().map(|n| a.intern(Cell::Vertex(n))).collect()
            }
            _ => unreachable!("cells are of the active family"),
        }
    }
    /// The canonical cell of the architecture's function class, where the space is enumerated (a
    /// space too large to list: the cell itself).
    fn canonical(arch: &DArch) -> DArch {
        let a = the();
        if !a.enumerable() {
            return *arch;
        }
        match a.canonical_map().get(arch) {
            Some(&c) => c,
            // A vertices cell is interned as written; its listed isomorph carries the class.
            None => a
                .all()
                .binary_search_by_key(&a.id(*arch), |&(_, id)| id)
                .ok()
                .and_then(|i| a.canonical_map().get(&a.all()[i].0).copied())
                .unwrap_or(*arch),
        }
    }
    fn example() -> DArch {
        let a = the();
        match &a.space {
            DeclaredSpace::Edges(s) => a.intern(Cell::Edge(s.from_index(0))),
            DeclaredSpace::Vertices(s) => {
                let cell = s.sample(&mut Rng::new(0)).expect("the declaration was checked to have cells");
                a.intern(Cell::Vertex(cell))
            }
        }
    }
    fn write_arch(arch: &DArch, id: &DId, out: &mut Vec<u8>) {
        let a = the();
        out.extend_from_slice(&id.0.to_le_bytes());
        if let (DeclaredSpace::Vertices(s), Cell::Vertex(c)) = (&a.space, a.cell(*arch)) {
            let v = s.fam.max_vertices;
            let n = c.ops.len();
            out.push(n as u8);
            for i in 0..v {
                out.push(c.ops.get(i).copied().flatten().map_or(255, |o| o as u8));
            }
            for i in 0..v {
                let bits: u16 = (0..n).filter(|&j| i < n && c.matrix[i][j]).fold(0, |b, j| b | (1 << j));
                out.extend_from_slice(&bits.to_le_bytes());
            }
        }
    }
    fn read_arch(bytes: &[u8]) -> Result<(DArch, DId), String> {
        let a = the();
        let id = DId(u128::from_le_bytes(bytes[..16].try_into().expect("16 bytes")));
        match &a.space {
            DeclaredSpace::Edges(s) => match edge_cell(s, id.0) {
                Some(cell) => Ok((a.intern(Cell::Edge(cell)), id)),
                None => Err(format!("architecture index {} is not a cell of the space", id.0)),
            },
            DeclaredSpace::Vertices(s) => {
                let v = s.fam.max_vertices;
                let b = &bytes[16..];
                let n = b[0] as usize;
                if !(2..=v).contains(&n) {
                    return Err(format!("a cell of {n} vertices (2 to {v})"));
                }
                let ops: Vec<Option<usize>> = b[1..1 + n].iter().map(|&o| (o != 255).then_some(o as usize)).collect();
                if ops[0].is_some()
                    || ops[n - 1].is_some()
                    || ops[1..n - 1].iter().any(|o| o.is_none_or(|o| o >= s.decl.ops.len()))
                {
                    return Err("an op code out of range".into());
                }
                let rows = &b[1 + v..];
                let matrix = (0..n)
                    .map(|i| {
                        let bits = u16::from_le_bytes([rows[2 * i], rows[2 * i + 1]]);
                        (0..n).map(|j| bits & (1 << j) != 0).collect()
                    })
                    .collect();
                let cell = VertexCell { matrix, ops };
                let checked = s.check(&cell)?;
                if checked != cell {
                    return Err("a cell that is not pruned".into());
                }
                if hex_u128(&s.hash(&cell)) != id.0 {
                    return Err(format!("the cell's hash is not the stored {:032x}", id.0));
                }
                Ok((a.intern(Cell::Vertex(cell)), id))
            }
        }
    }
}

impl Enumerable for Declared {
    /// Every cell (empty for a space too large to list: its datasets are its tables' rows).
    fn all() -> Vec<(DArch, DId)> {
        the().all().to_vec()
    }
}

impl Benchmark for Declared {
    const NAR_NAME: &'static str = "declared";
    const REFERENCE_CONFIG: &'static str = include_str!("../../../configs/declared.yaml");
    const NAMED_CONFIGS: &'static [(&'static str, &'static str)] = &[
        ("transformer", include_str!("../../../configs/declared-transformer.yaml")),
        ("gbdt", include_str!("../../../configs/declared-gbdt.yaml")),
        ("forest", include_str!("../../../configs/declared-forest.yaml")),
        ("best", include_str!("../../../configs/declared-best.yaml")),
        // A declared space's `best` is trees only: the guided search's `trees` is the same predictor.
        ("trees", include_str!("../../../configs/declared-best.yaml")),
    ];
    fn validation_metrics(task: Task) -> Vec<String> {
        vec![format!("{task}_val_acc")]
    }
    fn test_metrics(task: Task) -> Vec<String> {
        vec![format!("{task}_test_acc")]
    }
    /// The generic tensor's shape ([`Benchmark::encode`]): one channel of the operation graph's
    /// adjacency, one per graph op, one for the edges into the output; its vertices padded to the
    /// space's largest operation graph.
    fn feature_shape() -> (usize, usize) {
        let a = the();
        (a.graph_ops.len() + 2, graph_vertices(a))
    }
    /// Operations per op code.
    fn shape(arch: &DArch) -> Shape {
        let a = the();
        let mut counts = vec![0; a.declaration().ops.len()];
        match a.cell(*arch) {
            Cell::Edge(c) => c.nodes.iter().flatten().for_each(|&(_, op)| counts[op] += 1),
            Cell::Vertex(c) => c.ops.iter().flatten().for_each(|&op| counts[op] += 1),
        }
        Shape::OpCounts(counts)
    }
    /// No cost model: empty (never read — `has_cost_model` is false, and what reads a cost model
    /// refuses a declared space).
    fn cost(_: &DArch, _: DTask) -> NetworkCost {
        NetworkCost { cells: Vec::new(), total_flops: 0, total_params: 0 }
    }
    /// The generic tensor a declared space's transformer reads (and its `renas` feature set), in
    /// place of the ReNAS tensor's FLOPs and parameters: over the pruned operation graph ([`Featurize::op_graph`]),
    /// its vertices in order with the output at the last slot, channel 0 the adjacency (i → j),
    /// channel 1 + c the edges into a vertex of graph op c, the last channel the edges into the
    /// output — the adjacency times the one-hot op of the edge's head.
    fn encode(arch: &DArch, _: &NetworkCost) -> FeatureTensor {
        let (channels, dim) = Self::feature_shape();
        let mut t = FeatureTensor::zeros(channels, dim);
        let g = Self::op_graph(arch);
        let n = g.len();
        let slot = |v: usize| if v == n - 1 { dim - 1 } else { v };
        for i in 0..n {
            for j in i + 1..n {
                if g.has_edge(i, j) {
                    let at = |c: usize| (c * dim + slot(i)) * dim + slot(j);
                    t.data[at(0)] = 1.0;
                    let head = if j == n - 1 { channels - 1 } else { 1 + g.op(j) as usize };
                    t.data[at(head)] = 1.0;
                }
            }
        }
        t
    }
    fn listing_header() -> Vec<String> {
        vec![Self::id_column().to_string(), "arch".to_string()]
    }
    fn listing_row(arch: &DArch, id: &DId) -> Vec<String> {
        vec![id.to_string(), the().text(*arch)]
    }
}

impl Featurize for Declared {
    /// The declaration's ops but the zero op.
    fn graph_ops() -> &'static [&'static str] {
        the().graph_ops
    }
    /// The longest op sequence on an input → output path (edges: one op per node after the inputs;
    /// vertices: the operation vertices), capped where the path columns (k + k² + …, k graph ops)
    /// would pass [`MAX_PATH_COLUMNS`]: the DARTS cell counts its paths of up to 3 ops.
    fn max_path_len() -> usize {
        let a = the();
        let longest = match &a.space {
            DeclaredSpace::Edges(s) => s.fam.nodes - s.fam.inputs,
            DeclaredSpace::Vertices(s) => s.fam.max_vertices - 2,
        };
        let k = a.graph_ops.len().max(1);
        let (mut len, mut cols, mut power) = (0, 0, 1usize);
        while len < longest {
            power = power.saturating_mul(k);
            if cols + power > MAX_PATH_COLUMNS {
                break;
            }
            cols += power;
            len += 1;
        }
        len.max(1)
    }
    fn one_hot_names() -> Vec<String> {
        let a = the();
        let ops = &a.declaration().ops;
        let mut names = Vec::new();
        match &a.space {
            DeclaredSpace::Edges(s) => {
                for j in s.fam.inputs..s.fam.nodes {
                    match s.fam.inputs_per_node {
                        None => {
                            for i in 0..j {
                                names.extend(ops.iter().map(|o| format!("edge{i}{j}={o}")));
                            }
                        }
                        Some(k) => {
                            for slot in 0..k {
                                names.extend((0..j).map(|i| format!("node{j}.in{slot}={i}")));
                                names.extend(ops.iter().map(|o| format!("node{j}.in{slot}={o}")));
                            }
                        }
                    }
                }
            }
            DeclaredSpace::Vertices(s) => {
                let v = s.fam.max_vertices;
                for i in 0..v {
                    for j in i + 1..v {
                        names.push(format!("edge[{i},{j}]"));
                    }
                }
                for i in 1..v - 1 {
                    names.extend(ops.iter().map(|o| format!("vertex{i}={o}")));
                }
            }
        }
        names
    }
    fn one_hot(arch: &DArch, out: &mut Vec<f64>) {
        let a = the();
        let n_ops = a.declaration().ops.len();
        let bit = |b: bool| f64::from(u8::from(b));
        match (&a.space, a.cell(*arch)) {
            (DeclaredSpace::Edges(s), Cell::Edge(c)) => {
                for (n, pairs) in c.nodes.iter().enumerate() {
                    let j = s.fam.inputs + n;
                    for &(src, op) in pairs {
                        if s.fam.inputs_per_node.is_some() {
                            out.extend((0..j).map(|i| bit(i == src)));
                        }
                        out.extend((0..n_ops).map(|o| bit(o == op)));
                    }
                }
            }
            (DeclaredSpace::Vertices(s), Cell::Vertex(c)) => {
                // Padded as NAS-Bench-101's: the output is always the last slot.
                let op = |v: usize| c.ops[v].expect("an interior vertex has an op");
                crate::features::padded_one_hot(c.ops.len(), s.fam.max_vertices, |i, j| c.matrix[i][j], op, n_ops, out);
            }
            _ => unreachable!("cells are of the active family"),
        }
    }
    /// Edges: one vertex per edge whose op is not the zero op (NAS-Bench-201's operation graph: an
    /// edge i→j feeds every edge leaving node j; edges from an input node are fed by the graph's
    /// input, edges into the output node — with `output: concat`, into any intermediate node — feed
    /// its output). Vertices: the cell itself.
    fn op_graph(arch: &DArch) -> OpGraph {
        let a = the();
        match (&a.space, a.cell(*arch)) {
            (DeclaredSpace::Edges(s), Cell::Edge(c)) => {
                let edges: Vec<(usize, usize, Option<u8>)> = c
                    .nodes
                    .iter()
                    .enumerate()
                    .flat_map(|(n, pairs)| {
                        pairs.iter().map(move |&(src, op)| (src, s.fam.inputs + n, a.graph_code[op]))
                    })
                    .collect();
                let concat = s.fam.output == super::declaration::EdgesOutput::Concat;
                OpGraph::of_edges(
                    &edges,
                    |from| from < s.fam.inputs,
                    |to| to == s.fam.nodes - 1 || (concat && to >= s.fam.inputs),
                )
            }
            (DeclaredSpace::Vertices(_), Cell::Vertex(c)) => {
                let n = c.ops.len();
                let op: Vec<u8> = c.ops.iter().map(|o| o.and_then(|o| a.graph_code[o]).unwrap_or(0)).collect();
                let succ: Vec<u16> =
                    (0..n).map(|i| (i + 1..n).filter(|&j| c.matrix[i][j]).fold(0, |b, j| b | (1 << j))).collect();
                OpGraph::new(&op, &succ)
            }
            _ => unreachable!("cells are of the active family"),
        }
    }
}

/// The most vertices an operation graph of the space has (edges: one per edge slot, the input and
/// the output; vertices: `max_vertices`).
fn graph_vertices(a: &Active) -> usize {
    match &a.space {
        DeclaredSpace::Edges(s) => {
            (s.fam.inputs..s.fam.nodes).map(|j| s.fam.inputs_per_node.unwrap_or(j)).sum::<usize>() + 2
        }
        DeclaredSpace::Vertices(s) => s.fam.max_vertices,
    }
}

/// Why the operation graph's feature sets (`graph`, `paths`, and the generic tensor: `renas`, the
/// transformer) do not fit the active space, if they do not: an operation graph has at most
/// [`GRAPH_VERTICES`] vertices.
pub fn graph_features_fit() -> Result<(), String> {
    let a = the();
    let n = graph_vertices(a);
    if n > GRAPH_VERTICES {
        return Err(format!(
            "{}'s operation graph has up to {n} vertices; the graph and paths feature sets take at most {GRAPH_VERTICES} (use onehot)",
            a.declaration().name
        ));
    }
    Ok(())
}

impl crate::sampler::Propose for Declared {
    /// A uniform draw of the space (NAR's shape target is not used: a declared space has no NAR
    /// sampler of its own).
    fn propose(rng: &mut Rng, _: &[i64], _: Option<&[f64]>) -> Option<DArch> {
        let a = the();
        Some(match &a.space {
            DeclaredSpace::Edges(s) => a.intern(Cell::Edge(s.sample(rng))),
            DeclaredSpace::Vertices(s) => a.intern(Cell::Vertex(s.sample(rng)?)),
        })
    }
}

/// A random architecture of the active space (`None`: a vertices-family space whose cells rejection
/// sampling does not find).
pub fn sample(rng: &mut Rng) -> Option<DArch> {
    <Declared as crate::sampler::Propose>::propose(rng, &[], None)
}

impl crate::data::SpaceSources for crate::data::Dataset<Declared> {
    const NAR_JSON_ROOT: Option<u8> = None;
    const BUILT_IN_NAME: Option<&'static str> = None;
    const PUBLISHED: &'static [crate::data::fetch::Published] = &[];
    fn built_in() -> Option<anyhow::Result<Self>> {
        None
    }
    fn join_nar_json(&mut self, path: &std::path::Path) -> anyhow::Result<crate::data::nar_json::ImportReport> {
        anyhow::bail!("{}: NAR's JSON is NAS-Bench-101's or -201's; a declared space reads CSV tables", path.display())
    }
    fn export_nar_json(&self, _: &mut dyn std::io::Write) -> anyhow::Result<usize> {
        Err(crate::usage::UsageError(
            "NAR's JSON is NAS-Bench-101's or -201's: export a declared space's dataset as CSV".to_string(),
        )
        .into())
    }
}
