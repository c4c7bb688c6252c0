//! The benchmark search spaces. Each space is a small per-space part (its architecture type, identity,
//! cost model and encoding) behind [`SearchSpace`], so the pipeline above is written once.

pub mod nb101;
pub mod nb201;

use std::fmt;
use std::hash::Hash;

use crate::cost::{self, NetworkCost};
use crate::encode::{self, FeatureTensor};

/// Which search space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpaceKind {
    Nb101,
    Nb201,
}

impl fmt::Display for SpaceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SpaceKind::Nb101 => "nb101",
            SpaceKind::Nb201 => "nb201",
        })
    }
}

/// What the generic pipeline needs to know of a search space.
pub trait SearchSpace: Send + Sync + 'static {
    /// One architecture of the space.
    type Arch: Copy + Eq + Hash + Send + Sync + fmt::Debug;
    /// A network the space's architectures are built into (NB201 has one per image dataset).
    type Network: Copy + Eq + fmt::Debug + Send + Sync;

    const KIND: SpaceKind;
    /// `(channels, dim)` of the feature tensor.
    const FEATURE_SHAPE: (usize, usize);

    /// Every architecture, in the space's canonical order (NB101: by hash; NB201: benchmark index).
    fn all() -> Vec<Self::Arch>;
    /// The networks the cost model knows for this space.
    fn networks() -> &'static [Self::Network];
    /// The architecture's identity in the benchmark (NB101 hash, NB201 index).
    fn id(arch: &Self::Arch) -> String;
    /// Per-cell cost and totals of the network built from `arch`.
    fn cost(arch: &Self::Arch, network: Self::Network) -> NetworkCost;
    /// The ranker's feature tensor.
    fn encode(arch: &Self::Arch, cost: &NetworkCost) -> FeatureTensor;
}

/// NAS-Bench-101.
pub struct Nb101;

/// NAS-Bench-101 has one network, trained on CIFAR-10.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cifar10;

impl SearchSpace for Nb101 {
    type Arch = nb101::Cell;
    type Network = Cifar10;
    const KIND: SpaceKind = SpaceKind::Nb101;
    const FEATURE_SHAPE: (usize, usize) = (encode::NB101_CHANNELS, nb101::MAX_VERTICES);

    fn all() -> Vec<nb101::Cell> {
        nb101::enumerate::all_cells().into_iter().map(|e| e.cell).collect()
    }
    fn networks() -> &'static [Cifar10] {
        &[Cifar10]
    }
    fn id(arch: &nb101::Cell) -> String {
        arch.hash()
    }
    fn cost(arch: &nb101::Cell, _: Cifar10) -> NetworkCost {
        cost::nb101::network_cost(arch)
    }
    fn encode(arch: &nb101::Cell, cost: &NetworkCost) -> FeatureTensor {
        encode::nb101(arch, cost)
    }
}

/// NAS-Bench-201.
pub struct Nb201;

impl SearchSpace for Nb201 {
    type Arch = nb201::Arch;
    type Network = nb201::Dataset;
    const KIND: SpaceKind = SpaceKind::Nb201;
    const FEATURE_SHAPE: (usize, usize) = (encode::NB201_CHANNELS, nb201::NUM_NODES);

    fn all() -> Vec<nb201::Arch> {
        nb201::Arch::all()
    }
    fn networks() -> &'static [nb201::Dataset] {
        &nb201::Dataset::ALL
    }
    fn id(arch: &nb201::Arch) -> String {
        arch.index().to_string()
    }
    fn cost(arch: &nb201::Arch, network: nb201::Dataset) -> NetworkCost {
        cost::nb201::network_cost(arch, network)
    }
    fn encode(arch: &nb201::Arch, cost: &NetworkCost) -> FeatureTensor {
        encode::nb201(arch, cost)
    }
}
