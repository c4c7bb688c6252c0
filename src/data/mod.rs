//! Benchmark datasets: every architecture of a space in a fixed order, with its identity, its cell
//! information (from the exact cost model), and named metrics that may be missing per architecture.
//!
//! - [`store`]: nar's own file format, versioned and checksummed, opened in milliseconds;
//! - [`table`]: CSV tables joined by identity (the NB201 accuracy table, the NB101 table, generic CSV);
//! - [`nar_json`]: what every space's NAR JSON shares (each space's records are in its folder);
//! - [`fetch`]: downloads with resume and checksum verification.
//!
//! Everything here is generic over the space; a space's own formats (NAR's JSON records, NAS-Bench-101's
//! tfrecord, the table built into the binary) are in its folder (`crate::spaces`) behind
//! [`SpaceSources`], and a dataset of whichever space a file holds is `crate::spaces::AnyDataset`.

pub mod fetch;
pub mod metric;
pub mod nar_json;
pub mod store;
pub mod table;

pub use metric::{Metric, MetricKind};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Result, bail};

use crate::benchmark::Benchmark;
use crate::cost::NetworkCost;
use crate::space::{Enumerable, SearchSpace, SpaceKind};

/// A benchmark dataset of one search space.
pub struct Dataset<S: SearchSpace> {
    archs: Vec<S::Arch>,
    ids: Vec<S::Id>,
    metrics: Vec<Metric>,
    sources: Vec<String>,
    lookup: OnceLock<HashMap<S::Id, usize>>,
}

impl<S: SearchSpace> Clone for Dataset<S> {
    fn clone(&self) -> Self {
        Dataset {
            archs: self.archs.clone(),
            ids: self.ids.clone(),
            metrics: self.metrics.clone(),
            sources: self.sources.clone(),
            lookup: OnceLock::new(),
        }
    }
}

impl<S: Enumerable> Dataset<S> {
    /// Every architecture of the space, without metrics.
    pub fn full() -> Dataset<S> {
        let (archs, ids) = S::all().into_iter().unzip();
        Dataset { archs, ids, metrics: Vec::new(), sources: Vec::new(), lookup: OnceLock::new() }
    }
}

impl<S: SearchSpace> Dataset<S> {
    /// A dataset from its parts; every metric must have one value per architecture.
    pub fn from_parts(
        archs: Vec<S::Arch>,
        ids: Vec<S::Id>,
        metrics: Vec<Metric>,
        sources: Vec<String>,
    ) -> Result<Dataset<S>> {
        if archs.len() != ids.len() {
            bail!("{} architectures but {} ids", archs.len(), ids.len());
        }
        if let Some(i) = (1..ids.len()).find(|&i| ids[i - 1] >= ids[i]) {
            bail!("architecture {i} ({}) is out of the space's order or repeated", ids[i]);
        }
        let mut names = std::collections::HashSet::new();
        for m in &metrics {
            if m.name.trim().is_empty() || !names.insert(m.name.as_str()) {
                bail!("metric name {:?} is empty or repeated", m.name);
            }
            if m.values.len() != archs.len() {
                bail!("metric {} has {} values for {} architectures", m.name, m.values.len(), archs.len());
            }
            if let Some((i, e)) = m
                .values
                .iter()
                .enumerate()
                .filter(|(_, v)| !v.is_nan())
                .find_map(|(i, v)| metric::check_value::<S>(&m.name, *v).err().map(|e| (i, e)))
            {
                bail!("metric {}, architecture {i} ({}): {e}", m.name, ids[i]);
            }
            if let Err((i, e)) = metric::check_column::<S>(&m.name, &m.values) {
                bail!("metric {}, architecture {i} ({}): {e}", m.name, ids[i]);
            }
        }
        Ok(Dataset { archs, ids, metrics, sources, lookup: OnceLock::new() })
    }

    pub fn space(&self) -> SpaceKind {
        S::KIND
    }

    pub fn len(&self) -> usize {
        self.archs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.archs.is_empty()
    }

    pub fn archs(&self) -> &[S::Arch] {
        &self.archs
    }

    pub fn ids(&self) -> &[S::Id] {
        &self.ids
    }

    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// Where the metrics came from (file names and formats), in the order they were joined.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    pub fn add_source(&mut self, source: String) {
        self.sources.push(source);
    }

    /// Position of the architecture with this id.
    pub fn position(&self, id: &S::Id) -> Option<usize> {
        self.lookup.get_or_init(|| self.ids.iter().enumerate().map(|(i, id)| (*id, i)).collect()).get(id).copied()
    }

    /// The values of a metric, if the dataset has it.
    pub fn metric(&self, name: &str) -> Option<&[f64]> {
        self.metrics.iter().find(|m| m.name == name).map(|m| m.values.as_slice())
    }

    /// The architectures at `positions`, in that order.
    pub fn archs_at(&self, positions: &[usize]) -> Vec<S::Arch> {
        positions.iter().map(|&i| self.archs[i]).collect()
    }

    /// The architectures at `positions` and their values of `metric`, which every one must have.
    pub fn labelled(&self, positions: &[usize], metric: &str) -> anyhow::Result<(Vec<S::Arch>, Vec<f64>)> {
        let col = self.metric(metric).ok_or_else(|| anyhow::anyhow!("the dataset has no metric {metric}"))?;
        let y: Vec<f64> = positions.iter().map(|&i| col[i]).collect();
        if let Some(k) = y.iter().position(|v| v.is_nan()) {
            anyhow::bail!("architecture {} has no {metric}", self.ids[positions[k]]);
        }
        Ok((self.archs_at(positions), y))
    }

    /// The first of `names` the dataset has (metric names in order of preference).
    pub fn first_metric(&self, names: &[String]) -> Option<String> {
        names.iter().find(|n| self.metric(n).is_some()).cloned()
    }

    /// The metric called `name`, created (all missing) if absent.
    pub fn metric_mut(&mut self, name: &str) -> &mut Vec<f64> {
        let i = match self.metrics.iter().position(|m| m.name == name) {
            Some(i) => i,
            None => {
                self.metrics.push(Metric::new(name, vec![f64::NAN; self.archs.len()]));
                self.metrics.len() - 1
            }
        };
        &mut self.metrics[i].values
    }

    /// The same architectures and ids with no metric at all (what a search method may see).
    pub fn without_metrics(&self) -> Dataset<S> {
        Dataset {
            archs: self.archs.clone(),
            ids: self.ids.clone(),
            metrics: Vec::new(),
            sources: self.sources.clone(),
            lookup: OnceLock::new(),
        }
    }
}

impl<S: Benchmark> Dataset<S> {
    /// Cell information and totals of architecture `i` for one network (from the exact cost model).
    pub fn cell_info(&self, i: usize, network: S::Network) -> NetworkCost {
        S::cost(&self.archs[i], network)
    }
}

/// A space's own sources, implemented in its folder: NAR's JSON differs per space, only NB101 has a
/// tfrecord release, and only NB201's table is built into the binary.
pub trait SpaceSources: Sized {
    /// The first character of NAR's JSON file of the space, where NAR published one (`[` for NB101's
    /// list of records, `{` for NB201's object).
    const NAR_JSON_ROOT: Option<u8>;
    /// The name of the table built into the binary, where the space has one ([`SpaceSources::built_in`]).
    const BUILT_IN_NAME: Option<&'static str>;
    /// Every architecture joined with the table built into the binary, where the space has one.
    fn built_in() -> Option<Result<Self>>;
    /// The published files of the space `nar data fetch` downloads.
    const PUBLISHED: &'static [fetch::Published];
    /// Joins a NAR JSON file of this space.
    fn join_nar_json(&mut self, path: &Path) -> Result<nar_json::ImportReport>;
    /// Writes the dataset as NAR JSON: every architecture that has the metrics NAR's loader needs.
    /// Returns how many records were written.
    fn export_nar_json(&self, out: &mut dyn std::io::Write) -> Result<usize>;
    /// Joins NAS-Bench-101's tfrecord release, where the space has one; returns the join's summary.
    fn join_tfrecord(&mut self, path: &Path) -> Result<String> {
        bail!("{}: the NAS-Bench-101 tfrecord cannot be joined into a dataset of another space", path.display())
    }
}

/// Builds the full dataset of space `S` joined with metric files, in order; by extension: `.csv`
/// ([`table`]), `.json` (NAR JSON), `.tfrecord` (NAS-Bench-101). `log` receives one line per file.
pub fn build<S: Enumerable>(metrics: &[PathBuf], log: &mut dyn FnMut(String)) -> Result<Dataset<S>>
where
    Dataset<S>: SpaceSources,
{
    // A space too large to list: the architectures its tables name (its sample without a table).
    let mut ds =
        if S::listed() || metrics.is_empty() { Dataset::<S>::full() } else { table::architectures_of(metrics)? };
    for path in metrics {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        match ext.as_str() {
            "csv" => {
                let r = table::join_csv(&mut ds, path)?;
                let names: Vec<String> = r
                    .metrics
                    .iter()
                    .map(|(name, col)| if name == col { name.clone() } else { format!("{name} (from {col})") })
                    .collect();
                log(format!("{}: joined {} rows; metrics: {}", path.display(), r.rows, names.join(", ")));
                if r.overwritten > 0 {
                    log(format!("  {} values replaced values from earlier files", r.overwritten));
                }
            }
            "json" => {
                let root = <Dataset<S> as SpaceSources>::NAR_JSON_ROOT;
                if root.is_none() || nar_json::first_byte(path)? != root {
                    bail!(
                        "{}: not a NAR JSON file of {} and cannot be joined into its dataset",
                        path.display(),
                        S::KIND
                    );
                }
                let r = ds.join_nar_json(path)?;
                log(r.summary(path));
            }
            "tfrecord" => {
                let r = ds.join_tfrecord(path)?;
                log(format!("{}: {r}", path.display()));
            }
            _ => bail!("{}: unknown metrics format (expected .csv, .json or .tfrecord)", path.display()),
        }
    }
    Ok(ds)
}

/// NAR's names for metrics that other tables spell differently (NB201 accuracy table → NAR JSON keys).
const METRIC_ALIASES: &[(&str, &str)] = &[("cifar10_valid_val_acc", "cifar10_val_acc")];

/// The name a metric column is stored under.
pub fn canonical_metric_name(column: &str) -> &str {
    METRIC_ALIASES.iter().find(|(alias, _)| *alias == column).map_or(column, |(_, name)| name)
}

/// nar's data directory: `$NAR_DATA_DIR`, else `$XDG_DATA_HOME/nar`, else `~/.local/share/nar`.
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("NAR_DATA_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(d).join("nar");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/share/nar")
}
