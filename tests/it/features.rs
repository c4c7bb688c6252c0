//! The feature sets on known architectures: docs/design.md §4's worked example of the graph features,
//! the path encoding and the one-hot columns, and what pruning makes equal.

use nar::features::{FeatureSet, row, table};
use nar::space::SpaceKind;
use nar::spaces::nb101::Cifar10;
use nar::spaces::nb201::ImageDataset;
use nar::spaces::{Nb101, Nb201, nb101, nb201};

fn named(space: SpaceKind, set: FeatureSet, values: &[f64]) -> Vec<(String, f64)> {
    let names = nar::with_space!(space, S => set.names::<S>());
    assert_eq!(names.len(), values.len());
    names.into_iter().zip(values.iter().copied()).collect()
}

fn get(named: &[(String, f64)], name: &str) -> f64 {
    named.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no feature {name}")).1
}

const EXAMPLE: &str = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|";

#[test]
fn nb201_graph_features_of_the_worked_example() {
    // Edges: 0→1 conv3x3, 0→2 none, 1→2 skip, 0→3 conv1x1, 1→3 avgpool, 2→3 none. The skip edge 1→2
    // feeds node 2, whose only way out is `none`: it is off every input→output path and is pruned.
    let a: nb201::Arch = EXAMPLE.parse().unwrap();
    let mut v = Vec::new();
    row::<Nb201>(&a, ImageDataset::Cifar10, &[FeatureSet::Graph], &mut v).unwrap();
    let f = named(SpaceKind::Nb201, FeatureSet::Graph, &v);
    for (name, want) in [
        ("count:skip_connect", 0.0),
        ("count:nor_conv_1x1", 1.0),
        ("count:nor_conv_3x3", 1.0),
        ("count:avg_pool_3x3", 1.0),
        ("vertices", 3.0),
        ("edges", 5.0),
        ("paths", 2.0),
        ("longest_path", 2.0),
        ("shortest_path", 1.0),
        ("min_path[nor_conv_1x1]", 1.0),
        ("max_on_path[nor_conv_1x1]", 1.0),
        ("input_out[nor_conv_1x1]", 1.0),
        ("output_in[nor_conv_1x1]", 1.0),
        ("min_path[nor_conv_3x3]", -1.0),
        ("max_on_path[nor_conv_3x3]", 1.0),
        ("input_out[nor_conv_3x3]", 1.0),
        ("output_in[nor_conv_3x3]", 0.0),
        ("avg_out[nor_conv_3x3]", 1.0),
        ("min_path[nor_conv_3x3+avg_pool_3x3]", 2.0),
        ("max_on_path[nor_conv_3x3+avg_pool_3x3]", 2.0),
        ("output_in[nor_conv_3x3+avg_pool_3x3]", 1.0),
        ("min_path[skip_connect]", -1.0),
        ("max_on_path[skip_connect]", 0.0),
        ("avg_in[skip_connect]", 0.0),
        ("min_path[skip_connect+nor_conv_1x1+nor_conv_3x3+avg_pool_3x3]", 1.0),
        ("avg_in[skip_connect+nor_conv_1x1+nor_conv_3x3+avg_pool_3x3]", 1.0),
    ] {
        assert_eq!(get(&f, name), want, "{name}");
    }
    assert_eq!(v.len(), 4 + 5 + 15 * 6);

    // The path encoding: one conv1x1 path and one conv3x3 > avgpool path.
    let mut p = Vec::new();
    row::<Nb201>(&a, ImageDataset::Cifar10, &[FeatureSet::Paths], &mut p).unwrap();
    let p = named(SpaceKind::Nb201, FeatureSet::Paths, &p);
    assert_eq!(get(&p, "path:nor_conv_1x1"), 1.0);
    assert_eq!(get(&p, "path:nor_conv_3x3>avg_pool_3x3"), 1.0);
    assert_eq!(p.iter().map(|(_, v)| v).sum::<f64>(), 2.0);
    assert_eq!(p.len(), 1 + 4 + 16 + 64);

    // One-hot: the raw ops, irrelevant edges included.
    let mut o = Vec::new();
    row::<Nb201>(&a, ImageDataset::Cifar10, &[FeatureSet::Onehot], &mut o).unwrap();
    let o = named(SpaceKind::Nb201, FeatureSet::Onehot, &o);
    assert_eq!(get(&o, "edge12=skip_connect"), 1.0);
    assert_eq!(get(&o, "edge02=none"), 1.0);
    assert_eq!(o.iter().map(|(_, v)| v).sum::<f64>(), 6.0);

    // Cost: the cost model's totals (docs/design.md §2).
    let mut c = Vec::new();
    row::<Nb201>(&nb201::Arch::from_index(0).unwrap(), ImageDataset::Cifar10, &[FeatureSet::Cost], &mut c).unwrap();
    assert_eq!(c, [16_315_008.0, 129_306.0]);
}

#[test]
fn nb201_cells_that_differ_only_off_the_paths_share_graph_and_path_features() {
    // The pruned skip edge 1→2 of the example replaced by each other op: the same function.
    let base: nb201::Arch = EXAMPLE.parse().unwrap();
    let sets = [FeatureSet::Graph, FeatureSet::Paths];
    let want = table::<Nb201>(&[base], ImageDataset::Cifar10, &sets).unwrap();
    for op in ["none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3"] {
        let other: nb201::Arch = EXAMPLE.replace("skip_connect~1", &format!("{op}~1")).parse().unwrap();
        assert_ne!(other, base);
        assert_eq!(table::<Nb201>(&[other], ImageDataset::Cifar10, &sets).unwrap(), want, "{op}");
    }
    // An edge on a path does change them.
    let other: nb201::Arch = EXAMPLE.replace("nor_conv_1x1~0", "skip_connect~0").parse().unwrap();
    assert_ne!(table::<Nb201>(&[other], ImageDataset::Cifar10, &sets).unwrap(), want);
    // With nothing reaching the output, every path feature is empty.
    let dead: nb201::Arch = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|".parse().unwrap();
    let mut v = Vec::new();
    row::<Nb201>(&dead, ImageDataset::Cifar10, &[FeatureSet::Graph], &mut v).unwrap();
    let f = named(SpaceKind::Nb201, FeatureSet::Graph, &v);
    assert_eq!((get(&f, "paths"), get(&f, "vertices"), get(&f, "shortest_path")), (0.0, 0.0, -1.0));
}

#[test]
fn nb101_graph_paths_and_onehot_of_a_small_cell() {
    // input → conv3x3 → maxpool → output, and input → output directly.
    let cell = nb101::Cell::new(
        &[vec![0, 1, 0, 1], vec![0, 0, 1, 0], vec![0, 0, 0, 1], vec![0, 0, 0, 0]],
        &["input", "conv3x3-bn-relu", "maxpool3x3", "output"],
    )
    .unwrap();
    let mut v = Vec::new();
    row::<Nb101>(&cell, Cifar10, &[FeatureSet::Graph], &mut v).unwrap();
    let f = named(SpaceKind::Nb101, FeatureSet::Graph, &v);
    for (name, want) in [
        ("count:conv3x3", 1.0),
        ("count:conv1x1", 0.0),
        ("count:maxpool3x3", 1.0),
        ("vertices", 2.0),
        ("edges", 4.0),
        ("paths", 2.0),
        ("longest_path", 2.0),
        // The direct edge is a path through no operation: 0 steps for every subset.
        ("shortest_path", 0.0),
        ("min_path[conv1x1]", 0.0),
        ("max_on_path[conv3x3+maxpool3x3]", 2.0),
        ("input_out[conv3x3]", 1.0),
        ("output_in[maxpool3x3]", 1.0),
        ("output_in[conv3x3]", 0.0),
    ] {
        assert_eq!(get(&f, name), want, "{name}");
    }
    assert_eq!(v.len(), 3 + 5 + 7 * 6);
    let mut p = Vec::new();
    row::<Nb101>(&cell, Cifar10, &[FeatureSet::Paths], &mut p).unwrap();
    let p = named(SpaceKind::Nb101, FeatureSet::Paths, &p);
    assert_eq!((get(&p, "path:(direct)"), get(&p, "path:conv3x3>maxpool3x3")), (1.0, 1.0));
    assert_eq!(p.len(), 1 + 3 + 9 + 27 + 81 + 243);
    let mut o = Vec::new();
    row::<Nb101>(&cell, Cifar10, &[FeatureSet::Onehot], &mut o).unwrap();
    let o = named(SpaceKind::Nb101, FeatureSet::Onehot, &o);
    // Padded as the ReNAS tensor: the output is slot 6.
    for (name, want) in
        [("edge[0,1]", 1.0), ("edge[1,2]", 1.0), ("edge[2,6]", 1.0), ("edge[0,6]", 1.0), ("edge[0,3]", 0.0)]
    {
        assert_eq!(get(&o, name), want, "{name}");
    }
    assert_eq!((get(&o, "vertex1=conv3x3-bn-relu"), get(&o, "vertex2=maxpool3x3")), (1.0, 1.0));
    assert_eq!(o.iter().map(|(_, v)| v).sum::<f64>(), 6.0);
}

/// The `proxies` feature set reads the tables shipped in `data/`: the files there are the ones built
/// into nar (their SHA-256 is the one it checks), each task reads its own column, and a cell the table
/// does not hold is named with the file.
#[test]
fn proxies_are_the_shipped_tables_columns() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, sha) in [
        (nb201::features::PROXY_TABLE, nb201::features::PROXY_TABLE_SHA256),
        (nb101::features::PROXY_TABLE, nb101::features::PROXY_TABLE_SHA256),
    ] {
        let bytes = std::fs::read(root.join(file)).unwrap();
        assert_eq!(nar::ranker::checkpoint::sha256_hex(&bytes), sha, "{file}");
    }
    // NB201: rows 0 and 15,624 of the file, each task's column.
    let text = std::fs::read_to_string(root.join(nb201::features::PROXY_TABLE)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "index,arch_str,cifar10_synflow,cifar100_synflow,imagenet16_synflow");
    assert_eq!(lines.len(), 15_626);
    assert_eq!(FeatureSet::Proxies.names::<Nb201>(), ["synflow"]);
    for index in [0usize, 15_624] {
        let fields: Vec<&str> = lines[index + 1].split(',').collect();
        let arch = nb201::Arch::from_index(index).unwrap();
        assert_eq!(fields[1], arch.to_string());
        for (k, task) in
            [ImageDataset::Cifar10, ImageDataset::Cifar100, ImageDataset::ImageNet16].into_iter().enumerate()
        {
            let mut v = Vec::new();
            row::<Nb201>(&arch, task, &[FeatureSet::Proxies], &mut v).unwrap();
            assert_eq!(v, [fields[2 + k].parse::<f64>().unwrap()], "index {index}, {task:?}");
        }
    }
    // NB101: the sample's first cell is in the table; the smallest cell is not.
    let mut reader = csv::Reader::from_path(root.join(nb101::features::PROXY_TABLE)).unwrap();
    let first = reader.records().next().unwrap().unwrap();
    let matrix: Vec<Vec<i64>> = serde_json::from_str(&first[1]).unwrap();
    let ops: Vec<String> = serde_json::from_str(&first[2]).unwrap();
    let cell = nb101::Cell::new(&matrix, &ops).unwrap();
    assert_eq!(<Nb101 as nar::space::SearchSpace>::id(&cell).to_string(), &first[0]);
    let mut v = Vec::new();
    row::<Nb101>(&cell, Cifar10, &[FeatureSet::Proxies], &mut v).unwrap();
    assert_eq!(v, [first[3].parse::<f64>().unwrap()]);
    let small =
        nb101::Cell::new(&[vec![0, 1, 0], vec![0, 0, 1], vec![0, 0, 0]], &["input", "conv3x3-bn-relu", "output"])
            .unwrap();
    let hash = <Nb101 as nar::space::SearchSpace>::id(&small);
    let e = table::<Nb101>(&[small], Cifar10, &[FeatureSet::Graph, FeatureSet::Proxies]).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("data/nb101/nb101_proxies.csv: no proxies for architecture {hash} (the table has 1000 architectures)")
    );
}
