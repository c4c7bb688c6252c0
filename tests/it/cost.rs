//! The cost model reproduces every number of NAR's published example files.

use crate::common;

use nar::spaces::nb101::Cell;
use nar::spaces::nb101::cost as nb101;
use nar::spaces::nb201::cost as nb201;
use nar::spaces::nb201::{Arch, ImageDataset as Dataset};
use serde_json::Value;

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect()
}

#[test]
fn nb101_example_every_vertex_and_total() {
    let v = common::read_json("examples/nasbench101_vertice_example.json");
    let rec = &v[0];
    let matrix: Vec<Vec<i64>> = serde_json::from_value(rec["module_adjacency"].clone()).unwrap();
    let ops: Vec<String> = serde_json::from_value(rec["module_operations"].clone()).unwrap();
    let cost = nb101::network_cost(&Cell::new(&matrix, &ops).unwrap());
    let flops = rec["vertex_flops"].as_object().unwrap();
    let params = rec["vertex_params"].as_object().unwrap();
    assert_eq!(cost.cells.len(), flops.len());
    let mut checked = 0;
    for ((cell, (fk, fv)), (pk, pv)) in cost.cells.iter().zip(flops).zip(params) {
        assert_eq!(cell.key, fk);
        assert_eq!(cell.key, pk);
        assert_eq!(cell.flops, u64s(fv), "{fk} FLOPs");
        assert_eq!(cell.params, u64s(pv), "{pk} params");
        checked += cell.flops.len();
    }
    assert_eq!(checked, 63);
    assert_eq!(cost.total_params, rec["trainable_parameters"].as_u64().unwrap());
    assert_eq!(cost.total_flops, rec["flops"].as_u64().unwrap());
}

#[test]
fn nb201_example_every_edge_and_total_on_all_three_datasets() {
    let v = common::read_json("examples/nasbench201_vertice_example.json");
    let rec = &v["0"];
    let arch: Arch = rec["arch_str"].as_str().unwrap().parse().unwrap();
    let mut checked = 0;
    for d in Dataset::ALL {
        let cost = nb201::network_cost(&arch, d);
        let key = d.nar_key();
        let flops = rec[format!("{key}_opt_flops")].as_object().unwrap();
        let params = rec[format!("{key}_opt_params")].as_object().unwrap();
        assert_eq!(cost.cells.len(), 15);
        for ((cell, (fk, fv)), (pk, pv)) in cost.cells.iter().zip(flops).zip(params) {
            assert_eq!((cell.key, cell.key), (fk.as_str(), pk.as_str()));
            assert_eq!(cell.flops, u64s(fv), "{key} {fk}");
            assert_eq!(cell.params, u64s(pv), "{key} {pk}");
            checked += 2 * cell.flops.len();
        }
        assert_eq!(cost.total_flops, rec[format!("{key}_total_flops")].as_u64().unwrap(), "{key}");
        assert_eq!(cost.total_params, rec[format!("{key}_total_params")].as_u64().unwrap(), "{key}");
    }
    assert_eq!(checked, 3 * 15 * 12);
}

#[test]
fn nb101_channel_split_follows_model_builder() {
    // Output fed by three vertices: 128 = 43 + 43 + 42, the first in vertex order get the extra channel;
    // vertex 1 feeds only vertex 2 and takes its channels.
    let m: Vec<Vec<i64>> = vec![
        vec![0, 1, 0, 1, 1, 0],
        vec![0, 0, 1, 0, 0, 0],
        vec![0, 0, 0, 0, 0, 1],
        vec![0, 0, 0, 0, 0, 1],
        vec![0, 0, 0, 0, 0, 1],
        vec![0, 0, 0, 0, 0, 0],
    ];
    let ops = ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "conv3x3-bn-relu", "output"];
    let cell = Cell::new(&m, &ops).unwrap();
    assert_eq!(&nb101::vertex_channels(&cell, 128, 128)[..6], &[128, 43, 43, 43, 42, 128]);
}

#[test]
fn nb101_input_output_edge_is_charged_to_the_output_vertex() {
    // input → conv3x3 → output plus input → output: the output vertex carries the 1×1 projection of the
    // cell input and its addition to the concatenation (nar's choice, docs/design.md §2: NAR's example
    // has no such edge). Projection params 128·128 + 2·128 (BN); FLOPs 2 × MACs + one addition per element.
    let m: Vec<Vec<i64>> = vec![vec![0, 1, 1], vec![0, 0, 1], vec![0, 0, 0]];
    let cell = Cell::new(&m, &["input", "conv3x3-bn-relu", "output"]).unwrap();
    let c = nb101::cell_cost(&cell, "stack0/module0", 128, 128, 32 * 32);
    assert_eq!(c.params[2], 128 * 128 + 2 * 128);
    assert_eq!(c.flops[2], 2 * 1024 * 128 * 128 + 1024 * 128);
    // Without the edge the output vertex is free.
    let m: Vec<Vec<i64>> = vec![vec![0, 1, 0], vec![0, 0, 1], vec![0, 0, 0]];
    let cell = Cell::new(&m, &["input", "conv3x3-bn-relu", "output"]).unwrap();
    let c = nb101::cell_cost(&cell, "stack0/module0", 128, 128, 32 * 32);
    assert_eq!((c.params[2], c.flops[2]), (0, 0));
}
