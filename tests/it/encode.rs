//! Feature tensors are laid out as NAR's reference encoders lay them out.

use crate::common;

use nar::spaces::nb101::Cell;
use nar::spaces::nb101::cost as cost101;
use nar::spaces::nb201::cost as cost201;
use nar::spaces::nb201::{Arch, ImageDataset as Dataset};
use serde_json::Value;

/// NAR's padding, step by step: append a zero row/column, then swap the last two rows and columns.
fn reference_pad_matrix(m: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let mut p: Vec<Vec<f32>> = m.to_vec();
    while p.len() < 7 {
        let n = p.len();
        p.iter_mut().for_each(|r| r.push(0.0));
        p.push(vec![0.0; n + 1]);
        p.swap(n - 1, n);
        p.iter_mut().for_each(|r| r.swap(n - 1, n));
    }
    p
}

fn reference_pad_vector(v: &[f32]) -> Vec<f32> {
    let mut p = v.to_vec();
    while p.len() < 7 {
        p.push(0.0);
        let n = p.len();
        p.swap(n - 2, n - 1);
    }
    p
}

/// The reference NB101 encoding from a NAR-format record (matrix, ops, per-cell vertex values).
fn reference_nb101(matrix: &[Vec<i64>], ops: &[String], flops: &[Vec<u64>], params: &[Vec<u64>]) -> Vec<f32> {
    let code = |o: &str| match o {
        "input" => 1.0,
        "conv1x1-bn-relu" => 2.0,
        "conv3x3-bn-relu" => 3.0,
        "maxpool3x3" => 4.0,
        "output" => 5.0,
        _ => panic!("op"),
    };
    let m = reference_pad_matrix(&matrix.iter().map(|r| r.iter().map(|&x| x as f32).collect()).collect::<Vec<_>>());
    let mul = |v: &[f32]| -> Vec<f32> {
        let v = reference_pad_vector(v);
        m.iter().flat_map(|row| row.iter().zip(&v).map(|(a, b)| a * b).collect::<Vec<_>>()).collect()
    };
    let mut out = mul(&ops.iter().map(|o| code(o)).collect::<Vec<_>>());
    for (f, p) in flops.iter().zip(params) {
        out.extend(mul(&f.iter().map(|&x| x as f32 / 1e7_f32).collect::<Vec<_>>()));
        out.extend(mul(&p.iter().map(|&x| x as f32 / 1e5_f32).collect::<Vec<_>>()));
    }
    out
}

#[test]
fn nb101_example_matches_reference_layout() {
    let v = common::read_json("examples/nasbench101_vertice_example.json");
    let rec = &v[0];
    let matrix: Vec<Vec<i64>> = serde_json::from_value(rec["module_adjacency"].clone()).unwrap();
    let ops: Vec<String> = serde_json::from_value(rec["module_operations"].clone()).unwrap();
    let vals = |k: &str| -> Vec<Vec<u64>> {
        rec[k].as_object().unwrap().values().map(|x| serde_json::from_value(x.clone()).unwrap()).collect()
    };
    let cell = Cell::new(&matrix, &ops).unwrap();
    let t = nar::spaces::nb101::encode::tensor(&cell, &cost101::network_cost(&cell));
    assert_eq!((t.channels, t.dim), (19, 7));
    assert_eq!(t.data, reference_nb101(&matrix, &ops, &vals("vertex_flops"), &vals("vertex_params")));
    assert_eq!(t.get(0, 0, 1), 3.0); // input → conv3x3
    assert!((t.get(1, 0, 1) - 9.227_468_8).abs() < 1e-6); // 92,274,688 / 1e7
}

#[test]
fn nb101_small_cells_are_padded_before_the_output() {
    let rows = common::nb101_subset();
    let mut small = 0;
    for row in rows.iter().filter(|r| r.matrix.len() < 7).take(50) {
        let cell = Cell::new(&row.matrix, &row.ops).unwrap();
        let cost = cost101::network_cost(&cell);
        let flops: Vec<Vec<u64>> = cost.cells.iter().map(|c| c.flops.clone()).collect();
        let params: Vec<Vec<u64>> = cost.cells.iter().map(|c| c.params.clone()).collect();
        let t = nar::spaces::nb101::encode::tensor(&cell, &cost);
        assert_eq!(t.data, reference_nb101(&row.matrix, &row.ops, &flops, &params), "{}", row.hash);
        // The output vertex sits at index 6: some edge into column 6 carries the output code.
        assert!((0..7).any(|i| t.get(0, i, 6) == 5.0));
        small += 1;
    }
    assert!(small >= 10, "the subset has cells with fewer than 7 vertices");
}

#[test]
fn nb201_example_matches_reference_layout_for_each_dataset() {
    let v = common::read_json("examples/nasbench201_vertice_example.json");
    let rec = &v["0"];
    let arch: Arch = rec["arch_str"].as_str().unwrap().parse().unwrap();
    let edges = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)];
    for d in Dataset::ALL {
        let t = nar::spaces::nb201::encode::tensor(&arch, &cost201::network_cost(&arch, d));
        assert_eq!((t.channels, t.dim), (31, 4));
        let m: Vec<Vec<f32>> = serde_json::from_value::<Vec<Vec<f32>>>(rec["cell_adjacency"].clone()).unwrap();
        assert_eq!(t.channel(0), m);
        let flops: Vec<&Value> = rec[format!("{}_opt_flops", d.nar_key())].as_object().unwrap().values().collect();
        let params: Vec<&Value> = rec[format!("{}_opt_params", d.nar_key())].as_object().unwrap().values().collect();
        for (c, (f, p)) in flops.iter().zip(&params).enumerate() {
            for (e, &(i, j)) in edges.iter().enumerate() {
                assert_eq!(t.get(1 + 2 * c, i, j), f[e].as_u64().unwrap() as f32);
                assert_eq!(t.get(2 + 2 * c, i, j), p[e].as_u64().unwrap() as f32);
            }
        }
        // Nothing off the six edges.
        for c in 0..31 {
            for i in 0..4 {
                for j in 0..=i {
                    assert_eq!(t.get(c, i, j), 0.0);
                }
            }
        }
    }
}
