//! What a search space is, to the rest of nar: the traits [`SearchSpace`] (an architecture type,
//! identity, parsing, neighbourhood, equivalence, byte form, the tasks its metrics are for) and
//! [`Enumerable`], the names of the spaces ([`SpaceKind`]), the [`Task`]s and the [`AccuracyScale`].
//! This module is a leaf: it imports nothing of the crate. The spaces themselves — one folder each,
//! holding everything about the space — and the registry that turns a [`SpaceKind`] into one are in
//! `crate::spaces`, above the models they implement (cost, encoding, features, sampler, data).

use std::fmt;
use std::hash::Hash;

/// Which search space: the names of the spaces `crate::spaces` registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpaceKind {
    Nb101,
    Nb201,
    /// The space declared in a file (`--space FILE.yaml`), the one active in the process
    /// (`crate::spaces::declared::plugin`).
    Declared,
}

impl SpaceKind {
    /// The built-in spaces (a declared space is named by its file, not a word).
    pub const ALL: [SpaceKind; 2] = [SpaceKind::Nb101, SpaceKind::Nb201];
    /// Every space kind: the built-in spaces and the declared one.
    pub const EVERY: [SpaceKind; 3] = [SpaceKind::Nb101, SpaceKind::Nb201, SpaceKind::Declared];

    pub fn name(self) -> &'static str {
        match self {
            SpaceKind::Nb101 => "nb101",
            SpaceKind::Nb201 => "nb201",
            SpaceKind::Declared => "declared",
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

/// A data set a space's metrics are for, by name (`cifar10`): the tasks of the built-in spaces are the
/// image data sets their benchmarks trained on (NAS-Bench-201: `cifar10`, `cifar100`, `imagenet16`;
/// NAS-Bench-101: `cifar10`). Which tasks a space has, and what each means to its cost model, is the
/// space's ([`SearchSpace::tasks`], [`SearchSpace::network`]); a task is only a name until a space
/// accepts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Task(&'static str);

impl Task {
    /// A task of a space's [`SearchSpace::tasks`].
    pub const fn new(name: &'static str) -> Task {
        Task(name)
    }

    /// The task called `name`, as read from a command line or a file (interned: one allocation per
    /// distinct name for the life of the process).
    pub fn named(name: &str) -> Task {
        static NAMES: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<&'static str>>> =
            std::sync::OnceLock::new();
        let mut names = NAMES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        match names.get(name) {
            Some(known) => Task(known),
            None => {
                let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
                names.insert(leaked);
                Task(leaked)
            }
        }
    }

    pub fn name(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl serde::Serialize for Task {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Task {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Task, D::Error> {
        let name = String::deserialize(d)?;
        if name.trim().is_empty() {
            return Err(serde::de::Error::custom("a task name is empty"));
        }
        Ok(Task::named(&name))
    }
}

/// A declaration file as a dataset store keeps it in its header (a journal keeps its SHA-256).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeclarationText {
    /// Where it was read from.
    pub source: String,
    /// SHA-256 of its text: its identity.
    pub sha256: String,
    pub text: String,
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
    /// A network the space's architectures are built into, one per task (NB201 has one per image
    /// data set; NB101 one).
    type Network: Copy + Eq + fmt::Debug + Send + Sync;

    const KIND: SpaceKind;
    /// The scale of the benchmark's accuracies.
    fn accuracy_scale() -> AccuracyScale;
    /// How many architectures the space has (`usize::MAX` for a space that is not [`listed`]).
    ///
    /// [`listed`]: SearchSpace::listed
    fn size() -> usize;
    /// Whether [`Enumerable::all`] lists every architecture (a declared space too large to list gives a
    /// sample of it there, and its datasets are its tables' architectures).
    fn listed() -> bool {
        true
    }
    /// The tasks the space's metrics are for, the default first.
    fn tasks() -> &'static [Task];
    /// Bytes of one architecture (with its id) in the store.
    fn arch_bytes() -> usize;
    /// Name of the identity column in tables (`unique_hash`, `index`).
    fn id_column() -> &'static str;
    /// Columns that spell an architecture out in tables (checked against the identity when present).
    fn arch_column_names() -> &'static [&'static str];

    /// The architecture's identity (NB101: computes the md5 hash).
    fn id(arch: &Self::Arch) -> Self::Id;
    /// Parses an identity as written in tables.
    fn parse_id(text: &str) -> Result<Self::Id, String>;
    /// Parses an architecture from the values of [`SearchSpace::arch_column_names`], in that order.
    fn parse_arch_columns(values: &[&str]) -> Result<Self::Arch, String>;
    /// The architecture spelled out in the columns [`SearchSpace::arch_column_names`].
    fn arch_columns(arch: &Self::Arch) -> Vec<String>;
    /// Whether the space has a cost model (`params`, `flops` of its networks; the ReNAS tensor): the
    /// built-in spaces do, a declared space does not — its costs are columns of its tables.
    fn has_cost_model() -> bool {
        true
    }
    /// The declaration a declared space was read from (stores and run folders keep it); `None` for a
    /// built-in space.
    fn declaration() -> Option<DeclarationText> {
        None
    }
    /// The network built for `task`; a task the space does not have is an error naming the ones it has.
    fn network(task: Task) -> Result<Self::Network, String>;
    /// The task called `name`, one of [`SearchSpace::tasks`] (a space may read other spellings of its
    /// tasks' names, as NB201 reads NAS-Bench-201's `cifar10-valid`).
    fn task(name: &str) -> Result<Task, String> {
        Self::tasks().iter().copied().find(|t| t.name() == name).ok_or_else(|| Self::unknown_task(Task::named(name)))
    }
    /// The number of classes of `task`, where it is a classification (a percentage accuracy below half
    /// of chance is then refused as a fraction in a percentage field).
    fn classes(task: Task) -> Option<u64> {
        let _ = task;
        None
    }
    /// The error for a task the space does not have.
    fn unknown_task(task: Task) -> String {
        let names: Vec<&str> = Self::tasks().iter().map(|t| t.name()).collect();
        format!("{} has no task {task}; its tasks: {}", Self::KIND, names.join(", "))
    }
    /// The architectures one mutation away (NB201: one edge's op changed; NB101: one interior op changed
    /// or one edge flipped, valid after pruning), each once, `arch` itself excluded.
    fn neighbours(arch: &Self::Arch) -> Vec<Self::Arch>;
    /// The representative of the architectures computing the same function as `arch` (NB201:
    /// the cell with its isomorphic edges' ops sorted; NB101: the cell itself — its id, the graph
    /// hash, already names every isomorphic cell once).
    fn canonical(arch: &Self::Arch) -> Self::Arch {
        *arch
    }
    /// An architecture of the space, for examples and synthetic inputs (NB101: input → 3×3 conv →
    /// output; NB201: index 0).
    fn example() -> Self::Arch;
    /// Appends the store's byte form of an architecture and its id ([`SearchSpace::arch_bytes`] bytes).
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
