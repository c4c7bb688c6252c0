//! What nar models of each search space, one layer above the spaces themselves: the network's cost
//! ([`crate::cost`]), the ranker's feature tensor ([`crate::encode`]) and the shape statistic NAR's
//! sampler tracks ([`crate::stats::Shape`]). Everything that trains, samples or scores is generic over
//! [`Benchmark`]; what only parses, enumerates or stores architectures needs [`SearchSpace`] alone.

use crate::cost::{self, NetworkCost};
use crate::encode::{self, FeatureTensor};
use crate::space::nb101::{self, Cell};
use crate::space::nb201::{self, Arch, ImageDataset};
use crate::space::{Cifar10, Nb101, Nb201, SearchSpace};
use crate::stats::Shape;

/// A search space with nar's models of it.
pub trait Benchmark: SearchSpace {
    /// The space's name in NAR's configuration files (`space:`).
    const NAR_NAME: &'static str;
    /// NAR's reference configuration of the space, as compiled into the binary.
    const REFERENCE_CONFIG: &'static str;
    /// The space's predictors known by name besides `reference` (`crate::config::named`): `(name,
    /// configuration text)`, the files of `configs/` compiled in.
    const NAMED_CONFIGS: &'static [(&'static str, &'static str)];
    /// Candidate names of the validation-accuracy metric for image dataset `d`, best first.
    fn validation_metrics(d: ImageDataset) -> Vec<String>;
    /// Candidate names of the test-accuracy metric for image dataset `d`.
    fn test_metrics(d: ImageDataset) -> Vec<String>;
    /// `(channels, dim)` of the ranker's feature tensor.
    const FEATURE_SHAPE: (usize, usize);
    /// The shape statistic the sampler tracks (NB101 vertex count, NB201 per-op edge counts).
    fn shape(arch: &Self::Arch) -> Shape;
    /// Per-cell cost and totals of the network built from `arch` (`docs/design.md` §2).
    fn cost(arch: &Self::Arch, network: Self::Network) -> NetworkCost;
    /// The ranker's feature tensor (`docs/design.md` §4).
    fn encode(arch: &Self::Arch, cost: &NetworkCost) -> FeatureTensor;
}

impl Benchmark for Nb101 {
    const NAR_NAME: &'static str = "nasbench";
    const REFERENCE_CONFIG: &'static str = include_str!("../configs/nb101.yaml");
    const NAMED_CONFIGS: &'static [(&'static str, &'static str)] = &[
        ("improved", include_str!("../configs/nb101-improved.yaml")),
        ("gbdt", include_str!("../configs/nb101-gbdt.yaml")),
        ("forest", include_str!("../configs/nb101-forest.yaml")),
        ("best", include_str!("../configs/nb101-best.yaml")),
    ];
    fn validation_metrics(_: ImageDataset) -> Vec<String> {
        // NAR's JSON name, then the sample table's (`data/nb101/nb101_subset_1k.csv`).
        vec!["avg_validation_accuracy".into(), "val_acc_108ep".into()]
    }
    fn test_metrics(_: ImageDataset) -> Vec<String> {
        vec!["avg_test_accuracy".into()]
    }
    const FEATURE_SHAPE: (usize, usize) = (encode::NB101_CHANNELS, nb101::MAX_VERTICES);
    fn shape(arch: &Cell) -> Shape {
        Shape::Vertices(arch.num_vertices())
    }
    fn cost(arch: &Cell, _: Cifar10) -> NetworkCost {
        cost::nb101::network_cost(arch)
    }
    fn encode(arch: &Cell, cost: &NetworkCost) -> FeatureTensor {
        encode::nb101(arch, cost)
    }
}

impl Benchmark for Nb201 {
    const NAR_NAME: &'static str = "nasbench201";
    const REFERENCE_CONFIG: &'static str = include_str!("../configs/nb201.yaml");
    const NAMED_CONFIGS: &'static [(&'static str, &'static str)] = &[
        ("improved", include_str!("../configs/nb201-improved.yaml")),
        ("gbdt", include_str!("../configs/nb201-gbdt.yaml")),
        ("forest", include_str!("../configs/nb201-forest.yaml")),
        ("best", include_str!("../configs/nb201-best.yaml")),
    ];
    fn validation_metrics(d: ImageDataset) -> Vec<String> {
        vec![format!("{d}_val_acc")]
    }
    fn test_metrics(d: ImageDataset) -> Vec<String> {
        vec![format!("{d}_test_acc")]
    }
    const FEATURE_SHAPE: (usize, usize) = (encode::NB201_CHANNELS, nb201::NUM_NODES);
    fn shape(arch: &Arch) -> Shape {
        Shape::OpCounts(arch.op_counts())
    }
    fn cost(arch: &Arch, network: ImageDataset) -> NetworkCost {
        cost::nb201::network_cost(arch, network)
    }
    fn encode(arch: &Arch, cost: &NetworkCost) -> FeatureTensor {
        encode::nb201(arch, cost)
    }
}
