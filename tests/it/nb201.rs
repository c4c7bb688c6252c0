//! NAS-Bench-201 architectures: strings, matrices and the benchmark index order, on real data.

use crate::common;

use nar::spaces::nb201::{Arch, ArchError, Op, SPACE_SIZE};

#[test]
fn all_benchmark_strings_round_trip_in_index_order() {
    let rows = common::nb201_strings();
    assert_eq!(rows.len(), SPACE_SIZE);
    let all = Arch::all();
    assert_eq!(all.len(), SPACE_SIZE);
    for ((index, text), enumerated) in rows.iter().zip(&all) {
        let a: Arch = text.parse().unwrap_or_else(|e| panic!("{index}: {e}"));
        assert_eq!(&a.to_string(), text);
        assert_eq!(a.index(), *index);
        assert_eq!(a, *enumerated, "enumeration order differs at index {index}");
        assert_eq!(Arch::from_index(*index).unwrap(), a);
        assert_eq!(Arch::from_code(a.code()), a);
        let m: Vec<Vec<i64>> = a.matrix().iter().map(|r| r.iter().map(|&x| x as i64).collect()).collect();
        assert_eq!(Arch::from_matrix(&m).unwrap(), a);
    }
    // Every op combination appears exactly once.
    let mut codes: Vec<u16> = all.iter().map(Arch::code).collect();
    codes.sort_unstable();
    assert!(codes.iter().enumerate().all(|(i, &c)| i == c as usize));
}

#[test]
fn example_file_matrix_matches_its_string() {
    let v = common::read_json("examples/nasbench201_vertice_example.json");
    let rec = &v["0"];
    let a: Arch = rec["arch_str"].as_str().unwrap().parse().unwrap();
    let m: Vec<Vec<i64>> = serde_json::from_value(rec["cell_adjacency"].clone()).unwrap();
    assert_eq!(Arch::from_matrix(&m).unwrap(), a);
    assert_eq!(a.index(), 0);
    assert_eq!(a.op_counts(), [0, 3, 2, 0, 1]);
}

#[test]
fn bad_strings_and_matrices_give_clear_errors() {
    let ok = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|";
    assert!(ok.parse::<Arch>().is_ok());
    let err = |s: &str| s.parse::<Arch>().unwrap_err();
    assert!(matches!(err("|nor_conv_3x3~0|+|none~0|skip_connect~1|"), ArchError::NodeCount { found: 2, .. }));
    assert!(matches!(
        err("nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"),
        ArchError::NodeSyntax { node: 1, .. }
    ));
    assert_eq!(
        err("|nor_conv_3x3~0|+|none~0|+|none~0|none~1|none~2|"),
        ArchError::EdgeCount { node: 2, expected: 2, found: 1 }
    );
    let e = err("|conv7x7~0|+|none~0|none~1|+|none~0|none~1|none~2|");
    assert_eq!(e, ArchError::UnknownOp { node: 1, name: "conv7x7".into() });
    assert!(e.to_string().contains("unknown operation \"conv7x7\""));
    assert!(matches!(
        err("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|"),
        ArchError::WrongSource { node: 1, expected: 0, .. }
    ));
    assert!(matches!(err("|none|+|none~0|none~1|+|none~0|none~1|none~2|"), ArchError::EdgeSyntax { node: 1, .. }));
    assert_eq!(Arch::from_index(15_625), Err(ArchError::BadIndex { index: 15_625 }));
    assert_eq!(Arch::from_matrix(&vec![vec![0; 4]; 3]), Err(ArchError::MatrixRows { rows: 3 }));
    let mut m = vec![vec![0i64; 4]; 4];
    m[1][0] = 2;
    assert_eq!(Arch::from_matrix(&m), Err(ArchError::NotAnEdge { row: 1, col: 0, value: 2 }));
    m[1][0] = 0;
    m[0][3] = 5;
    assert_eq!(Arch::from_matrix(&m), Err(ArchError::BadCode { row: 0, col: 3, value: 5 }));
    m[0][3] = 0;
    m[2] = vec![0, 0];
    assert_eq!(Arch::from_matrix(&m), Err(ArchError::MatrixCols { row: 2, len: 2 }));
    assert_eq!(Op::from_name("nor_conv_1x1"), Some(Op::Conv1x1));
}

/// NAS-Bench-201's own isomorphism string (`CellStructure.to_unique_str(consider_zero=True)` in its
/// API): skip is the identity and a `none` or a zero input gives a zero term `#`, but zero terms stay in
/// their sums. Written here from its definition, to check nar's coarser rule against it.
fn nb201_unique_str(a: &Arch) -> String {
    let edges = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)];
    let mut nodes = vec!["0".to_string()];
    for j in 1..4 {
        let mut cur: Vec<String> = Vec::new();
        for (&(i, jj), op) in edges.iter().zip(a.ops()) {
            if jj != j {
                continue;
            }
            cur.push(match op {
                _ if op == Op::None || nodes[i] == "#" => "#".to_string(),
                Op::SkipConnect => nodes[i].clone(),
                _ => format!("({})@{}", nodes[i], op.name()),
            });
        }
        cur.sort();
        nodes.push(cur.join("+"));
    }
    nodes[3].clone()
}

#[test]
fn canonical_forms_count_the_distinct_functions() {
    use nar::spaces::nb201::distinct_functions;
    use std::collections::{HashMap, HashSet};
    let all = Arch::all();
    assert_eq!(distinct_functions(), 4660);
    // NAS-Bench-201's own rule finds its published 6,466 unique cells; each of them lies inside one of
    // nar's classes (nar's rule also drops zero terms from sums and distributes the linear pooling).
    let mut theirs: HashMap<String, Arch> = HashMap::new();
    for a in &all {
        let b = *theirs.entry(nb201_unique_str(a)).or_insert(*a);
        assert!(a.equivalent(&b), "{a} and {b} are isomorphic by NB201's rule");
    }
    assert_eq!(theirs.len(), 6466);
    // The canonical form is a member of its class, is its own canonical form, and has the most `none`s.
    let nones = |a: &Arch| a.ops().iter().filter(|&&o| o == Op::None).count();
    let mut reps = HashSet::new();
    for a in &all {
        let c = a.canonical();
        assert_eq!(c.function(), a.function());
        assert_eq!(c.canonical(), c);
        assert!(nones(&c) >= nones(a));
        reps.insert(c);
    }
    assert_eq!(reps.len(), 4660);
    // Worked examples (docs/design.md §1): an edge whose source is cut off from the input is dropped;
    // a skip then a conv is the conv straight from the input; parallel branches commute.
    let p = |t: &str| t.parse::<Arch>().unwrap();
    let cut = p("|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|");
    assert_eq!(cut.function(), "avg(conv3(x))+conv1(x)");
    // Of its two 3-`none` forms (branches through node 1 or node 2), the lower index.
    let (pruned, swapped) = (
        p("|none~0|+|nor_conv_3x3~0|none~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|"),
        p("|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|"),
    );
    assert!(pruned.equivalent(&cut) && swapped.equivalent(&cut) && swapped.index() < pruned.index());
    assert_eq!(cut.canonical(), swapped);
    let via_skip = p("|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|");
    let direct = p("|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|");
    assert!(via_skip.equivalent(&direct));
    assert_eq!(via_skip.canonical(), direct);
    let a = p("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|avg_pool_3x3~1|skip_connect~2|");
    let b = p("|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|none~0|skip_connect~1|avg_pool_3x3~2|");
    assert!(a.equivalent(&b));
    // Two convolutions of the input are two weights, not one: not equivalent to a single one.
    let two = p("|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_3x3~0|skip_connect~1|none~2|");
    assert!(!two.equivalent(&direct));
    assert_eq!(p("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|").function(), "");
}
