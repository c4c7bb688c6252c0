//! NAS-Bench-101: cells as DAGs of at most 7 vertices and 9 edges (`docs/design.md` §1). Everything
//! nar knows of the space is in this folder, split like the nasbench library:
//!
//! - [`cell`]: the validated, pruned model spec ([`Cell`], [`Op`]); [`bounded`]: its bounded JSON
//!   matrix; [`hash`]: the isomorphism-invariant graph hash; [`enumerate`]: the whole space;
//! - [`cost`]: the network's per-vertex FLOPs and parameters;
//! - [`encode`]: the ranker's 19×7×7 ReNAS tensor;
//! - [`features`]: the operation graph and one-hot columns of the feature sets;
//! - [`sampler`]: how NAR's sampler draws a cell;
//! - [`nar_json`], [`tfrecord`]: NAR's JSON of the space and the official tfrecord release;
//! - here: [`Nb101`], the space's facts behind `SearchSpace`, `Enumerable`, `Benchmark` and
//!   `SpaceSources`.

pub mod bounded;
pub mod cell;
pub mod cost;
pub mod encode;
pub mod enumerate;
pub mod features;
pub mod hash;
pub mod nar_json;
pub mod sampler;
pub mod tfrecord;

pub use cell::*;

use std::path::Path;

use anyhow::Result;

use crate::benchmark::Benchmark;
use crate::cost::NetworkCost;
use crate::data::fetch::{Location, Published};
use crate::data::{Dataset, SpaceSources, nar_json::ImportReport};
use crate::encode::FeatureTensor;
use crate::space::{AccuracyScale, Enumerable, SearchSpace, SpaceKind, Task};
use crate::stats::Shape;
use hash::CellHash;

/// The space's architecture under the name every space gives it (nasbench calls it a cell).
pub type Arch = Cell;

/// NAS-Bench-101.
pub struct Nb101;

/// NAS-Bench-101 has one network, trained on CIFAR-10.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cifar10;

impl SearchSpace for Nb101 {
    type Arch = Cell;
    type Id = CellHash;
    type Network = Cifar10;
    const KIND: SpaceKind = SpaceKind::Nb101;
    fn accuracy_scale() -> AccuracyScale {
        AccuracyScale::Fraction
    }
    fn size() -> usize {
        NUM_CELLS
    }
    fn tasks() -> &'static [Task] {
        const TASKS: &[Task] = &[Task::new("cifar10")];
        TASKS
    }
    fn arch_bytes() -> usize {
        32
    }
    fn id_column() -> &'static str {
        "unique_hash"
    }
    fn arch_column_names() -> &'static [&'static str] {
        &["module_adjacency", "module_operations"]
    }

    fn example() -> Cell {
        Cell::new(&[vec![0, 1, 0], vec![0, 0, 1], vec![0, 0, 0]], &["input", "conv3x3-bn-relu", "output"])
            .expect("a valid cell")
    }
    fn id(arch: &Cell) -> CellHash {
        CellHash(hash::fingerprint(arch))
    }
    fn parse_id(text: &str) -> Result<CellHash, String> {
        text.parse()
    }
    fn parse_arch_columns(values: &[&str]) -> Result<Cell, String> {
        let matrix =
            bounded::matrix_from_json(values[0]).map_err(|e| format!("module_adjacency is not a JSON matrix: {e}"))?;
        let ops: Vec<String> =
            serde_json::from_str(values[1]).map_err(|e| format!("module_operations is not a JSON list: {e}"))?;
        Cell::new(&matrix, &ops).map_err(|e| e.to_string())
    }
    fn arch_columns(arch: &Cell) -> Vec<String> {
        vec![
            serde_json::to_string(&arch.matrix()).expect("serializable"),
            serde_json::to_string(&arch.op_names()).expect("serializable"),
        ]
    }
    fn task(name: &str) -> Result<Task, String> {
        Self::network(Task::named(name)).map(|_| Self::tasks()[0])
    }
    fn network(task: Task) -> Result<Cifar10, String> {
        if task == Self::tasks()[0] {
            Ok(Cifar10)
        } else {
            Err(format!("NAS-Bench-101 has only the cifar10 network, not {task}"))
        }
    }
    fn classes(task: Task) -> Option<u64> {
        (task == Self::tasks()[0]).then_some(10)
    }
    fn neighbours(arch: &Cell) -> Vec<Cell> {
        cell::neighbours(arch)
    }
    fn write_arch(arch: &Cell, id: &CellHash, out: &mut Vec<u8>) {
        out.extend_from_slice(&id.0);
        out.extend_from_slice(&arch.to_bytes());
        out.push(0);
    }
    fn read_arch(bytes: &[u8]) -> Result<(Cell, CellHash), String> {
        let hash = CellHash(bytes[..16].try_into().expect("16 bytes"));
        let cell = Cell::from_bytes(bytes[16..31].try_into().expect("15 bytes"))?;
        Ok((cell, hash))
    }
}

impl Enumerable for Nb101 {
    fn all() -> Vec<(Cell, CellHash)> {
        enumerate::all_cells().into_iter().map(|e| (e.cell, CellHash(e.hash))).collect()
    }
}

impl Benchmark for Nb101 {
    const NAR_NAME: &'static str = "nasbench";
    const REFERENCE_CONFIG: &'static str = include_str!("../../../configs/nb101.yaml");
    const NAMED_CONFIGS: &'static [(&'static str, &'static str)] = &[
        ("improved", include_str!("../../../configs/nb101-improved.yaml")),
        ("gbdt", include_str!("../../../configs/nb101-gbdt.yaml")),
        ("forest", include_str!("../../../configs/nb101-forest.yaml")),
        ("best", include_str!("../../../configs/nb101-best.yaml")),
        ("mlp", include_str!("../../../configs/nb101-mlp.yaml")),
        ("trees", include_str!("../../../configs/nb101-trees.yaml")),
    ];
    fn validation_metrics(_: Task) -> Vec<String> {
        // NAR's JSON name, then the sample table's (`data/nb101/nb101_subset_1k.csv`).
        vec!["avg_validation_accuracy".into(), "val_acc_108ep".into()]
    }
    fn test_metrics(_: Task) -> Vec<String> {
        vec!["avg_test_accuracy".into()]
    }
    fn feature_shape() -> (usize, usize) {
        (encode::CHANNELS, MAX_VERTICES)
    }
    fn shape(arch: &Cell) -> Shape {
        Shape::Vertices(arch.num_vertices())
    }
    fn cost(arch: &Cell, _: Cifar10) -> NetworkCost {
        cost::network_cost(arch)
    }
    fn encode(arch: &Cell, cost: &NetworkCost) -> FeatureTensor {
        encode::tensor(arch, cost)
    }
    /// Hash, vertices, edges, adjacency and ops (JSON), params, FLOPs.
    fn listing_header() -> Vec<String> {
        ["unique_hash", "num_vertices", "num_edges", "module_adjacency", "module_operations", "params", "flops"]
            .map(String::from)
            .to_vec()
    }
    fn listing_row(cell: &Cell, id: &CellHash) -> Vec<String> {
        let cost = cost::network_cost(cell);
        vec![
            id.to_string(),
            cell.num_vertices().to_string(),
            cell.num_edges().to_string(),
            serde_json::to_string(&cell.matrix()).expect("serializable"),
            serde_json::to_string(&cell.op_names()).expect("serializable"),
            cost.total_params.to_string(),
            cost.total_flops.to_string(),
        ]
    }
}

impl SpaceSources for Dataset<Nb101> {
    const NAR_JSON_ROOT: Option<u8> = Some(b'[');
    const BUILT_IN_NAME: Option<&'static str> = None;
    const PUBLISHED: &'static [Published] = &[
        Published {
            kind: "nar-json",
            location: Location::Drive("1hM_wZzkI79tkacl3YL42ZZFAuldmGip5"),
            file_name: "nasbench101_vertice.json",
            sha256: Some("ff051bbe69e50490f8092dfc5d020675ed44e932d13619da0b6cc941f77b9c32"),
            size: 717_000_000,
        },
        Published {
            kind: "tfrecord",
            location: Location::Url("https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord"),
            file_name: "nasbench_only108.tfrecord",
            sha256: None,
            size: 500_000_000,
        },
    ];
    fn built_in() -> Option<Result<Self>> {
        None
    }
    fn join_nar_json(&mut self, path: &Path) -> Result<ImportReport> {
        nar_json::join(self, path)
    }
    fn join_tfrecord(&mut self, path: &Path) -> Result<String> {
        tfrecord::join(self, path).map(|r| r.to_string())
    }
    fn export_nar_json(&self, out: &mut dyn std::io::Write) -> Result<usize> {
        nar_json::export(self, out)
    }
}
