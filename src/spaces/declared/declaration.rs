//! A space declaration: the YAML file a researcher writes (docs/design.md §1, "Declared spaces"), read
//! and checked whole. Every error names the file and the key.
//!
//! ```yaml
//! name: nb201
//! family: edges          # operations on edges, a node sums its inputs
//! nodes: 4               # node 0 the cell's input, node 3 its output
//! ops: [none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3]
//! zero: none             # outputs zeros: the edge is cut
//! identity: skip_connect # passes its input unchanged
//! linear: [avg_pool_3x3] # no weights, distributes over a sum
//! accuracy: percent
//! tasks: [cifar10, cifar100, imagenet16]
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The scale of a declared space's accuracy metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccuracyScale {
    Percent,
    Fraction,
}

/// What feeds an edges-family cell's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgesOutput {
    /// The last node is the output (it sums its inputs, as every node does).
    Last,
    /// The output concatenates every intermediate node (DARTS).
    Concat,
}

/// The edges family: operations on edges, a node the sum of its incoming edges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgesFamily {
    /// Nodes in all, the cell's inputs and (with [`EdgesOutput::Last`]) its output included.
    pub nodes: usize,
    /// The cell's input nodes (the first ones).
    pub inputs: usize,
    /// `None`: every node receives one op from every earlier node; `Some(K)`: each intermediate node
    /// takes exactly K inputs among the earlier nodes, each through an op.
    pub inputs_per_node: Option<usize>,
    pub output: EdgesOutput,
}

/// What feeds a vertices-family cell's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerticesOutput {
    /// The adjacency matrix decides (NAS-Bench-101).
    Matrix,
    /// The operation vertices no other vertex reads.
    Leaves,
}

/// How the output vertex merges its inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    Concat,
    Sum,
}

/// The vertices family: operations on vertices, plain edges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerticesFamily {
    /// Vertices at most, input and output included.
    pub max_vertices: usize,
    /// Whether every cell has exactly `max_vertices` (after pruning).
    pub exact_vertices: bool,
    pub max_edges: usize,
    /// In-degree bounds of the operation vertices.
    pub in_degree: (usize, usize),
    pub output: VerticesOutput,
    pub output_merge: Merge,
}

/// The network skeleton a declaration's cells are trained in (`network:`; `nar.torch` builds it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Skeleton {
    /// NAS-Bench-201's (xautodl's TinyNetwork): a stem, three stages of N cells, residual blocks
    /// between them, global pooling, a classifier. Cells of the edges family with one input, the last
    /// node their output.
    Nb201,
    /// NAS-Bench-101's: a stem, three stacks of N cells with max-pool down-sampling and channel
    /// doubling, NAS-Bench-101's channel split and projections. Cells of the vertices family.
    Nb101,
}

/// A declaration's `network:` block: the skeleton and its sizes (absent sizes take the skeleton's
/// defaults: nb201 16 channels, 5 cells per stage; nb101 128 stem channels, 3 stacks of 3 cells).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NetworkBlock {
    pub skeleton: Skeleton,
    pub channels: usize,
    /// Cells per stage (nb201) or per stack (nb101).
    pub cells: usize,
    /// nb101: how many stacks.
    pub stacks: usize,
    /// The classifier's classes (default 10).
    pub classes: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    skeleton: Option<String>,
    channels: Option<usize>,
    cells_per_stage: Option<usize>,
    cells_per_stack: Option<usize>,
    stacks: Option<usize>,
    classes: Option<usize>,
}

/// The cell family a declaration names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Family {
    Edges(EdgesFamily),
    Vertices(VerticesFamily),
}

/// A checked declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct Declaration {
    pub name: String,
    pub family: Family,
    /// Operation names, in the order their codes take.
    pub ops: Vec<String>,
    pub accuracy: AccuracyScale,
    /// The tasks (data sets) its metrics are for.
    pub tasks: Vec<String>,
    /// The op that outputs zeros, by code.
    pub zero: Option<usize>,
    /// The op that passes its input unchanged, by code.
    pub identity: Option<usize>,
    /// Ops with no weights that distribute over a sum (NAS-Bench-201's average pooling), by code.
    pub linear: Vec<usize>,
    /// Where it was read from.
    pub source: PathBuf,
    /// SHA-256 of the file's bytes: the declaration's identity in journals and tables.
    pub sha256: String,
    /// The file's text, as stores and run folders keep it (a dataset of a declared space opens with
    /// its own declaration).
    pub text: String,
    /// The network its cells are trained in, where declared.
    pub network: Option<NetworkBlock>,
}

/// The file as written: every key optional here, so that a missing one is named by the checks below.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<String>,
    family: Option<String>,
    ops: Option<Vec<String>>,
    accuracy: Option<String>,
    tasks: Option<Vec<String>>,
    zero: Option<String>,
    identity: Option<String>,
    linear: Option<Vec<String>>,
    // edges
    nodes: Option<usize>,
    inputs: Option<usize>,
    inputs_per_node: Option<usize>,
    // both families (edges: last | concat; vertices: matrix | leaves)
    output: Option<String>,
    // vertices
    max_vertices: Option<usize>,
    exact_vertices: Option<bool>,
    max_edges: Option<usize>,
    in_degree: Option<Vec<usize>>,
    output_merge: Option<String>,
    // the network a cell is trained in (nar.torch)
    network: Option<RawNetwork>,
}

/// The keys of each family alone.
const EDGES_ONLY: [&str; 3] = ["nodes", "inputs", "inputs_per_node"];
const VERTICES_ONLY: [&str; 5] = ["max_vertices", "exact_vertices", "max_edges", "in_degree", "output_merge"];

impl Declaration {
    /// Reads and checks the declaration at `path`.
    pub fn load(path: &Path) -> Result<Declaration, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
        Declaration::parse(text, path)
    }

    /// Checks the declaration `text` (read from `path`, which errors name).
    pub fn parse(text: &str, path: &Path) -> Result<Declaration, String> {
        let file = path.display();
        let raw: Raw = serde_yaml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        let err = |key: &str, why: String| format!("{file}: `{key}`: {why}");
        let missing = |key: &str| format!("{file}: `{key}` is missing");
        let name = raw.name.clone().ok_or_else(|| missing("name"))?;
        if name.trim().is_empty() {
            return Err(err("name", "is empty".into()));
        }
        let ops = raw.ops.clone().ok_or_else(|| missing("ops"))?;
        if ops.is_empty() {
            return Err(err("ops", "lists no operation".into()));
        }
        for (i, op) in ops.iter().enumerate() {
            if op.trim().is_empty() || op.contains(['|', '~', '+', ',', '"']) {
                return Err(err("ops", format!("{op:?} is not an operation name (no spaces alone, no | ~ + , \")")));
            }
            if ops[..i].contains(op) {
                return Err(err("ops", format!("{op} is listed twice")));
            }
        }
        let code = |key: &str, op: &str| {
            ops.iter()
                .position(|o| o == op)
                .ok_or_else(|| err(key, format!("{op} is not among the ops ({})", ops.join(", "))))
        };
        let zero = raw.zero.as_deref().map(|z| code("zero", z)).transpose()?;
        let identity = raw.identity.as_deref().map(|z| code("identity", z)).transpose()?;
        if zero.is_some() && zero == identity {
            return Err(err("identity", "is the zero op too".into()));
        }
        let linear =
            raw.linear.clone().unwrap_or_default().iter().map(|o| code("linear", o)).collect::<Result<Vec<_>, _>>()?;
        if let Some(&l) = linear.iter().find(|&&l| Some(l) == zero || Some(l) == identity) {
            return Err(err("linear", format!("{} is the zero or the identity op already", ops[l])));
        }
        let accuracy = match raw.accuracy.as_deref() {
            Some("percent") => AccuracyScale::Percent,
            Some("fraction") => AccuracyScale::Fraction,
            Some(other) => return Err(err("accuracy", format!("{other:?}: percent or fraction"))),
            None => return Err(missing("accuracy")),
        };
        let tasks = raw.tasks.clone().ok_or_else(|| missing("tasks"))?;
        if tasks.is_empty() {
            return Err(err("tasks", "lists no task".into()));
        }
        for (i, t) in tasks.iter().enumerate() {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                return Err(err("tasks", format!("{t:?}: a task name is letters, digits, _ and -")));
            }
            if tasks[..i].contains(t) {
                return Err(err("tasks", format!("{t} is listed twice")));
            }
        }
        let family = match raw.family.as_deref() {
            Some("edges") => Family::Edges(edges(&raw, &err, &missing)?),
            Some("vertices") => Family::Vertices(vertices(&raw, &err, &missing)?),
            Some(other) => return Err(err("family", format!("{other:?}: edges or vertices"))),
            None => return Err(missing("family")),
        };
        let network = raw.network.as_ref().map(|n| network_block(n, &family, &err)).transpose()?;
        Ok(Declaration {
            network,
            name,
            family,
            ops,
            accuracy,
            tasks,
            zero,
            identity,
            linear,
            source: path.to_path_buf(),
            sha256: Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect(),
            text: text.to_string(),
        })
    }

    /// The op called `name`, by code.
    pub fn op(&self, name: &str) -> Option<usize> {
        self.ops.iter().position(|o| o == name)
    }
}

fn edges(
    raw: &Raw,
    err: &dyn Fn(&str, String) -> String,
    missing: &dyn Fn(&str) -> String,
) -> Result<EdgesFamily, String> {
    let given = vertices_keys(raw);
    if let Some(k) = given.first() {
        return Err(err(k, "is a key of the vertices family, not of the edges family".into()));
    }
    let nodes = raw.nodes.ok_or_else(|| missing("nodes"))?;
    let inputs = raw.inputs.unwrap_or(1);
    if inputs == 0 {
        return Err(err("inputs", "a cell has at least one input node".into()));
    }
    let output = match raw.output.as_deref() {
        None | Some("last") => EdgesOutput::Last,
        Some("concat") => EdgesOutput::Concat,
        Some(other) => return Err(err("output", format!("{other:?}: last or concat in the edges family"))),
    };
    // The output node (last) is a node; a concatenating output is not.
    let least = inputs + 1;
    if nodes < least.max(2) {
        return Err(err("nodes", format!("{nodes}: a cell of {inputs} input node(s) needs at least {}", least.max(2))));
    }
    if let Some(k) = raw.inputs_per_node {
        if k == 0 {
            return Err(err("inputs_per_node", "at least 1".into()));
        }
        if k > inputs {
            return Err(err(
                "inputs_per_node",
                format!("{k}: the first node after the inputs has only {inputs} earlier node(s) to choose from"),
            ));
        }
    }
    Ok(EdgesFamily { nodes, inputs, inputs_per_node: raw.inputs_per_node, output })
}

/// Checks a `network:` block against the family its skeleton takes.
fn network_block(
    n: &RawNetwork,
    family: &Family,
    err: &dyn Fn(&str, String) -> String,
) -> Result<NetworkBlock, String> {
    let skeleton = match n.skeleton.as_deref() {
        Some("nb201") => Skeleton::Nb201,
        Some("nb101") => Skeleton::Nb101,
        Some(other) => return Err(err("network.skeleton", format!("{other:?}: nb201 or nb101"))),
        None => return Err(err("network.skeleton", "is missing (nb201 or nb101)".into())),
    };
    let positive = |key: &str, v: Option<usize>, default: usize| match v {
        Some(0) => Err(err(key, "0: at least 1".into())),
        Some(v) if v > 4096 => Err(err(key, format!("{v}: at most 4096"))),
        Some(v) => Ok(v),
        None => Ok(default),
    };
    let classes = positive("network.classes", n.classes, 10)?;
    match (skeleton, family) {
        (Skeleton::Nb201, Family::Edges(f)) => {
            if f.inputs != 1 || f.output != EdgesOutput::Last {
                return Err(err(
                    "network.skeleton",
                    "nb201 takes cells of one input whose last node is the output (inputs: 1, output: last)".into(),
                ));
            }
            for key in [("stacks", n.stacks), ("cells_per_stack", n.cells_per_stack)] {
                if key.1.is_some() {
                    return Err(err(&format!("network.{}", key.0), "is a key of the nb101 skeleton".into()));
                }
            }
            Ok(NetworkBlock {
                skeleton,
                channels: positive("network.channels", n.channels, 16)?,
                cells: positive("network.cells_per_stage", n.cells_per_stage, 5)?,
                stacks: 3,
                classes,
            })
        }
        (Skeleton::Nb101, Family::Vertices(f)) => {
            if f.output_merge != Merge::Concat {
                return Err(err(
                    "network.skeleton",
                    "nb101 concatenates what feeds a cell's output (NAS-Bench-101's channel split): output_merge: concat".into(),
                ));
            }
            if n.cells_per_stage.is_some() {
                return Err(err("network.cells_per_stage", "is a key of the nb201 skeleton".into()));
            }
            Ok(NetworkBlock {
                skeleton,
                channels: positive("network.channels", n.channels, 128)?,
                cells: positive("network.cells_per_stack", n.cells_per_stack, 3)?,
                stacks: positive("network.stacks", n.stacks, 3)?,
                classes,
            })
        }
        (Skeleton::Nb201, Family::Vertices(_)) => {
            Err(err("network.skeleton", "nb201 takes cells of the edges family; this is the vertices family".into()))
        }
        (Skeleton::Nb101, Family::Edges(_)) => {
            Err(err("network.skeleton", "nb101 takes cells of the vertices family; this is the edges family".into()))
        }
    }
}

fn vertices_keys(raw: &Raw) -> Vec<&'static str> {
    let set = [
        raw.max_vertices.is_some(),
        raw.exact_vertices.is_some(),
        raw.max_edges.is_some(),
        raw.in_degree.is_some(),
        raw.output_merge.is_some(),
    ];
    VERTICES_ONLY.iter().zip(set).filter(|(_, s)| *s).map(|(k, _)| *k).collect()
}

fn vertices(
    raw: &Raw,
    err: &dyn Fn(&str, String) -> String,
    missing: &dyn Fn(&str) -> String,
) -> Result<VerticesFamily, String> {
    let set = [raw.nodes.is_some(), raw.inputs.is_some(), raw.inputs_per_node.is_some()];
    if let Some((k, _)) = EDGES_ONLY.iter().zip(set).find(|(_, s)| *s) {
        return Err(err(k, "is a key of the edges family, not of the vertices family".into()));
    }
    if !raw.linear.clone().unwrap_or_default().is_empty() {
        return Err(err("linear", "is for the edges family (a vertex's op reads the sum of its inputs)".into()));
    }
    let max_vertices = raw.max_vertices.ok_or_else(|| missing("max_vertices"))?;
    if max_vertices < 2 {
        return Err(err("max_vertices", format!("{max_vertices}: the input and the output are 2 already")));
    }
    if max_vertices > 16 {
        return Err(err("max_vertices", format!("{max_vertices}: at most 16 (a cell's adjacency is held in bits)")));
    }
    let pairs = max_vertices * (max_vertices - 1) / 2;
    let max_edges = raw.max_edges.ok_or_else(|| missing("max_edges"))?;
    if max_edges == 0 {
        return Err(err("max_edges", "0: no cell connects its input to its output".into()));
    }
    let max_edges = max_edges.min(pairs);
    let in_degree = match raw.in_degree.as_deref() {
        None => (1, max_vertices - 1),
        Some([lo, hi]) if lo > hi => return Err(err("in_degree", format!("[{lo}, {hi}]: MIN is above MAX"))),
        Some([0, _]) => return Err(err("in_degree", "an operation vertex reads at least one vertex (MIN ≥ 1)".into())),
        Some(&[lo, hi]) => (lo, hi),
        Some(other) => return Err(err("in_degree", format!("{other:?}: give [MIN, MAX]"))),
    };
    let output = match raw.output.as_deref() {
        None | Some("matrix") => VerticesOutput::Matrix,
        Some("leaves") => VerticesOutput::Leaves,
        Some(other) => return Err(err("output", format!("{other:?}: matrix or leaves in the vertices family"))),
    };
    let output_merge = match raw.output_merge.as_deref() {
        None | Some("concat") => Merge::Concat,
        Some("sum") => Merge::Sum,
        Some(other) => return Err(err("output_merge", format!("{other:?}: concat or sum"))),
    };
    let exact_vertices = raw.exact_vertices.unwrap_or(false);
    // A cell of v vertices is a chain at least: v − 1 edges, and the in-degree bounds must allow it.
    let least = if exact_vertices { max_vertices } else { 2 };
    if least - 1 > max_edges {
        return Err(err(
            "max_edges",
            format!("{max_edges}: a cell of {least} vertices needs {} edges at least", least - 1),
        ));
    }
    if least > 2 && in_degree.0 > 1 && in_degree.0 > least - 2 {
        return Err(err(
            "in_degree",
            format!("[{}, {}]: the first operation vertex can read only the input", in_degree.0, in_degree.1),
        ));
    }
    Ok(VerticesFamily { max_vertices, exact_vertices, max_edges, in_degree, output, output_merge })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Declaration, String> {
        Declaration::parse(text, Path::new("s.yaml"))
    }

    const NB201: &str = "name: nb201\nfamily: edges\nnodes: 4\nops: [none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3]\nzero: none\nidentity: skip_connect\nlinear: [avg_pool_3x3]\naccuracy: percent\ntasks: [cifar10]\n";

    #[test]
    fn a_declaration_reads_whole() {
        let d = parse(NB201).unwrap();
        assert_eq!(
            d.family,
            Family::Edges(EdgesFamily { nodes: 4, inputs: 1, inputs_per_node: None, output: EdgesOutput::Last })
        );
        assert_eq!((d.zero, d.identity, d.linear.clone()), (Some(0), Some(1), vec![4]));
    }

    #[test]
    fn bad_declarations_name_the_file_and_the_key() {
        let cases: Vec<(String, &str)> = vec![
            (NB201.replace("nodes: 4\n", "nodes: 4\ncolour: red\n"), "unknown field `colour`"),
            (NB201.replace("accuracy: percent\n", ""), "s.yaml: `accuracy` is missing"),
            (
                NB201.replace("[none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3]", "[]"),
                "`ops`: lists no operation",
            ),
            (NB201.replace("avg_pool_3x3]\nzero", "none]\nzero"), "`ops`: none is listed twice"),
            (NB201.replace("zero: none", "zero: nothing"), "`zero`: nothing is not among the ops"),
            (NB201.replace("identity: skip_connect", "identity: id"), "`identity`: id is not among the ops"),
            (NB201.replace("nodes: 4", "nodes: 1"), "`nodes`: 1: a cell of 1 input node(s) needs at least 2"),
            (NB201.replace("family: edges", "family: graph"), "`family`: \"graph\": edges or vertices"),
            (NB201.replace("nodes: 4", "nodes: 4\nmax_edges: 9"), "`max_edges`: is a key of the vertices family"),
        ];
        for (text, says) in cases {
            let e = parse(&text).unwrap_err();
            assert!(e.contains(says), "{e} (expected {says})");
            assert!(e.starts_with("s.yaml"), "{e}");
        }
        let v = "name: v\nfamily: vertices\nops: [a, b]\naccuracy: fraction\ntasks: [t]\nmax_edges: 9\n";
        assert!(parse(&format!("{v}max_vertices: 1\n")).unwrap_err().contains("`max_vertices`: 1"));
        assert!(
            parse(&format!("{v}max_vertices: 5\nin_degree: [3, 1]\n"))
                .unwrap_err()
                .contains("`in_degree`: [3, 1]: MIN is above MAX")
        );
        assert!(
            parse(&format!("{v}max_vertices: 5\nnodes: 3\n"))
                .unwrap_err()
                .contains("`nodes`: is a key of the edges family")
        );
        assert!(parse(&format!("{v}max_vertices: 7\nexact_vertices: true\nmax_edges: 3\n")).is_err());
    }
}
