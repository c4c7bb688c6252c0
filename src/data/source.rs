//! Where a command's dataset comes from: a `.nar` store, metric files joined onto the whole space, or
//! the NAS-Bench-201 table embedded in the binary.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::{AnyDataset, SpaceSources, build, embedded, store};
use crate::space::SpaceKind;

/// A dataset, before it is opened.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSource {
    /// nar's own store file (`nar data build`, `nar data import`, `nar data fetch`).
    Store(PathBuf),
    /// Every architecture of `space` joined with metric files (`.csv`, NAR `.json`, `.tfrecord`).
    Metrics { space: SpaceKind, files: Vec<PathBuf> },
    /// The NAS-Bench-201 accuracy table compiled into the binary ([`embedded`]).
    EmbeddedNb201,
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
                } else if space == SpaceKind::Nb201 {
                    Ok(DataSource::EmbeddedNb201)
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

    /// The files it reads.
    pub fn files(&self) -> Vec<&Path> {
        match self {
            DataSource::Store(p) => vec![p.as_path()],
            DataSource::Metrics { files, .. } => files.iter().map(PathBuf::as_path).collect(),
            DataSource::EmbeddedNb201 => Vec::new(),
        }
    }

    /// The space, where it is known before opening (a store says so only when read).
    pub fn space(&self) -> Option<SpaceKind> {
        match self {
            DataSource::Store(_) => None,
            DataSource::Metrics { space, .. } => Some(*space),
            DataSource::EmbeddedNb201 => Some(SpaceKind::Nb201),
        }
    }

    /// Opens or builds the dataset; `log` receives one line per joined file.
    pub fn load(&self, log: &mut dyn FnMut(String)) -> Result<AnyDataset> {
        Ok(match self {
            DataSource::Store(path) => store::open(path)?,
            DataSource::Metrics { space, files } => crate::with_space!(*space, S => build::<S>(files, log)?.into_any()),
            DataSource::EmbeddedNb201 => AnyDataset::Nb201(embedded::nb201()?),
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
            DataSource::EmbeddedNb201 => f.write_str(embedded::NB201_TABLE),
        }
    }
}
