//! The benchmark search spaces: each space's architecture type, identity, parsing, neighbourhood,
//! equivalence and byte form behind [`SearchSpace`], so the pipeline above is written once. This module
//! is a leaf: it imports nothing of the crate (what nar models of a space — its cost, the ranker's
//! encoding, the sampler's shape statistic — is [`crate::benchmark::Benchmark`], one layer up).

pub mod nb101;
pub mod nb201;

use std::fmt;
use std::hash::Hash;

use nb101::hash::CellHash;
pub use nb201::ImageDataset;

/// Which search space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpaceKind {
    Nb101,
    Nb201,
}

impl SpaceKind {
    pub const ALL: [SpaceKind; 2] = [SpaceKind::Nb101, SpaceKind::Nb201];

    pub fn name(self) -> &'static str {
        match self {
            SpaceKind::Nb101 => "nb101",
            SpaceKind::Nb201 => "nb201",
        }
    }

    /// How many architectures the space has.
    pub const fn size(self) -> usize {
        match self {
            SpaceKind::Nb101 => nb101::NUM_CELLS,
            SpaceKind::Nb201 => nb201::SPACE_SIZE,
        }
    }

    pub fn from_name(name: &str) -> Option<SpaceKind> {
        SpaceKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for SpaceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs `body` with `$s` naming the space type of a [`SpaceKind`] (`with_space!(kind, S => S::SIZE)`):
/// the one place a run-time space becomes a type, instead of a `match` per use.
#[macro_export]
macro_rules! with_space {
    ($kind:expr, $s:ident => $body:expr) => {
        match $kind {
            $crate::space::SpaceKind::Nb101 => {
                type $s = $crate::space::Nb101;
                $body
            }
            $crate::space::SpaceKind::Nb201 => {
                type $s = $crate::space::Nb201;
                $body
            }
        }
    };
}

/// How a space's benchmark writes its accuracies, in every one of its formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccuracyScale {
    /// In [0, 1] (NAS-Bench-101: NAR's JSON, the tfrecord, the sample table).
    Fraction,
    /// In [0, 100] (NAS-Bench-201: NAR's JSON, the accuracy table).
    Percent,
}

impl AccuracyScale {
    /// The largest accuracy on this scale.
    pub fn top(self) -> f64 {
        match self {
            AccuracyScale::Fraction => 1.0,
            AccuracyScale::Percent => 100.0,
        }
    }

    /// The rule, for error messages.
    pub fn rule(self) -> &'static str {
        match self {
            AccuracyScale::Fraction => "NAS-Bench-101 accuracies are fractions in [0, 1]",
            AccuracyScale::Percent => "NAS-Bench-201 accuracies are percentages in [0, 100]",
        }
    }
}

/// What the generic pipeline needs to know of a search space.
pub trait SearchSpace: Send + Sync + 'static {
    /// One architecture of the space.
    type Arch: Copy + Eq + Hash + Send + Sync + fmt::Debug;
    /// The architecture's identity in the benchmark (NB101 hash, NB201 index).
    type Id: Copy + Eq + Ord + Hash + Send + Sync + fmt::Debug + fmt::Display;
    /// A network the space's architectures are built into (NB201 has one per image dataset).
    type Network: Copy + Eq + fmt::Debug + Send + Sync;

    const KIND: SpaceKind;
    /// The scale of the benchmark's accuracies.
    const ACCURACY_SCALE: AccuracyScale;
    /// How many architectures the space has.
    const SIZE: usize = Self::KIND.size();
    /// Bytes of one architecture (with its id) in the store.
    const ARCH_BYTES: usize;
    /// Name of the identity column in tables (`unique_hash`, `index`).
    const ID_COLUMN: &'static str;
    /// Columns that spell an architecture out in tables (checked against the identity when present).
    const ARCH_COLUMNS: &'static [&'static str];

    /// The networks the cost model knows for this space.
    fn networks() -> &'static [Self::Network];
    /// The architecture's identity (NB101: computes the md5 hash).
    fn id(arch: &Self::Arch) -> Self::Id;
    /// Parses an identity as written in tables.
    fn parse_id(text: &str) -> Result<Self::Id, String>;
    /// Parses an architecture from the values of [`SearchSpace::ARCH_COLUMNS`], in that order.
    fn parse_arch_columns(values: &[&str]) -> Result<Self::Arch, String>;
    /// The architecture spelled out in the columns [`SearchSpace::ARCH_COLUMNS`].
    fn arch_columns(arch: &Self::Arch) -> Vec<String>;
    /// Short name of a network (`cifar10`, `cifar100`, `imagenet16`).
    fn network_name(network: Self::Network) -> &'static str;
    /// The network trained on image dataset `d` (NB101 has CIFAR-10 only).
    fn network(d: ImageDataset) -> Result<Self::Network, String>;
    /// The architectures one mutation away (NB201: one edge's op changed; NB101: one interior op changed
    /// or one edge flipped, valid after pruning), each once, `arch` itself excluded.
    fn neighbours(arch: &Self::Arch) -> Vec<Self::Arch>;
    /// The representative of the architectures computing the same function as `arch` (NB201:
    /// [`nb201::Arch::canonical`]; NB101: the cell itself — its id, the graph hash, already names every
    /// isomorphic cell once).
    fn canonical(arch: &Self::Arch) -> Self::Arch {
        *arch
    }
    /// An architecture of the space, for examples and synthetic inputs (NB101: input → 3×3 conv →
    /// output; NB201: index 0).
    fn example() -> Self::Arch;
    /// Appends the store's byte form of an architecture and its id ([`SearchSpace::ARCH_BYTES`] bytes).
    fn write_arch(arch: &Self::Arch, id: &Self::Id, out: &mut Vec<u8>);
    /// Reads [`SearchSpace::write_arch`]'s bytes, validating them.
    fn read_arch(bytes: &[u8]) -> Result<(Self::Arch, Self::Id), String>;
}

/// A space whose every architecture can be listed (both benchmarks here; a surrogate space such as
/// NAS-Bench-301, with about 10¹⁸ cells, is a [`SearchSpace`] that is not). What needs the whole space —
/// a full dataset, a store of it, ranking every architecture — asks for this.
pub trait Enumerable: SearchSpace {
    /// Every architecture with its id, in the space's canonical order (NB101: by hash; NB201: index).
    fn all() -> Vec<(Self::Arch, Self::Id)>;
}

impl Enumerable for Nb101 {
    fn all() -> Vec<(nb101::Cell, CellHash)> {
        nb101::enumerate::all_cells().into_iter().map(|e| (e.cell, CellHash(e.hash))).collect()
    }
}

impl Enumerable for Nb201 {
    fn all() -> Vec<(nb201::Arch, usize)> {
        nb201::Arch::all().into_iter().enumerate().map(|(i, a)| (a, i)).collect()
    }
}

/// NAS-Bench-101.
pub struct Nb101;

/// NAS-Bench-101 has one network, trained on CIFAR-10.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cifar10;

impl SearchSpace for Nb101 {
    fn example() -> nb101::Cell {
        nb101::Cell::new(&[vec![0, 1, 0], vec![0, 0, 1], vec![0, 0, 0]], &["input", "conv3x3-bn-relu", "output"])
            .expect("a valid cell")
    }
    type Arch = nb101::Cell;
    type Id = CellHash;
    type Network = Cifar10;
    const KIND: SpaceKind = SpaceKind::Nb101;
    const ACCURACY_SCALE: AccuracyScale = AccuracyScale::Fraction;
    const ARCH_BYTES: usize = 32;
    const ID_COLUMN: &'static str = "unique_hash";
    const ARCH_COLUMNS: &'static [&'static str] = &["module_adjacency", "module_operations"];

    fn networks() -> &'static [Cifar10] {
        &[Cifar10]
    }
    fn id(arch: &nb101::Cell) -> CellHash {
        CellHash(nb101::hash::fingerprint(arch))
    }
    fn parse_id(text: &str) -> Result<CellHash, String> {
        text.parse()
    }
    fn parse_arch_columns(values: &[&str]) -> Result<nb101::Cell, String> {
        let matrix = nb101::bounded::matrix_from_json(values[0])
            .map_err(|e| format!("module_adjacency is not a JSON matrix: {e}"))?;
        let ops: Vec<String> =
            serde_json::from_str(values[1]).map_err(|e| format!("module_operations is not a JSON list: {e}"))?;
        nb101::Cell::new(&matrix, &ops).map_err(|e| e.to_string())
    }
    fn arch_columns(arch: &nb101::Cell) -> Vec<String> {
        vec![
            serde_json::to_string(&arch.matrix()).expect("serializable"),
            serde_json::to_string(&arch.op_names()).expect("serializable"),
        ]
    }
    fn network_name(_: Cifar10) -> &'static str {
        "cifar10"
    }
    fn network(d: ImageDataset) -> Result<Cifar10, String> {
        match d {
            ImageDataset::Cifar10 => Ok(Cifar10),
            other => Err(format!("NAS-Bench-101 has only the cifar10 network, not {other}")),
        }
    }
    fn neighbours(arch: &nb101::Cell) -> Vec<nb101::Cell> {
        nb101::neighbours(arch)
    }
    fn write_arch(arch: &nb101::Cell, id: &CellHash, out: &mut Vec<u8>) {
        out.extend_from_slice(&id.0);
        out.extend_from_slice(&arch.to_bytes());
        out.push(0);
    }
    fn read_arch(bytes: &[u8]) -> Result<(nb101::Cell, CellHash), String> {
        let hash = CellHash(bytes[..16].try_into().expect("16 bytes"));
        let cell = nb101::Cell::from_bytes(bytes[16..31].try_into().expect("15 bytes"))?;
        Ok((cell, hash))
    }
}

/// NAS-Bench-201.
pub struct Nb201;

impl SearchSpace for Nb201 {
    fn example() -> nb201::Arch {
        nb201::Arch::from_index(0).expect("index 0 exists")
    }
    type Arch = nb201::Arch;
    type Id = usize;
    type Network = ImageDataset;
    const KIND: SpaceKind = SpaceKind::Nb201;
    const ACCURACY_SCALE: AccuracyScale = AccuracyScale::Percent;
    const ARCH_BYTES: usize = 2;
    const ID_COLUMN: &'static str = "index";
    const ARCH_COLUMNS: &'static [&'static str] = &["arch_str"];

    fn networks() -> &'static [ImageDataset] {
        &ImageDataset::ALL
    }
    fn id(arch: &nb201::Arch) -> usize {
        arch.index()
    }
    fn parse_id(text: &str) -> Result<usize, String> {
        let t = text.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{text:?} is not an NB201 index (digits, 0..{})", nb201::SPACE_SIZE));
        }
        let index: usize = t.parse().unwrap_or(usize::MAX);
        nb201::Arch::from_index(index).map(|_| index).map_err(|e| e.to_string())
    }
    fn parse_arch_columns(values: &[&str]) -> Result<nb201::Arch, String> {
        values[0].parse().map_err(|e: nb201::ArchError| e.to_string())
    }
    fn arch_columns(arch: &nb201::Arch) -> Vec<String> {
        vec![arch.to_string()]
    }
    fn network_name(network: ImageDataset) -> &'static str {
        network.name()
    }
    fn network(d: ImageDataset) -> Result<ImageDataset, String> {
        Ok(d)
    }
    fn canonical(arch: &nb201::Arch) -> nb201::Arch {
        arch.canonical()
    }
    fn neighbours(arch: &nb201::Arch) -> Vec<nb201::Arch> {
        arch.neighbours()
    }
    fn write_arch(arch: &nb201::Arch, _: &usize, out: &mut Vec<u8>) {
        out.extend_from_slice(&arch.code().to_le_bytes());
    }
    fn read_arch(bytes: &[u8]) -> Result<(nb201::Arch, usize), String> {
        let code = u16::from_le_bytes([bytes[0], bytes[1]]);
        if code as usize >= nb201::SPACE_SIZE {
            return Err(format!("architecture code {code} is out of range"));
        }
        let arch = nb201::Arch::from_code(code);
        Ok((arch, arch.index()))
    }
}
