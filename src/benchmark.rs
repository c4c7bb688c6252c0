//! What nar models of a search space, one layer above what a space is: the network's cost
//! ([`crate::cost`]), the ranker's feature tensor ([`crate::encode`]) and the shape statistic NAR's
//! sampler tracks ([`crate::stats::Shape`]); each space implements it in its folder (`crate::spaces`). Everything that trains, samples or scores is generic over
//! [`Benchmark`]; what only parses, enumerates or stores architectures needs [`SearchSpace`] alone.

use crate::cost::NetworkCost;
use crate::encode::FeatureTensor;
use crate::space::{SearchSpace, Task};
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
    /// Candidate names of the validation-accuracy metric for `task`, best first.
    fn validation_metrics(task: Task) -> Vec<String>;
    /// Candidate names of the test-accuracy metric for `task`.
    fn test_metrics(task: Task) -> Vec<String>;
    /// `(channels, dim)` of the ranker's feature tensor.
    fn feature_shape() -> (usize, usize);
    /// The shape statistic the sampler tracks (NB101 vertex count, NB201 per-op edge counts).
    fn shape(arch: &Self::Arch) -> Shape;
    /// Per-cell cost and totals of the network built from `arch` (`docs/design.md` §2).
    fn cost(arch: &Self::Arch, network: Self::Network) -> NetworkCost;
    /// The ranker's feature tensor (`docs/design.md` §4).
    fn encode(arch: &Self::Arch, cost: &NetworkCost) -> FeatureTensor;
    /// The columns of `nar space enumerate`'s CSV (the identity, the architecture, its network totals).
    fn listing_header() -> Vec<String>;
    /// One row of `nar space enumerate`'s CSV.
    fn listing_row(arch: &Self::Arch, id: &Self::Id) -> Vec<String>;
}
