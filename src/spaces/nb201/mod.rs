//! NAS-Bench-201: a 4-node cell where node j (1..=3) sums one op applied to every earlier node — six
//! edges, five ops, 5^6 = 15,625 architectures (`docs/design.md` §1). Everything nar knows of the space
//! is in this folder:
//!
//! - [`arch`]: the architecture ([`Arch`], [`Op`]), its index and string forms, its equivalence;
//! - [`cost`]: the network's per-edge FLOPs and parameters, per image data set ([`ImageDataset`]);
//! - [`encode`]: the ranker's 31×4×4 ReNAS tensor;
//! - [`features`]: the operation graph and one-hot columns of the feature sets;
//! - [`sampler`]: how NAR's sampler draws an architecture;
//! - [`nar_json`], [`embedded`]: NAR's JSON of the space and the accuracy table built into the binary;
//! - here: [`Nb201`], the space's facts behind `SearchSpace`, `Enumerable`, `Benchmark` and
//!   `SpaceSources`.

pub mod arch;
pub mod cost;
pub mod embedded;
pub mod encode;
pub mod features;
pub mod nar_json;
pub mod sampler;

pub use arch::*;

use std::path::Path;

use anyhow::Result;

use crate::benchmark::Benchmark;
use crate::cost::NetworkCost;
use crate::data::fetch::{Location, Published};
use crate::data::{Dataset, SpaceSources, nar_json::ImportReport};
use crate::encode::FeatureTensor;
use crate::space::{AccuracyScale, Enumerable, SearchSpace, SpaceKind, Task};
use crate::stats::Shape;

/// NAS-Bench-201.
pub struct Nb201;

impl SearchSpace for Nb201 {
    type Arch = Arch;
    type Id = usize;
    type Network = ImageDataset;
    const KIND: SpaceKind = SpaceKind::Nb201;
    fn accuracy_scale() -> AccuracyScale {
        AccuracyScale::Percent
    }
    fn size() -> usize {
        SPACE_SIZE
    }
    fn tasks() -> &'static [Task] {
        const TASKS: &[Task] = &[Task::new("cifar10"), Task::new("cifar100"), Task::new("imagenet16")];
        TASKS
    }
    fn arch_bytes() -> usize {
        2
    }
    fn id_column() -> &'static str {
        "index"
    }
    fn arch_column_names() -> &'static [&'static str] {
        &["arch_str"]
    }

    fn example() -> Arch {
        Arch::from_index(0).expect("index 0 exists")
    }
    fn id(arch: &Arch) -> usize {
        arch.index()
    }
    fn parse_id(text: &str) -> Result<usize, String> {
        let t = text.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{text:?} is not an NB201 index (digits, 0..{SPACE_SIZE})"));
        }
        let index: usize = t.parse().unwrap_or(usize::MAX);
        Arch::from_index(index).map(|_| index).map_err(|e| e.to_string())
    }
    fn parse_arch_columns(values: &[&str]) -> Result<Arch, String> {
        values[0].parse().map_err(|e: ArchError| e.to_string())
    }
    fn arch_columns(arch: &Arch) -> Vec<String> {
        vec![arch.to_string()]
    }
    /// One network per image data set; NAS-Bench-201's own spellings (`cifar10-valid`,
    /// `ImageNet16-120`) are read too.
    fn network(task: Task) -> Result<ImageDataset, String> {
        ImageDataset::from_name(task.name()).ok_or_else(|| Self::unknown_task(task))
    }
    fn task(name: &str) -> Result<Task, String> {
        let d = ImageDataset::from_name(name).ok_or_else(|| Self::unknown_task(Task::named(name)))?;
        Ok(Self::tasks()[ImageDataset::ALL.iter().position(|x| *x == d).expect("a listed data set")])
    }
    fn classes(task: Task) -> Option<u64> {
        ImageDataset::from_name(task.name()).map(ImageDataset::classes)
    }
    fn canonical(arch: &Arch) -> Arch {
        arch.canonical()
    }
    fn neighbours(arch: &Arch) -> Vec<Arch> {
        arch.neighbours()
    }
    fn write_arch(arch: &Arch, _: &usize, out: &mut Vec<u8>) {
        out.extend_from_slice(&arch.code().to_le_bytes());
    }
    fn read_arch(bytes: &[u8]) -> Result<(Arch, usize), String> {
        let code = u16::from_le_bytes([bytes[0], bytes[1]]);
        if code as usize >= SPACE_SIZE {
            return Err(format!("architecture code {code} is out of range"));
        }
        let arch = Arch::from_code(code);
        Ok((arch, arch.index()))
    }
}

impl Enumerable for Nb201 {
    fn all() -> Vec<(Arch, usize)> {
        Arch::all().into_iter().enumerate().map(|(i, a)| (a, i)).collect()
    }
}

impl Benchmark for Nb201 {
    const NAR_NAME: &'static str = "nasbench201";
    const REFERENCE_CONFIG: &'static str = include_str!("../../../configs/nb201.yaml");
    const NAMED_CONFIGS: &'static [(&'static str, &'static str)] = &[
        ("improved", include_str!("../../../configs/nb201-improved.yaml")),
        ("gbdt", include_str!("../../../configs/nb201-gbdt.yaml")),
        ("forest", include_str!("../../../configs/nb201-forest.yaml")),
        ("best", include_str!("../../../configs/nb201-best.yaml")),
        ("mlp", include_str!("../../../configs/nb201-mlp.yaml")),
        ("trees", include_str!("../../../configs/nb201-trees.yaml")),
    ];
    fn validation_metrics(task: Task) -> Vec<String> {
        vec![format!("{task}_val_acc")]
    }
    fn test_metrics(task: Task) -> Vec<String> {
        vec![format!("{task}_test_acc")]
    }
    fn feature_shape() -> (usize, usize) {
        (encode::CHANNELS, NUM_NODES)
    }
    fn shape(arch: &Arch) -> Shape {
        Shape::OpCounts(arch.op_counts().to_vec())
    }
    fn cost(arch: &Arch, network: ImageDataset) -> NetworkCost {
        cost::network_cost(arch, network)
    }
    fn encode(arch: &Arch, cost: &NetworkCost) -> FeatureTensor {
        encode::tensor(arch, cost)
    }
    /// Index, arch string, and params/FLOPs of each data set's network.
    fn listing_header() -> Vec<String> {
        let mut header = vec!["index".to_string(), "arch_str".to_string()];
        for d in ImageDataset::ALL {
            header.push(format!("{}_params", d.name()));
            header.push(format!("{}_flops", d.name()));
        }
        header
    }
    fn listing_row(arch: &Arch, index: &usize) -> Vec<String> {
        let mut row = vec![index.to_string(), arch.to_string()];
        for d in ImageDataset::ALL {
            let c = cost::network_cost(arch, d);
            row.push(c.total_params.to_string());
            row.push(c.total_flops.to_string());
        }
        row
    }
}

impl SpaceSources for Dataset<Nb201> {
    const NAR_JSON_ROOT: Option<u8> = Some(b'{');
    const BUILT_IN_NAME: Option<&'static str> = Some(embedded::NB201_TABLE);
    const PUBLISHED: &'static [Published] = &[Published {
        kind: "nar-json",
        location: Location::Drive("1MeYtWM2n-ZlUDvDyvby1lVj3hA71kZ28"),
        file_name: "nasbench201_vertice.json",
        sha256: Some("e462fa2dbff708a0d8e3f8c2bdcd5d843355d9db01cb62c5532331ad0b8ca7af"),
        size: 68_000_000,
    }];
    fn built_in() -> Option<Result<Self>> {
        Some(embedded::nb201())
    }
    fn join_nar_json(&mut self, path: &Path) -> Result<ImportReport> {
        nar_json::join(self, path)
    }
    fn export_nar_json(&self, out: &mut dyn std::io::Write) -> Result<usize> {
        nar_json::export(self, out)
    }
}
