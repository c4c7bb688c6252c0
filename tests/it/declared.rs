//! Declared spaces (`spaces/*.yaml`): the declarations of the built-in spaces give the built-ins'
//! answers — NAS-Bench-201's 15,625 cells in its 4,660 function classes, NAS-Bench-101's hashes —, the
//! TransNAS-Bench-101 micro cell's classes agree with a count written here, the DARTS cell is sampled,
//! mutated and identified up to a relabelling of its nodes; bad declarations and cells are refused
//! naming the file, the key or the reason, and nothing is written.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::common::{self, nar, ok};
use nar::rng::Rng;
use nar::space::SearchSpace;
use nar::spaces::Nb201;
use nar::spaces::declared::edges::{Classes, EdgeSpace};
use nar::spaces::declared::{DeclaredSpace, VertexSpace};

fn declaration(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("spaces").join(name)
}

fn edges(name: &str) -> EdgeSpace {
    match DeclaredSpace::load(&declaration(name)).unwrap() {
        DeclaredSpace::Edges(s) => s,
        DeclaredSpace::Vertices(_) => panic!("{name} is of the edges family"),
    }
}

#[test]
fn the_nb201_declaration_has_the_built_in_cells_and_function_classes() {
    let s = edges("nb201.yaml");
    let cells = s.all();
    assert_eq!(cells.len(), 15_625);
    let classes = Classes::of(&s, &cells);
    assert_eq!(classes.canonical.len(), 4_660);
    // Every declared cell is a built-in cell (its text is NB201's arch string), and two cells share a
    // declared class exactly when the built-in equivalence puts them together.
    let mut built_in_of_class: HashMap<u32, nar::spaces::nb201::Arch> = HashMap::new();
    let mut class_of_built_in: HashMap<nar::spaces::nb201::Arch, u32> = HashMap::new();
    for (i, c) in cells.iter().enumerate() {
        let arch: nar::spaces::nb201::Arch = s.text(c).parse().unwrap();
        let canon = <Nb201 as SearchSpace>::canonical(&arch);
        assert_eq!(*built_in_of_class.entry(classes.class[i]).or_insert(canon), canon, "{}", s.text(c));
        assert_eq!(*class_of_built_in.entry(canon).or_insert(classes.class[i]), classes.class[i]);
    }
    // The enumeration lists every NB201 string once.
    let strings: HashSet<String> = common::nb201_strings().into_iter().map(|(_, t)| t).collect();
    assert!(cells.iter().all(|c| strings.contains(&s.text(c))));
}

/// An independent count of the function classes of a full edges-family cell: each node's value as a
/// sorted multiset of terms, built as nested trees rather than strings.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Term {
    Input,
    Op(usize, Vec<Term>),
}

fn classes_by_trees(nodes: usize, ops: usize, zero: usize, identity: usize) -> usize {
    let edges: Vec<(usize, usize)> = (1..nodes).flat_map(|j| (0..j).map(move |i| (i, j))).collect();
    let total = ops.pow(edges.len() as u32);
    let mut seen: HashSet<Vec<Term>> = HashSet::new();
    for mut code in 0..total {
        let mut choice = vec![0; edges.len()];
        for c in choice.iter_mut().rev() {
            *c = code % ops;
            code /= ops;
        }
        let mut value: Vec<Vec<Term>> = vec![vec![Term::Input]];
        for j in 1..nodes {
            let mut terms = Vec::new();
            for (e, &(i, jj)) in edges.iter().enumerate() {
                if jj != j || value[i].is_empty() || choice[e] == zero {
                    continue;
                }
                if choice[e] == identity {
                    terms.extend(value[i].iter().cloned());
                } else {
                    terms.push(Term::Op(choice[e], value[i].clone()));
                }
            }
            terms.sort();
            value.push(terms);
        }
        seen.insert(value.pop().unwrap());
    }
    seen.len()
}

#[test]
fn the_transnas_micro_declaration_has_4096_cells_in_871_classes() {
    let s = edges("transnas-micro.yaml");
    let cells = s.all();
    assert_eq!(cells.len(), 4_096);
    let classes = Classes::of(&s, &cells);
    assert_eq!(classes.canonical.len(), classes_by_trees(4, 4, 0, 1));
    assert_eq!(classes.canonical.len(), 871);
    assert_eq!(classes.sizes.iter().sum::<usize>(), 4_096);
    let o = nar(&["space", "info", declaration("transnas-micro.yaml").to_str().unwrap()]);
    assert!(ok(&o).contains("4096 cells, enumerated; 871 function classes"));
}

#[test]
fn the_nb101_declaration_hashes_as_nas_bench_101() {
    let DeclaredSpace::Vertices(s) = DeclaredSpace::load(&declaration("nb101.yaml")).unwrap() else {
        panic!("nb101.yaml is of the vertices family")
    };
    let s: VertexSpace = s;
    for row in common::nb101_subset() {
        let text = serde_json::json!({"matrix": row.matrix, "ops": row.ops}).to_string();
        let pruned = s.check(&s.parse(&text).unwrap()).unwrap();
        assert_eq!(s.hash(&pruned), row.hash);
    }
    // Fifteen edges, or an unreachable output, are not cells of it.
    let dense = serde_json::json!({
        "matrix": [[0,1,1,1,1,1,1],[0,0,1,1,1,1,1],[0,0,0,0,0,0,1],[0,0,0,0,0,0,1],[0,0,0,0,0,0,1],[0,0,0,0,0,0,1],[0,0,0,0,0,0,0]],
        "ops": ["input","conv3x3-bn-relu","conv3x3-bn-relu","conv3x3-bn-relu","conv3x3-bn-relu","maxpool3x3","output"]
    });
    let why = s.check(&s.parse(&dense.to_string()).unwrap()).unwrap_err();
    assert_eq!(why, "15 edges after pruning, at most 9");
    let o = nar(&[
        "arch",
        "--space",
        declaration("nb101.yaml").to_str().unwrap(),
        r#"{"matrix": [[0,1,0],[0,0,0],[0,0,0]], "ops": ["input","conv3x3-bn-relu","output"]}"#,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stdout).contains("valid    no: the output is not reachable from the input"));
}

#[test]
fn the_darts_cell_is_sampled_mutated_and_identified_up_to_relabelling() {
    let s = edges("darts-cell.yaml");
    // Four intermediate nodes choosing 2 of their 2, 3, 4, 5 earlier nodes (1, 3, 6, 10 ways), 8 ops
    // an input.
    let ways: u128 = [1, 3, 6, 10].iter().product();
    assert_eq!(s.size(), Some(ways * 8u128.pow(8)));
    assert!(!s.enumerable());
    let mut rng = Rng::new(7);
    let mut hashes = HashSet::new();
    for _ in 0..200 {
        let c = s.sample(&mut rng);
        assert_eq!(s.parse(&s.text(&c)).unwrap(), c);
        for n in s.neighbours(&c) {
            assert_eq!(s.parse(&s.text(&n)).unwrap(), n, "a neighbour is a cell of the space");
        }
        hashes.insert(s.hash(&c));
    }
    assert!(hashes.len() > 190, "200 samples of 3 × 10^9 cells are nearly all distinct");
    // Nodes 2 and 3 both read only the inputs: swapping them (and what reads them) is the same cell.
    let a = s.parse("|sep_conv_3x3~0|sep_conv_5x5~1|+|dil_conv_3x3~0|max_pool_3x3~1|+|sep_conv_3x3~2|skip_connect~3|+|avg_pool_3x3~2|dil_conv_5x5~4|").unwrap();
    let b = s.parse("|dil_conv_3x3~0|max_pool_3x3~1|+|sep_conv_3x3~0|sep_conv_5x5~1|+|skip_connect~2|sep_conv_3x3~3|+|avg_pool_3x3~3|dil_conv_5x5~4|").unwrap();
    assert_ne!(a, b);
    assert_eq!(s.hash(&a), s.hash(&b));
    // Enumerating it is refused with its size; nothing is written.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("darts.csv");
    let o = nar(&["space", "enumerate", declaration("darts-cell.yaml").to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("darts-cell holds 3.02 × 10^9 cells"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists());
}

#[test]
fn space_enumerate_and_arch_on_a_declaration() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nb201.csv");
    let o = nar(&["space", "enumerate", declaration("nb201.yaml").to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrote 15625 cells of nb201 (4660 function classes)"));
    let mut reader = csv::Reader::from_path(&out).unwrap();
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), ["index", "arch", "hash", "class", "canonical"]);
    let mut members: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for r in reader.records() {
        let r = r.unwrap();
        let e = members.entry(r[2].to_string()).or_insert((0, r[4].to_string()));
        e.0 += 1;
        assert_eq!(e.1, r[4], "one canonical cell per hash");
    }
    assert_eq!(members.len(), 4_660);
    // `nar arch --space`: the class of the all-skip cell holds the cells whose edges into the output
    // carry one skip from a node that passes x on, and nothing else (here: 4 of them checked through
    // the canonical form's class size).
    let o = nar(&[
        "arch",
        "--space",
        declaration("nb201.yaml").to_str().unwrap(),
        "--json",
        "|skip_connect~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|",
    ]);
    let r: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(r["function"], "x");
    assert_eq!(r["canonical"], "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|");
    let size =
        members.values().find(|(_, c)| c == "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|").unwrap().0;
    assert_eq!(r["class_size"], size);
    // Not a cell of the space: why, exit 2.
    let o = nar(&[
        "arch",
        "--space",
        declaration("nb201.yaml").to_str().unwrap(),
        "|nor_conv_7x7~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"nor_conv_7x7\" is not an op of nb201"));
}

#[test]
fn bad_declarations_are_refused_naming_the_file_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(declaration("nb201.yaml")).unwrap();
    let cases = [
        (good.replace("nodes: 4", "nodes: 4\nwidth: 16"), "unknown field `width`"),
        (good.replace("accuracy: percent\n", ""), "`accuracy` is missing"),
        (good.replace("zero: none", "zero: nothing"), "`zero`: nothing is not among the ops"),
        (good.replace("nodes: 4", "nodes: 1"), "`nodes`: 1"),
        (good.replace("avg_pool_3x3]\nzero", "none]\nzero"), "`ops`: none is listed twice"),
        (
            good.replace("skeleton: nb201", "skeleton: nb101"),
            "`network.skeleton`: nb101 takes cells of the vertices family",
        ),
        (good.replace("channels: 16", "channels: 0"), "`network.channels`: 0: at least 1"),
        (
            good.replace("cells_per_stage: 5", "cells_per_stack: 5"),
            "`network.cells_per_stack`: is a key of the nb101 skeleton",
        ),
    ];
    for (i, (text, says)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.yaml"));
        std::fs::write(&path, text).unwrap();
        let out = dir.path().join(format!("out{i}.csv"));
        let o = nar(&["space", "enumerate", path.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{says}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&format!("bad{i}.yaml")) && err.contains(says), "{err} (expected {says})");
        assert!(!out.exists(), "nothing written");
    }
}

#[test]
fn the_nb101_declaration_enumerates_nas_bench_101() {
    let DeclaredSpace::Vertices(s) = DeclaredSpace::load(&declaration("nb101.yaml")).unwrap() else {
        panic!("nb101.yaml is of the vertices family")
    };
    let entries = s.enumerate().unwrap();
    assert_eq!(entries.len(), 423_624);
    let declared: HashSet<&str> = entries.iter().map(|e| e.hash.as_str()).collect();
    let built_in: HashSet<String> =
        nar::spaces::nb101::enumerate::all_cells().iter().map(|e| nar::spaces::nb101::hash::to_hex(&e.hash)).collect();
    assert!(built_in.iter().all(|h| declared.contains(h.as_str())), "the same 423,624 hashes");
    assert!(common::nb101_subset().iter().all(|r| declared.contains(r.hash.as_str())));
}

/// A cell of the small space below as a rooted tree: the input's children, each an op and its
/// children (in-degree 1 makes every cell a tree; the output sums the leaves).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Node {
    op: usize,
    kids: Vec<Node>,
}

/// Every forest of `k` nodes, ops `0..ops`, each once (children sorted).
fn forests(k: usize, ops: usize) -> HashSet<Vec<Node>> {
    if k == 0 {
        return HashSet::from([Vec::new()]);
    }
    let mut out = HashSet::new();
    // The first tree takes `t` nodes (its root and a forest of t − 1), the rest of the forest k − t.
    for t in 1..=k {
        for op in 0..ops {
            for kids in forests(t - 1, ops) {
                for rest in forests(k - t, ops) {
                    let mut f = rest.clone();
                    f.push(Node { op, kids: kids.clone() });
                    f.sort();
                    out.insert(f);
                }
            }
        }
    }
    out
}

/// A forest with its `identity` nodes spliced out: (whether its parent now feeds the output, the
/// contracted children) — an identity leaf passes its parent's value to the output, an identity with
/// children hands them to its parent; an op leaf feeds the output itself.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Contracted {
    op: usize,
    feeds_output: bool,
    kids: Vec<Contracted>,
}

fn contract(forest: &[Node], identity: usize) -> (bool, Vec<Contracted>) {
    let mut tapped = false;
    let mut kids = Vec::new();
    for n in forest {
        let (t, k) = contract(&n.kids, identity);
        if n.op == identity {
            tapped |= n.kids.is_empty() || t;
            kids.extend(k);
        } else {
            kids.push(Contracted { op: n.op, feeds_output: n.kids.is_empty() || t, kids: k });
        }
    }
    kids.sort();
    (tapped, kids)
}

#[test]
fn a_space_written_only_as_a_declaration_enumerates_its_trees() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trees.yaml");
    std::fs::write(
        &path,
        "name: trees\nfamily: vertices\nmax_vertices: 5\nmax_edges: 8\nin_degree: [1, 1]\noutput: leaves\n\
         output_merge: sum\nops: [conv, pool, id]\nidentity: id\naccuracy: fraction\ntasks: [toy]\n",
    )
    .unwrap();
    let DeclaredSpace::Vertices(s) = DeclaredSpace::load(&path).unwrap() else { panic!("vertices") };
    let entries = s.enumerate().unwrap();
    // Independently: rooted trees of 0 to 3 op vertices under the input, 3 ops each.
    let trees: Vec<Vec<Node>> = (0..=3).flat_map(|k| forests(k, 3)).collect();
    assert_eq!(entries.len(), trees.len());
    // Forests of 3 nodes: three roots (10), a root beside a chain of 2 (27), a chain of 3 (27), a root
    // with two children (18).
    assert_eq!(entries.len(), 1 + 3 + (6 + 9) + (10 + 27 + 27 + 18), "forests of 0, 1, 2, 3 labelled nodes");
    // (The cell of no op vertex feeds its input to the output.)
    let functions: HashSet<(bool, Vec<Contracted>)> =
        trees.iter().map(|f| if f.is_empty() { (true, Vec::new()) } else { contract(f, 2) }).collect();
    let classes: HashSet<String> = entries.iter().map(|e| s.class_hash(&s.check(&e.cell).unwrap())).collect();
    assert_eq!(classes.len(), functions.len());
    let o = nar(&["space", "info", path.to_str().unwrap()]);
    assert!(ok(&o).contains(&format!(
        "{} cells (one per isomorphism class), enumerated; {} function classes",
        trees.len(),
        functions.len()
    )));
}
