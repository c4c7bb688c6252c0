//! The edges family of declared spaces: operations on edges, each node the sum of what its incoming
//! edges compute (NAS-Bench-201, TransNAS-Bench-101's micro cell, the DARTS cell).
//!
//! A cell lists, for every node after the inputs, its incoming `(source, op)` pairs: from every earlier
//! node (the full family), or exactly `inputs_per_node` of them (chosen inputs). Its text form is
//! NAS-Bench-201's, one `|op~source|…|` group per node joined by `+`; its index (where the space can be
//! enumerated) is the mixed-radix number of its ops in text order, the first edge most significant.
//!
//! **Identity and equivalence**: a cell's function is a formal expression of its inputs (`x`, or
//! `x0`, `x1`, … with several), built as nar builds NAS-Bench-201's (docs/design.md §1, "Equivalent
//! cells"): the `zero` op contributes nothing, the `identity` op passes its input's terms, a `linear`
//! op distributes over its input's terms, any other op is `name(sum of its input's terms)`, a node is
//! the sorted multiset of its incoming terms, an edge from a node that computes nothing is cut; a
//! concatenating output lists its intermediate nodes' expressions sorted (the order of a
//! concatenation is a channel permutation, which the next layer's weights absorb). Nodes are inlined,
//! so cells that differ by a relabelling of their intermediate nodes have one expression. The hash is
//! the MD5 of the expression; cells with one hash are one query.

use std::collections::HashMap;
use std::fmt::Write as _;

use md5::{Digest, Md5};

use super::declaration::{Declaration, EdgesFamily, EdgesOutput};
use crate::rng::Rng;

/// A space of at most this many cells is enumerated (listed, its classes counted); a larger one is
/// sampled.
pub const ENUMERATE_LIMIT: u128 = 2_000_000;

/// A cell: per node after the inputs (node `inputs + k` at `k`), its incoming `(source, op)` pairs in
/// increasing source order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EdgeCell {
    pub nodes: Vec<Vec<(usize, usize)>>,
}

/// A declared edges-family space.
#[derive(Clone, Debug)]
pub struct EdgeSpace {
    pub decl: Declaration,
    pub fam: EdgesFamily,
}

impl EdgeSpace {
    pub fn new(decl: Declaration, fam: EdgesFamily) -> EdgeSpace {
        EdgeSpace { decl, fam }
    }

    /// The nodes that receive edges: every node after the inputs.
    fn receiving(&self) -> std::ops::Range<usize> {
        self.fam.inputs..self.fam.nodes
    }

    /// How many cells the space holds (`None`: more than 2¹²⁸).
    pub fn size(&self) -> Option<u128> {
        let ops = self.decl.ops.len() as u128;
        let mut n: u128 = 1;
        for j in self.receiving() {
            let per_node = match self.fam.inputs_per_node {
                None => ops.checked_pow(j as u32)?,
                Some(k) => binomial(j as u128, k as u128)?.checked_mul(ops.checked_pow(k as u32)?)?,
            };
            n = n.checked_mul(per_node)?;
        }
        Some(n)
    }

    /// Whether every cell can be listed ([`ENUMERATE_LIMIT`]; the full family only).
    pub fn enumerable(&self) -> bool {
        self.fam.inputs_per_node.is_none() && self.size().is_some_and(|n| n <= ENUMERATE_LIMIT)
    }

    /// Why the space cannot be enumerated, with its size.
    pub fn too_large(&self) -> String {
        format!(
            "{} holds {} cells, more than the {} nar enumerates: it is searched by sampling, mutations and the guided search's candidates",
            self.decl.name,
            self.size().map_or("more than 10^38".to_string(), |n| approx(n as f64)),
            ENUMERATE_LIMIT
        )
    }

    /// The cell at `index` of the full family's mixed-radix order.
    pub fn from_index(&self, mut index: u128) -> EdgeCell {
        let ops = self.decl.ops.len() as u128;
        let edges: usize = self.receiving().sum();
        let mut codes = vec![0usize; edges];
        for c in codes.iter_mut().rev() {
            *c = (index % ops) as usize;
            index /= ops;
        }
        let mut it = codes.into_iter();
        EdgeCell {
            nodes: self.receiving().map(|j| (0..j).map(|i| (i, it.next().expect("one per edge"))).collect()).collect(),
        }
    }

    /// The index of a full-family cell.
    pub fn index(&self, cell: &EdgeCell) -> u128 {
        let ops = self.decl.ops.len() as u128;
        cell.nodes.iter().flatten().fold(0u128, |acc, &(_, op)| acc * ops + op as u128)
    }

    /// Every cell, in index order (an enumerable space only).
    pub fn all(&self) -> Vec<EdgeCell> {
        assert!(self.enumerable(), "{}", self.too_large());
        let n = self.size().expect("enumerable");
        (0..n).map(|i| self.from_index(i)).collect()
    }

    /// Parses the text form, checking the cell against the declaration.
    pub fn parse(&self, text: &str) -> Result<EdgeCell, String> {
        let t = text.trim();
        let groups: Vec<&str> = t.split('+').collect();
        let want = self.fam.nodes - self.fam.inputs;
        if groups.len() != want {
            return Err(format!(
                "{t:?}: {} groups of edges, expected {want} (one per node after the input(s), joined by +)",
                groups.len()
            ));
        }
        let mut nodes = Vec::with_capacity(want);
        for (g, group) in groups.iter().enumerate() {
            let j = self.fam.inputs + g;
            let inner = group
                .strip_prefix('|')
                .and_then(|s| s.strip_suffix('|'))
                .ok_or_else(|| format!("group {} ({group:?}) must start and end with |", g + 1))?;
            let mut pairs = Vec::new();
            for item in inner.split('|') {
                let (op, src) = item.split_once('~').ok_or_else(|| format!("{item:?} is not op~source"))?;
                let code = self.decl.op(op).ok_or_else(|| {
                    format!("{op:?} is not an op of {} ({})", self.decl.name, self.decl.ops.join(", "))
                })?;
                let source: usize = src
                    .parse()
                    .ok()
                    .filter(|_| src.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| format!("{item:?}: the source {src:?} is not a node number"))?;
                if source >= j {
                    return Err(format!("{item:?}: node {j} reads only earlier nodes (0 to {})", j - 1));
                }
                if pairs.iter().any(|&(s, _)| s == source) {
                    return Err(format!("group {} reads node {source} twice", g + 1));
                }
                pairs.push((source, code));
            }
            pairs.sort_unstable();
            match self.fam.inputs_per_node {
                None if pairs.len() != j => {
                    return Err(format!(
                        "node {j} has {} edges; every node reads every earlier node ({j})",
                        pairs.len()
                    ));
                }
                Some(k) if pairs.len() != k => {
                    return Err(format!("node {j} has {} inputs; each node takes exactly {k}", pairs.len()));
                }
                _ => {}
            }
            nodes.push(pairs);
        }
        Ok(EdgeCell { nodes })
    }

    /// The text form.
    pub fn text(&self, cell: &EdgeCell) -> String {
        let groups: Vec<String> = cell
            .nodes
            .iter()
            .map(|pairs| {
                let mut s = String::from("|");
                for &(src, op) in pairs {
                    let _ = write!(s, "{}~{src}|", self.decl.ops[op]);
                }
                s
            })
            .collect();
        groups.join("+")
    }

    /// The function a cell computes, as a formal expression (the module's docs).
    pub fn function(&self, cell: &EdgeCell) -> String {
        let d = &self.decl;
        let mut terms: Vec<Vec<String>> = (0..self.fam.inputs)
            .map(|i| vec![if self.fam.inputs == 1 { "x".to_string() } else { format!("x{i}") }])
            .collect();
        for pairs in &cell.nodes {
            let mut node = Vec::new();
            for &(src, op) in pairs {
                let input = &terms[src];
                if input.is_empty() || Some(op) == d.zero {
                    continue;
                }
                if Some(op) == d.identity {
                    node.extend(input.iter().cloned());
                } else if d.linear.contains(&op) {
                    node.extend(input.iter().map(|t| format!("{}({t})", d.ops[op])));
                } else {
                    node.push(format!("{}({})", d.ops[op], input.join("+")));
                }
            }
            node.sort_unstable();
            terms.push(node);
        }
        match self.fam.output {
            EdgesOutput::Last => terms.last().expect("a node after the inputs").join("+"),
            EdgesOutput::Concat => {
                let mut parts: Vec<String> =
                    terms[self.fam.inputs..].iter().map(|t| format!("({})", t.join("+"))).collect();
                parts.sort_unstable();
                format!("concat[{}]", parts.join(","))
            }
        }
    }

    /// The hash of a cell's function: 32 hex digits, the same for every cell of its class.
    pub fn hash(&self, cell: &EdgeCell) -> String {
        Md5::digest(self.function(cell).as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// How many edges carry the zero op (a class's canonical cell has the most).
    fn zeros(&self, cell: &EdgeCell) -> usize {
        cell.nodes.iter().flatten().filter(|&&(_, op)| Some(op) == self.decl.zero).count()
    }

    /// A uniformly random cell.
    pub fn sample(&self, rng: &mut Rng) -> EdgeCell {
        let ops = self.decl.ops.len();
        let nodes = self
            .receiving()
            .map(|j| match self.fam.inputs_per_node {
                None => (0..j).map(|i| (i, rng.below(ops))).collect(),
                Some(k) => {
                    let mut sources = rng.permutation(j);
                    sources.truncate(k);
                    let mut pairs: Vec<(usize, usize)> = sources.into_iter().map(|s| (s, rng.below(ops))).collect();
                    pairs.sort_unstable();
                    pairs
                }
            })
            .collect();
        EdgeCell { nodes }
    }

    /// The cells one change away: one edge's op changed, or (chosen inputs) one input moved to another
    /// earlier node not read yet.
    pub fn neighbours(&self, cell: &EdgeCell) -> Vec<EdgeCell> {
        let mut out = Vec::new();
        for (n, pairs) in cell.nodes.iter().enumerate() {
            let j = self.fam.inputs + n;
            for (e, &(src, op)) in pairs.iter().enumerate() {
                for other in (0..self.decl.ops.len()).filter(|&o| o != op) {
                    let mut c = cell.clone();
                    c.nodes[n][e] = (src, other);
                    out.push(c);
                }
                if self.fam.inputs_per_node.is_some() {
                    for s in (0..j).filter(|s| !pairs.iter().any(|p| p.0 == *s)) {
                        let mut c = cell.clone();
                        c.nodes[n][e] = (s, op);
                        c.nodes[n].sort_unstable();
                        out.push(c);
                    }
                }
            }
        }
        out
    }
}

/// An enumerable space's cells grouped by function: each cell's class number (classes numbered in the
/// order of their first cell), and each class's canonical cell — the most zero edges, then the lowest
/// index.
pub struct Classes {
    pub class: Vec<u32>,
    pub canonical: Vec<usize>,
    pub sizes: Vec<usize>,
}

impl Classes {
    pub fn of(space: &EdgeSpace, cells: &[EdgeCell]) -> Classes {
        let mut number: HashMap<String, u32> = HashMap::new();
        let mut class = Vec::with_capacity(cells.len());
        let mut canonical: Vec<usize> = Vec::new();
        let mut sizes: Vec<usize> = Vec::new();
        for (i, c) in cells.iter().enumerate() {
            let next = number.len() as u32;
            let k = *number.entry(space.function(c)).or_insert(next);
            if k == next {
                canonical.push(i);
                sizes.push(0);
            } else if space.zeros(c) > space.zeros(&cells[canonical[k as usize]]) {
                canonical[k as usize] = i;
            }
            sizes[k as usize] += 1;
            class.push(k);
        }
        Classes { class, canonical, sizes }
    }
}

fn binomial(n: u128, k: u128) -> Option<u128> {
    if k > n {
        return Some(0);
    }
    let mut r: u128 = 1;
    for i in 0..k {
        r = r.checked_mul(n - i)? / (i + 1);
    }
    Some(r)
}

/// A large count, as `1.23 × 10^9` (exactly below a million).
pub fn approx(n: f64) -> String {
    if n < 1e6 {
        return format!("{n:.0}");
    }
    let e = n.log10().floor();
    format!("{:.2} × 10^{e}", n / 10f64.powf(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn space(text: &str) -> EdgeSpace {
        let d = Declaration::parse(text, Path::new("t.yaml")).unwrap();
        match d.family.clone() {
            super::super::declaration::Family::Edges(f) => EdgeSpace::new(d, f),
            _ => unreachable!(),
        }
    }

    #[test]
    fn text_index_and_function_round_trip() {
        let s = space(
            "name: s\nfamily: edges\nnodes: 3\nops: [none, skip, conv]\nzero: none\nidentity: skip\naccuracy: percent\ntasks: [t]\n",
        );
        assert_eq!(s.size(), Some(27));
        let all = s.all();
        for (i, c) in all.iter().enumerate() {
            assert_eq!(s.index(c), i as u128);
            assert_eq!(&s.parse(&s.text(c)).unwrap(), c);
        }
        let c = s.parse("|conv~0|+|skip~0|conv~1|").unwrap();
        assert_eq!(s.function(&c), "conv(conv(x))+x");
        // An edge from a node that computes nothing is cut; the zero op contributes nothing.
        assert_eq!(s.function(&s.parse("|none~0|+|skip~0|conv~1|").unwrap()), "x");
        assert!(s.parse("|conv~0|+|skip~0|").unwrap_err().contains("node 2 has 1 edges"));
        assert!(s.parse("|conv~1|+|skip~0|conv~1|").unwrap_err().contains("node 1 reads only earlier nodes"));
        assert!(s.parse("|pool~0|+|skip~0|conv~1|").unwrap_err().contains("\"pool\" is not an op of s"));
    }
}
