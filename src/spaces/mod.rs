//! The search spaces nar ships, one folder each, and the registry that turns a [`SpaceKind`] into one.
//!
//! A space's folder holds everything about it — the architecture type and its identity, parsing,
//! enumeration, cost model, ranker encoding, feature sets, the sampler's proposal, its data formats and
//! its facts — behind the traits of the layers below (`space::SearchSpace`, `benchmark::Benchmark`,
//! `features::Featurize`, `sampler::Propose`, `data::SpaceSources`). Everything above reaches a space
//! through this registry: [`with_space!`](crate::with_space) for a run-time [`SpaceKind`],
//! [`AnyDataset`] and [`with_dataset!`](crate::with_dataset) for a dataset of whichever space a file
//! holds. Adding a space is a folder here, a [`SpaceKind`] variant, and one arm in each of the two
//! macros and [`AnyDataset`] (docs/design.md, "Adding a search space").

pub mod declared;
pub mod nb101;
pub mod nb201;
pub mod source;

pub use declared::plugin::Declared;
pub use nb101::Nb101;
pub use nb201::Nb201;
pub use source::DataSource;

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use crate::benchmark::Benchmark;
use crate::data::{Dataset, Metric, SpaceSources, nar_json, store};
use crate::space::{SearchSpace, SpaceKind, Task};

/// Runs `body` with `$s` naming the space type of a [`SpaceKind`] (`with_space!(kind, S => S::size())`):
/// the one place a run-time space becomes a type, instead of a `match` per use.
#[macro_export]
macro_rules! with_space {
    ($kind:expr, $s:ident => $body:expr) => {
        match $kind {
            $crate::space::SpaceKind::Nb101 => {
                type $s = $crate::spaces::Nb101;
                $body
            }
            $crate::space::SpaceKind::Nb201 => {
                type $s = $crate::spaces::Nb201;
                $body
            }
            $crate::space::SpaceKind::Declared => {
                type $s = $crate::spaces::Declared;
                $body
            }
        }
    };
}

/// A dataset of whichever space a file holds.
pub enum AnyDataset {
    Nb101(Dataset<Nb101>),
    Nb201(Dataset<Nb201>),
    Declared(Dataset<Declared>),
}

/// Runs the same generic code on whichever space a dataset holds.
#[macro_export]
macro_rules! with_dataset {
    ($any:expr, $d:ident => $body:expr) => {
        match $any {
            $crate::spaces::AnyDataset::Nb101($d) => $body,
            $crate::spaces::AnyDataset::Nb201($d) => $body,
            $crate::spaces::AnyDataset::Declared($d) => $body,
        }
    };
}

impl From<Dataset<Nb101>> for AnyDataset {
    fn from(d: Dataset<Nb101>) -> AnyDataset {
        AnyDataset::Nb101(d)
    }
}

impl From<Dataset<Nb201>> for AnyDataset {
    fn from(d: Dataset<Nb201>) -> AnyDataset {
        AnyDataset::Nb201(d)
    }
}

impl From<Dataset<Declared>> for AnyDataset {
    fn from(d: Dataset<Declared>) -> AnyDataset {
        AnyDataset::Declared(d)
    }
}

impl AnyDataset {
    /// Opens a store of any space, checking its magic, version, size and checksum.
    pub fn open(path: &Path) -> Result<AnyDataset> {
        let bytes = store::read(path)?;
        AnyDataset::from_store_bytes(&bytes).with_context(|| format!("{} is not a usable nar dataset", path.display()))
    }

    /// Reads a store of any space from its bytes.
    pub fn from_store_bytes(bytes: &[u8]) -> Result<AnyDataset> {
        let (space, declaration) = store::space_of(bytes)?;
        if space == SpaceKind::Declared && declaration.is_none() {
            bail!("corrupted header: a declared space's store without its declaration");
        }
        if let Some(d) = declaration {
            declared::plugin::activate_text(&d.text, Path::new(&d.source))
                .map_err(|e| anyhow!("the dataset's declaration: {e}"))?;
        }
        Ok(with_space!(space, S => store::from_bytes::<S>(bytes)?.into()))
    }

    /// Reads a NAR JSON file into a full dataset of its space (the space told by the file's first
    /// character, `SpaceSources::NAR_JSON_ROOT`).
    pub fn import_nar_json(path: &Path) -> Result<(AnyDataset, nar_json::ImportReport)> {
        let space = nar_json_space(path)?;
        Ok(with_space!(space, S => {
            let mut ds = Dataset::<S>::full();
            let r = ds.join_nar_json(path)?;
            (ds.into(), r)
        }))
    }

    /// Writes the dataset as NAR JSON (`SpaceSources::export_nar_json`).
    pub fn export_nar_json(&self, out: &mut dyn std::io::Write) -> Result<usize> {
        with_dataset!(self, d => d.export_nar_json(out))
    }

    pub fn space(&self) -> SpaceKind {
        with_dataset!(self, d => d.space())
    }

    pub fn len(&self) -> usize {
        with_dataset!(self, d => d.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn metrics(&self) -> &[Metric] {
        with_dataset!(self, d => d.metrics())
    }

    pub fn sources(&self) -> &[String] {
        with_dataset!(self, d => d.sources())
    }

    /// The id of architecture `i`, as text.
    pub fn id_string(&self, i: usize) -> String {
        with_dataset!(self, d => d.ids()[i].to_string())
    }
}

/// Which space a NAR JSON file holds, by the first character each space's file opens with (NB101: a
/// list of records; NB201: an object).
pub fn nar_json_space(path: &Path) -> Result<SpaceKind> {
    let first = nar_json::first_byte(path)?;
    let root = |k: SpaceKind| with_space!(k, S => <Dataset<S> as SpaceSources>::NAR_JSON_ROOT);
    match SpaceKind::ALL.into_iter().find(|&k| root(k).is_some_and(|r| Some(r) == first)) {
        Some(space) => Ok(space),
        None => bail!("{}: not a NAR JSON dataset (expected a list for NB101 or an object for NB201)", path.display()),
    }
}

/// Whether `space` is the declared one (named by its file; its datasets are built from its tables).
pub fn is_declared(space: SpaceKind) -> bool {
    space == SpaceKind::Declared
}

/// Whether the process knows `space`'s facts: always for a built-in space, for the declared space
/// once a declaration is in use.
pub fn is_known(space: SpaceKind) -> bool {
    !is_declared(space) || declared::plugin::active().is_some()
}

/// The size of a space.
pub fn size(space: SpaceKind) -> usize {
    with_space!(space, S => S::size())
}

/// The tasks of a space, the default first.
pub fn tasks(space: SpaceKind) -> &'static [Task] {
    with_space!(space, S => S::tasks())
}

/// Every task of every space, each once (the values a `--task` argument may take).
pub fn all_tasks() -> Vec<Task> {
    let mut all: Vec<Task> = Vec::new();
    for space in SpaceKind::ALL {
        for t in tasks(space) {
            if !all.contains(t) {
                all.push(*t);
            }
        }
    }
    all
}

/// The task of `space` called `name`, in the space's own spelling (`SearchSpace::task`).
pub fn task(space: SpaceKind, name: &str) -> Result<Task, String> {
    with_space!(space, S => S::task(name))
}

/// Checks that `space` has `task`; the error names the tasks it has.
pub fn check_task(space: SpaceKind, task: Task) -> Result<()> {
    with_space!(space, S => S::network(task).map(|_| ()).map_err(|e| anyhow!(e)))
}

/// Candidate names of the validation-accuracy metric for a space and task, best first.
pub fn validation_metrics(space: SpaceKind, task: Task) -> Vec<String> {
    with_space!(space, S => S::validation_metrics(task))
}

/// Candidate names of the test-accuracy metric for a space and task.
pub fn test_metrics(space: SpaceKind, task: Task) -> Vec<String> {
    with_space!(space, S => S::test_metrics(task))
}

/// A run's dataset, checked against the run's description.
impl crate::run_dir::RunDir {
    /// Opens the run's dataset and checks it is the one the run was made with.
    pub fn open_dataset(&self, meta: &crate::run_dir::RunMeta) -> Result<AnyDataset> {
        let path = self.dataset_file(meta);
        // The dataset first: a declared space's store carries its declaration, which the run's space is.
        let ds = AnyDataset::open(&path).with_context(|| format!("the dataset of run {}", self.root().display()))?;
        if ds.space() != meta.space {
            bail!("{}: the dataset holds {} but the run is of {}", path.display(), ds.space(), meta.space);
        }
        check_task(meta.space, meta.task)
            .with_context(|| format!("{}: field `network`", self.meta_path().display()))?;
        if let Some(&bad) = meta.train.iter().chain(&meta.val).find(|&&i| i >= ds.len()) {
            bail!("{}: position {bad} is past the dataset's {} architectures", self.meta_path().display(), ds.len());
        }
        // The metrics it names are its task's, in the dataset, and every training and validation
        // architecture has the one it learns from.
        let meta_path = self.meta_path();
        let candidates = validation_metrics(meta.space, meta.task);
        if !candidates.contains(&meta.val_metric) {
            bail!(
                "{}: field `val_metric`: {} is not a validation accuracy of {} {} ({})",
                meta_path.display(),
                meta.val_metric,
                meta.space,
                meta.task,
                candidates.join(", ")
            );
        }
        if let Some(t) = &meta.test_metric
            && !test_metrics(meta.space, meta.task).contains(t)
        {
            bail!(
                "{}: field `test_metric`: {t} is not a test accuracy of {} {}",
                meta_path.display(),
                meta.space,
                meta.task
            );
        }
        crate::with_dataset!(&ds, d => {
            let col = d.metric(&meta.val_metric).ok_or_else(|| {
                anyhow::anyhow!("{}: field `val_metric`: {} has no metric {}", meta_path.display(), path.display(), meta.val_metric)
            })?;
            if let Some(&p) = meta.train.iter().chain(&meta.val).find(|&&p| col[p].is_nan()) {
                bail!("{}: position {p} has no {} in {}", meta_path.display(), meta.val_metric, path.display());
            }
            if let Some(t) = &meta.test_metric
                && d.metric(t).is_none()
            {
                bail!("{}: field `test_metric`: {} has no metric {t}", meta_path.display(), path.display());
            }
        });
        Ok(ds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{FeatureSet, Featurize, row};

    /// Every space's feature sets give as many columns as they name, on an architecture with every
    /// kind of operation (NB201: four ops and a `none` edge; NB101: a conv with a skip edge).
    #[test]
    fn feature_names_match_the_rows_for_every_set_and_space() {
        fn check<S: Featurize>(arch: S::Arch) {
            let network = S::network(S::tasks()[0]).expect("the first task has a network");
            for set in FeatureSet::ALL {
                let mut r = Vec::new();
                match row::<S>(&arch, network, &[set], &mut r) {
                    Ok(()) => assert_eq!(r.len(), set.names::<S>().len(), "{set} on {}", S::KIND),
                    // NB101's proxy table covers the 1,000 cells of its sample only.
                    Err(e) => assert!(
                        set == FeatureSet::Proxies && e.to_string().contains("no proxies for architecture"),
                        "{set} on {}: {e}",
                        S::KIND
                    ),
                }
            }
        }
        check::<Nb201>(
            "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|".parse().expect("valid"),
        );
        check::<Nb101>(
            nb101::Cell::new(&[vec![0, 1, 1], vec![0, 0, 1], vec![0, 0, 0]], &["input", "conv3x3-bn-relu", "output"])
                .expect("valid"),
        );
    }

    /// The registry's tasks: NB201's three image data sets, NB101's one; NAS-Bench-201's own spelling
    /// is read as nar's, and a task a space does not have is refused naming the ones it has.
    #[test]
    fn each_space_names_its_tasks() {
        let names = |k| tasks(k).iter().map(|t| t.name()).collect::<Vec<_>>();
        assert_eq!(names(SpaceKind::Nb201), ["cifar10", "cifar100", "imagenet16"]);
        assert_eq!(names(SpaceKind::Nb101), ["cifar10"]);
        assert_eq!(all_tasks().iter().map(|t| t.name()).collect::<Vec<_>>(), ["cifar10", "cifar100", "imagenet16"]);
        assert_eq!(Nb201::task("cifar10-valid"), Ok(Task::new("cifar10")));
        assert_eq!(Nb201::task("ImageNet16-120"), Ok(Task::new("imagenet16")));
        assert_eq!(
            Nb201::task("mnist").unwrap_err(),
            "nb201 has no task mnist; its tasks: cifar10, cifar100, imagenet16"
        );
        assert_eq!(Nb101::task("cifar100").unwrap_err(), "NAS-Bench-101 has only the cifar10 network, not cifar100");
        assert!(check_task(SpaceKind::Nb101, Task::named("cifar10")).is_ok());
        assert_eq!(validation_metrics(SpaceKind::Nb201, Task::new("cifar100")), ["cifar100_val_acc"]);
    }
}
