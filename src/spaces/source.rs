//! Where a command's dataset comes from: a `.nar` store, metric files joined onto the whole space, or
//! a space's table built into the binary (NAS-Bench-201's).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::AnyDataset;
use crate::data::{Dataset, SpaceSources, build};
use crate::space::SpaceKind;

/// A dataset, before it is opened.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSource {
    /// nar's own store file (`nar data build`, `nar data import`, `nar data fetch`).
    Store(PathBuf),
    /// Every architecture of `space` joined with metric files (`.csv`, NAR `.json`, `.tfrecord`).
    Metrics { space: SpaceKind, files: Vec<PathBuf> },
    /// The space's table compiled into the binary (NAS-Bench-201's: `spaces::nb201::embedded`; see
    /// [`SpaceSources::built_in`]).
    BuiltIn(SpaceKind),
}

impl DataSource {
    /// Reads a dataset argument: a path to a store, or a space name (`nb101`, `nb201`) meaning
    /// `<data_dir>/<space>.nar` — or, for `nb201` when the data directory has none, the embedded table.
    pub fn from_arg(arg: &str, data_dir: &Path) -> Result<DataSource> {
        let path = PathBuf::from(arg);
        if path.exists() {
            return Ok(DataSource::Store(path));
        }
        match SpaceKind::from_name(arg) {
            Some(space) => {
                let file = data_dir.join(format!("{space}.nar"));
                if file.exists() {
                    Ok(DataSource::Store(file))
                } else if let Some(built_in) = DataSource::built_in(space) {
                    Ok(built_in)
                } else {
                    bail!(
                        "no {space} dataset in the data directory ({} does not exist): run `nar data fetch {space}`, or give a .nar file",
                        file.display()
                    )
                }
            }
            None => bail!("{arg}: no such dataset file (give a .nar file or a space name: nb101, nb201)"),
        }
    }

    /// The table built into the binary for `space`, where it has one.
    pub fn built_in(space: SpaceKind) -> Option<DataSource> {
        crate::with_space!(space, S => <Dataset<S> as SpaceSources>::BUILT_IN_NAME).map(|_| DataSource::BuiltIn(space))
    }

    /// The files it reads.
    pub fn files(&self) -> Vec<&Path> {
        match self {
            DataSource::Store(p) => vec![p.as_path()],
            DataSource::Metrics { files, .. } => files.iter().map(PathBuf::as_path).collect(),
            DataSource::BuiltIn(_) => Vec::new(),
        }
    }

    /// The space, where it is known before opening (a store says so only when read).
    pub fn space(&self) -> Option<SpaceKind> {
        match self {
            DataSource::Store(_) => None,
            DataSource::Metrics { space, .. } => Some(*space),
            DataSource::BuiltIn(space) => Some(*space),
        }
    }

    /// Opens or builds the dataset; `log` receives one line per joined file.
    pub fn load(&self, log: &mut dyn FnMut(String)) -> Result<AnyDataset> {
        Ok(match self {
            DataSource::Store(path) => AnyDataset::open(path)?,
            DataSource::Metrics { space, files } => crate::with_space!(*space, S => build::<S>(files, log)?.into()),
            DataSource::BuiltIn(space) => crate::with_space!(*space, S => <Dataset<S> as SpaceSources>::built_in()
                .ok_or_else(|| anyhow::anyhow!("{space} has no table built into nar"))??
                .into()),
        })
    }
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSource::Store(p) => write!(f, "{}", p.display()),
            DataSource::Metrics { space, files } => {
                let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
                write!(f, "{space} joined with {}", names.join(", "))
            }
            DataSource::BuiltIn(space) => f.write_str(
                crate::with_space!(*space, S => <Dataset<S> as SpaceSources>::BUILT_IN_NAME).unwrap_or("(none)"),
            ),
        }
    }
}
