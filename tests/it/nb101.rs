//! NAS-Bench-101 cells: validation, pruning, hashing and the whole-space enumeration, on real data.

use crate::common;

use std::collections::HashMap;

use nar::spaces::nb101::enumerate::{SPACE_SIZE, all_cells};
use nar::spaces::nb101::{Cell, CellError, Op, hash};

fn cell(matrix: &[&[i64]], ops: &[&str]) -> Result<Cell, CellError> {
    let m: Vec<Vec<i64>> = matrix.iter().map(|r| r.to_vec()).collect();
    Cell::new(&m, ops)
}

#[test]
fn every_subset_row_hashes_to_its_listed_hash() {
    let rows = common::nb101_subset();
    assert_eq!(rows.len(), 1000);
    for row in &rows {
        let c = Cell::new(&row.matrix, &row.ops).unwrap_or_else(|e| panic!("{}: {e}", row.hash));
        assert_eq!(c.hash(), row.hash, "matrix {:?} ops {:?}", row.matrix, row.ops);
        // Stored cells are already pruned: validation keeps them as they are.
        let back: Vec<Vec<i64>> = c.matrix().iter().map(|r| r.iter().map(|&b| b as i64).collect()).collect();
        assert_eq!(back, row.matrix);
    }
}

#[test]
fn example_file_cell_hashes_to_its_unique_hash() {
    let v = common::read_json("examples/nasbench101_vertice_example.json");
    let rec = &v[0];
    let matrix: Vec<Vec<i64>> = serde_json::from_value(rec["module_adjacency"].clone()).unwrap();
    let ops: Vec<String> = serde_json::from_value(rec["module_operations"].clone()).unwrap();
    let c = Cell::new(&matrix, &ops).unwrap();
    assert_eq!(c.hash(), rec["unique_hash"].as_str().unwrap());
    // The hash NAS-Bench-101 keys this cell by: the first row of data/nb101/nb101_subset_1k.csv too.
    assert_eq!(c.hash(), "00005c142e6f48ac74fdcf73e3439874");
}

#[test]
fn hash_is_invariant_under_relabelling_interior_vertices() {
    // Take real cells and renumber their interior vertices in another topological order when one exists.
    let rows = common::nb101_subset();
    let mut checked = 0;
    for row in rows.iter().take(300) {
        let n = row.matrix.len();
        // Swap two adjacent interior vertices i, i+1 that have no edge between them: still upper-triangular.
        for i in 1..n.saturating_sub(2) {
            if row.matrix[i][i + 1] == 0 {
                let perm = |v: usize| {
                    if v == i {
                        i + 1
                    } else if v == i + 1 {
                        i
                    } else {
                        v
                    }
                };
                let mut m = vec![vec![0i64; n]; n];
                let mut ops = vec![String::new(); n];
                for a in 0..n {
                    ops[perm(a)] = row.ops[a].clone();
                    for b in 0..n {
                        m[perm(a)][perm(b)] = row.matrix[a][b];
                    }
                }
                let c = Cell::new(&m, &ops).unwrap();
                assert_eq!(c.hash(), row.hash);
                checked += 1;
                break;
            }
        }
    }
    assert!(checked > 100, "only {checked} cells could be relabelled");
}

#[test]
fn pruning_removes_vertices_off_the_input_output_path() {
    // The example cell with a dangling conv (vertex 3 reaches nothing) and an unreachable one (vertex 1).
    let m: &[&[i64]] = &[&[0, 0, 1, 1, 0], &[0, 0, 1, 0, 0], &[0, 0, 0, 0, 1], &[0, 0, 0, 0, 0], &[0, 0, 0, 0, 0]];
    let ops = ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output"];
    let mm: Vec<Vec<i64>> = m.iter().map(|r| r.to_vec()).collect();
    let pruned = Cell::prune(&mm, &ops).unwrap();
    assert_eq!(pruned.removed, vec![1, 3]);
    assert_eq!(pruned.cell.num_vertices(), 3);
    assert_eq!(pruned.cell.ops(), &[Op::Input, Op::Conv3x3, Op::Output]);
    let direct = cell(&[&[0, 1, 0], &[0, 0, 1], &[0, 0, 0]], &["input", "conv3x3-bn-relu", "output"]).unwrap();
    assert_eq!(pruned.cell, direct);
    assert_eq!(pruned.cell.hash(), direct.hash());
}

#[test]
fn malformed_cells_give_clear_errors() {
    let io = ["input", "output"];
    assert_eq!(Cell::new(&[] as &[Vec<i64>], &[] as &[&str]), Err(CellError::Empty));
    assert_eq!(cell(&[&[0, 1], &[0]], &io), Err(CellError::NotSquare { row: 1, len: 1, expected: 2 }));
    assert_eq!(cell(&[&[0, 1], &[0, 0]], &["input"]), Err(CellError::OpsLength { ops: 1, vertices: 2 }));
    assert_eq!(cell(&[&[0, 2], &[0, 0]], &io), Err(CellError::NotBinary { row: 0, col: 1, value: 2 }));
    assert_eq!(cell(&[&[0, 1], &[1, 0]], &io), Err(CellError::NotUpperTriangular { row: 1, col: 0 }));
    assert_eq!(cell(&[&[1, 1], &[0, 0]], &io), Err(CellError::NotUpperTriangular { row: 0, col: 0 }));
    let e = cell(&[&[0, 1, 0], &[0, 0, 1], &[0, 0, 0]], &["input", "conv5x5", "output"]).unwrap_err();
    assert_eq!(e, CellError::UnknownOp { vertex: 1, name: "conv5x5".into() });
    assert!(e.to_string().contains("unknown operation \"conv5x5\" at vertex 1"), "{e}");
    assert!(matches!(cell(&[&[0, 1], &[0, 0]], &["output", "input"]), Err(CellError::FirstNotInput { .. })));
    assert!(matches!(cell(&[&[0, 1], &[0, 0]], &["input", "maxpool3x3"]), Err(CellError::LastNotOutput { .. })));
    assert!(matches!(
        cell(&[&[0, 1, 0], &[0, 0, 1], &[0, 0, 0]], &["input", "output", "output"]),
        Err(CellError::MisplacedIo { vertex: 1, .. })
    ));
    // Disconnected: the input reaches vertex 1 only, which does not reach the output.
    let e = cell(&[&[0, 1, 0], &[0, 0, 0], &[0, 0, 0]], &["input", "conv3x3-bn-relu", "output"]).unwrap_err();
    assert_eq!(e, CellError::Disconnected);
    assert!(e.to_string().contains("disconnected"));
    // Eight vertices in a chain: too many after pruning.
    let n = 8;
    let chain: Vec<Vec<i64>> = (0..n).map(|i| (0..n).map(|j| i64::from(j == i + 1)).collect()).collect();
    let mut ops = vec!["conv3x3-bn-relu"; n];
    ops[0] = "input";
    ops[n - 1] = "output";
    assert_eq!(Cell::new(&chain, &ops), Err(CellError::TooManyVertices { vertices: 8 }));
    // Seven vertices with ten edges (a chain plus four shortcuts to the output): too many edges.
    let dense: &[&[i64]] = &[
        &[0, 1, 0, 0, 0, 0, 1],
        &[0, 0, 1, 0, 0, 0, 1],
        &[0, 0, 0, 1, 0, 0, 1],
        &[0, 0, 0, 0, 1, 0, 1],
        &[0, 0, 0, 0, 0, 1, 0],
        &[0, 0, 0, 0, 0, 0, 1],
        &[0, 0, 0, 0, 0, 0, 0],
    ];
    let ops7 =
        ["input", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output"];
    let e = cell(dense, &ops7).unwrap_err();
    assert_eq!(e, CellError::TooManyEdges { edges: 10 });
    assert!(e.to_string().contains("10 edges; at most 9"), "{e}");
}

#[test]
fn hex_round_trip() {
    let raw = hash::from_hex("00005c142e6f48ac74fdcf73e3439874").unwrap();
    assert_eq!(hash::to_hex(&raw), "00005c142e6f48ac74fdcf73e3439874");
    assert_eq!(hash::from_hex("00005c14"), None);
    assert_eq!(hash::from_hex("g0005c142e6f48ac74fdcf73e3439874"), None);
}

#[test]
#[ignore = "enumerates all of NAS-Bench-101: run in release (`cargo test --release -- --include-ignored`)"]
fn enumeration_yields_the_whole_space_with_nasbench_representatives() {
    let entries = all_cells();
    assert_eq!(entries.len(), SPACE_SIZE);
    assert_eq!(entries.len(), 423_624);
    assert!(entries.windows(2).all(|w| w[0].hash < w[1].hash), "sorted by hash, no duplicates");
    let by_hash: HashMap<String, Cell> = entries.iter().map(|e| (hash::to_hex(&e.hash), e.cell)).collect();
    for row in common::nb101_subset() {
        let c = by_hash.get(&row.hash).unwrap_or_else(|| panic!("{} not enumerated", row.hash));
        // The stored hash is the cell's own hash, and the representative is the very matrix and op
        // list NAS-Bench-101 stores (the first of its class in generate_graphs.py order).
        assert_eq!(c.hash(), row.hash);
        let m: Vec<Vec<i64>> = c.matrix().iter().map(|r| r.iter().map(|&b| b as i64).collect()).collect();
        assert_eq!(m, row.matrix, "{}", row.hash);
        assert_eq!(c.op_names(), row.ops, "{}", row.hash);
    }
    // The first 1,000 hashes of the space are exactly the subset (it is "the first 1,000 by hash").
    let subset: Vec<String> = common::nb101_subset().into_iter().map(|r| r.hash).collect();
    let first: Vec<String> = entries.iter().take(1000).map(|e| hash::to_hex(&e.hash)).collect();
    assert_eq!(first, subset);
}

#[test]
fn neighbours_are_valid_distinct_cells_one_mutation_away() {
    let v = common::read_json("examples/nasbench101_vertice_example.json");
    let matrix: Vec<Vec<i64>> = serde_json::from_value(v[0]["module_adjacency"].clone()).unwrap();
    let ops: Vec<String> = serde_json::from_value(v[0]["module_operations"].clone()).unwrap();
    let cell = Cell::new(&matrix, &ops).unwrap();
    let n = nar::spaces::nb101::neighbours(&cell);
    // 5 interior vertices × 2 other ops = 10 op changes; of the 21 edge flips of a 7-vertex cell, those
    // that stay within 9 edges and valid. Every result is a distinct cell, none isomorphic to the start.
    let hashes: std::collections::HashSet<String> = n.iter().map(|c| c.hash()).collect();
    assert_eq!(hashes.len(), n.len());
    assert!(!hashes.contains(&cell.hash()));
    let op_changes = n.iter().filter(|c| c.matrix() == cell.matrix()).count();
    assert_eq!(op_changes, 10);
    assert!(n.len() > 10, "edge flips too: {}", n.len());
    for c in &n {
        assert!(c.num_edges() <= 9 && c.num_vertices() <= 7);
    }
}
