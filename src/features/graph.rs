//! Structural graph features in the spirit of GRAF (Kadlecová et al., 2024, "Surprisingly strong
//! performance prediction with neural graph features"): counts, path lengths and degrees of an
//! architecture's *operation graph*, restricted to each subset of the space's operations
//! (docs/design.md §4, "Graph features", with a worked example).
//!
//! Every space is read as a DAG whose vertices carry operations ([`OpGraph`]): vertex 0 is the
//! input, the last vertex the output, every other vertex one operation. A space with operations on
//! vertices (NB101) is its own operation graph; a space with operations on edges (NB201) gets one
//! vertex per edge whose op is not `none`: the input feeds every edge leaving node 0, edge i→j feeds
//! every edge leaving node j, and every edge into the output node feeds the output. Each space's
//! folder builds its graph (`spaces/<name>/features.rs`).
//!
//! The graph is pruned first: a vertex that is not on an input→output path computes nothing the
//! output sees (NB101 cells are pruned already; in NB201 an edge out of a node no input reaches, or
//! into a node that reaches no output, is dropped). So two NB201 cells that differ only in such edges
//! get the same graph features.

/// Vertices an operation graph may have (NB201: input, 6 edges, output; a declared space up to 16).
pub const MAX_VERTICES: usize = 16;

/// An operation graph: vertex 0 the input, vertex `n − 1` the output; `op[v]` the index of vertex v's
/// operation in the space's alphabet ([`super::Featurize::graph_ops`]); `succ[v]` a bit set of v's successors.
/// Vertices are in topological order (every edge goes from a lower to a higher index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpGraph {
    n: usize,
    op: [u8; MAX_VERTICES],
    succ: [u16; MAX_VERTICES],
    /// Vertices that take part (on an input→output path); the input and output always do.
    alive: u16,
}

impl OpGraph {
    /// The graph of `ops.len()` vertices (vertex 0 the input, the last the output) with operation
    /// codes `ops` (indices into the space's [`crate::features::Featurize::graph_ops`]; the input's and
    /// output's are ignored) and successor bit sets `succ`, pruned to the vertices on an input→output
    /// path. Every edge goes from a lower to a higher index. A space's `Featurize::op_graph` builds it.
    pub fn new(ops: &[u8], succ: &[u16]) -> OpGraph {
        let n = ops.len();
        assert!(
            (2..=MAX_VERTICES).contains(&n) && succ.len() == n,
            "an operation graph has 2..={MAX_VERTICES} vertices"
        );
        let mut g = OpGraph { n, op: [0; MAX_VERTICES], succ: [0; MAX_VERTICES], alive: 0 };
        g.op[..n].copy_from_slice(ops);
        g.succ[..n].copy_from_slice(succ);
        g.prune();
        g
    }

    /// The operation graph of a cell with operations on edges (NB201's, a declared edges-family
    /// space's): `edges[e]` is edge e's `(from node, to node, graph op code)`, `None` for the zero op;
    /// vertex 1 + e is edge e where its op is not the zero op, fed by the input where `from_input(from)`,
    /// feeding the output where `into_output(to)`, and edge e feeds every such edge leaving its `to`.
    pub fn of_edges(
        edges: &[(usize, usize, Option<u8>)],
        from_input: impl Fn(usize) -> bool,
        into_output: impl Fn(usize) -> bool,
    ) -> OpGraph {
        let out = edges.len() + 1;
        let mut op = vec![0u8; edges.len() + 2];
        let mut succ = vec![0u16; edges.len() + 2];
        for (e, &(from, to, code)) in edges.iter().enumerate() {
            let Some(code) = code else { continue };
            op[1 + e] = code;
            if from_input(from) {
                succ[0] |= 1 << (1 + e);
            }
            if into_output(to) {
                succ[1 + e] |= 1 << out;
            }
            for (f, &(from2, _, code2)) in edges.iter().enumerate() {
                if code2.is_some() && from2 == to {
                    succ[1 + e] |= 1 << (1 + f);
                }
            }
        }
        OpGraph::new(&op, &succ)
    }

    /// Keeps the vertices on an input→output path; the others lose their edges.
    fn prune(&mut self) {
        let n = self.n;
        let mut from_input: u16 = 1;
        for v in 0..n {
            if from_input >> v & 1 == 1 {
                from_input |= self.succ[v];
            }
        }
        let mut to_output: u16 = 1 << (n - 1);
        for v in (0..n).rev() {
            if self.succ[v] & to_output != 0 {
                to_output |= 1 << v;
            }
        }
        self.alive = from_input & to_output | 1 | 1 << (n - 1);
        for v in 0..n {
            if self.alive >> v & 1 == 0 {
                self.succ[v] = 0;
            }
            self.succ[v] &= self.alive;
        }
    }

    /// How many vertices the graph has (the input and output included, pruned ones too).
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the graph has no vertex (never: it has an input and an output).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Whether the edge v → w is in the pruned graph.
    pub fn has_edge(&self, v: usize, w: usize) -> bool {
        self.succ[v] >> w & 1 == 1
    }

    /// Vertex v's operation code (meaningful for a live interior vertex).
    pub fn op(&self, v: usize) -> u8 {
        self.op[v]
    }

    /// Whether the output is reachable from the input.
    pub fn connected(&self) -> bool {
        self.alive & !(1 | 1 << (self.n - 1)) != 0 || self.succ[0] >> (self.n - 1) & 1 == 1
    }

    fn interior(&self) -> impl Iterator<Item = usize> + '_ {
        (1..self.n - 1).filter(|v| self.alive >> v & 1 == 1)
    }

    fn in_subset(&self, v: usize, subset: u32) -> bool {
        v != 0 && v != self.n - 1 && self.alive >> v & 1 == 1 && subset >> self.op[v] & 1 == 1
    }

    fn preds(&self, w: usize) -> impl Iterator<Item = usize> + '_ {
        (0..w).filter(move |&v| self.succ[v] >> w & 1 == 1)
    }

    /// The fewest operations on an input→output path whose operations are all in `subset`; `None`
    /// when there is no such path.
    pub fn min_path(&self, subset: u32) -> Option<usize> {
        let mut best: [Option<usize>; MAX_VERTICES] = [None; MAX_VERTICES];
        best[0] = Some(0);
        let out = self.n - 1;
        for w in 1..self.n {
            if w != out && !self.in_subset(w, subset) {
                continue;
            }
            let add = usize::from(w != out);
            best[w] = self.preds(w).filter_map(|v| best[v]).min().map(|d| d + add);
        }
        best[out]
    }

    /// The most operations of `subset` on any input→output path (0 when no path has one).
    pub fn max_on_path(&self, subset: u32) -> usize {
        let mut most: [Option<usize>; MAX_VERTICES] = [None; MAX_VERTICES];
        most[0] = Some(0);
        for w in 1..self.n {
            let add = usize::from(self.in_subset(w, subset));
            most[w] = self.preds(w).filter_map(|v| most[v]).max().map(|d| d + add);
        }
        most[self.n - 1].unwrap_or(0)
    }

    /// Number of input→output paths.
    pub fn paths(&self) -> usize {
        let mut count = [0usize; MAX_VERTICES];
        count[0] = 1;
        for w in 1..self.n {
            count[w] = self.preds(w).map(|v| count[v]).sum();
        }
        count[self.n - 1]
    }

    /// Every input→output path as its sequence of operation indices, in input→output order.
    pub fn op_paths(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut stack = vec![(0usize, Vec::new())];
        while let Some((v, path)) = stack.pop() {
            for w in (v + 1..self.n).filter(|&w| self.succ[v] >> w & 1 == 1) {
                if w == self.n - 1 {
                    out.push(path.clone());
                } else {
                    let mut p = path.clone();
                    p.push(self.op[w]);
                    stack.push((w, p));
                }
            }
        }
        out.sort();
        out
    }

    /// Edges between live vertices.
    pub fn edges(&self) -> usize {
        self.succ[..self.n].iter().map(|s| s.count_ones() as usize).sum()
    }

    /// The live operations' counts, per operation index (`k` = the alphabet's size).
    pub fn op_counts(&self, k: usize) -> Vec<usize> {
        let mut c = vec![0; k];
        for v in self.interior() {
            c[self.op[v] as usize] += 1;
        }
        c
    }

    /// Degree figures through `subset`: (out-degree of the input into it, in-degree of the output from
    /// it, mean in-degree and mean out-degree of its vertices — 0 when it has none).
    pub fn degrees(&self, subset: u32) -> [f64; 4] {
        let out = self.n - 1;
        let input_out = (1..self.n).filter(|&w| self.succ[0] >> w & 1 == 1 && self.in_subset(w, subset)).count();
        let output_in = self.preds(out).filter(|&v| self.in_subset(v, subset)).count();
        let members: Vec<usize> = self.interior().filter(|&v| self.in_subset(v, subset)).collect();
        if members.is_empty() {
            return [input_out as f64, output_in as f64, 0.0, 0.0];
        }
        let m = members.len() as f64;
        let avg_in = members.iter().map(|&v| self.preds(v).count()).sum::<usize>() as f64 / m;
        let avg_out = members.iter().map(|&v| self.succ[v].count_ones() as usize).sum::<usize>() as f64 / m;
        [input_out as f64, output_in as f64, avg_in, avg_out]
    }
}

/// Names of the graph features over operations `ops`, in the order [`graph_features`] writes them.
pub fn graph_feature_names(ops: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = ops.iter().map(|o| format!("count:{o}")).collect();
    names.extend(["vertices", "edges", "paths", "longest_path", "shortest_path"].map(String::from));
    for subset in 1..(1u32 << ops.len()) {
        let s: Vec<&str> = (0..ops.len()).filter(|i| subset >> i & 1 == 1).map(|i| ops[i]).collect();
        let s = s.join("+");
        for f in ["min_path", "max_on_path", "input_out", "output_in", "avg_in", "avg_out"] {
            names.push(format!("{f}[{s}]"));
        }
    }
    names
}

/// Appends the graph features of `g` (an alphabet of `k` operations) to `out`. A missing path is −1.
pub fn graph_features(g: &OpGraph, k: usize, out: &mut Vec<f64>) {
    out.extend(g.op_counts(k).into_iter().map(|c| c as f64));
    let all = (1u32 << k) - 1;
    out.push(g.interior().count() as f64);
    out.push(g.edges() as f64);
    out.push(g.paths() as f64);
    out.push(g.max_on_path(all) as f64);
    out.push(g.min_path(all).map_or(-1.0, |d| d as f64));
    for subset in 1..=all {
        out.push(g.min_path(subset).map_or(-1.0, |d| d as f64));
        out.push(g.max_on_path(subset) as f64);
        out.extend(g.degrees(subset));
    }
}

/// Number of distinct operation sequences of length 0 up to `max_len` over `k` operations.
fn path_slots(k: usize, max_len: usize) -> usize {
    (0..=max_len).map(|l| k.pow(l as u32)).sum()
}

/// Names of the path encoding's columns over operations `ops`, paths of up to `max_len` operations:
/// every operation sequence, shortest first.
pub fn path_feature_names(ops: &[&str], max_len: usize) -> Vec<String> {
    let k = ops.len();
    let mut names = Vec::new();
    for len in 0..=max_len {
        for code in 0..k.pow(len as u32) {
            let mut seq = Vec::with_capacity(len);
            let mut c = code;
            for _ in 0..len {
                seq.push(ops[c % k]);
                c /= k;
            }
            seq.reverse();
            names.push(format!("path:{}", if seq.is_empty() { "(direct)".to_string() } else { seq.join(">") }));
        }
    }
    names
}

/// Appends the path encoding of `g`: how many input→output paths carry each operation sequence (of up
/// to `max_len` operations: the built-in spaces' longest path; a declared space may cap it).
pub fn path_features(g: &OpGraph, k: usize, max_len: usize, out: &mut Vec<f64>) {
    let base = out.len();
    out.resize(base + path_slots(k, max_len), 0.0);
    for p in g.op_paths().into_iter().filter(|p| p.len() <= max_len) {
        let offset = path_slots(k, p.len()) - k.pow(p.len() as u32);
        let code = p.iter().fold(0usize, |c, &o| c * k + o as usize);
        out[base + offset + code] += 1.0;
    }
}
