//! NAS-Bench-201 architectures: strings, matrices and the benchmark index order, on real data.

mod common;

use nar::space::nb201::{Arch, ArchError, Op, SPACE_SIZE};

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
