//! CSV tables of metrics, joined to a dataset by architecture identity.
//!
//! One reader serves the layouts nar knows and anyone's own results:
//! - an **identity column**: `unique_hash` (NB101, 32 hex digits) or `index` (NB201, 0..15,624); without
//!   it, the architecture columns identify the row;
//! - optional **architecture columns**, checked against the identity: NB101 `module_adjacency` and
//!   `module_operations` (JSON), NB201 `arch_str`;
//! - every other column is a **metric**: a number per row, or empty where missing. Column names are kept,
//!   except known aliases of NAR's names (`cifar10_valid_val_acc` → `cifar10_val_acc`).
//!
//! `data/nb201/nb201_accuracy.csv` and `data/nb101/nb101_subset_1k.csv` in the repository are both of
//! this form (`data/README.md` describes their columns).

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use super::{Dataset, canonical_metric_name, metric};
use crate::space::SearchSpace;

/// What a join did.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinReport {
    /// Rows read (and joined).
    pub rows: usize,
    /// Metrics taken from the file, with the column each came from.
    pub metrics: Vec<(String, String)>,
    /// Values that replaced a value already in the dataset.
    pub overwritten: usize,
}

/// Joins the metric columns of CSV file `path` into `ds`.
pub fn join_csv<S: SearchSpace>(ds: &mut Dataset<S>, path: &Path) -> Result<JoinReport> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    join_csv_reader(ds, LineGuard { inner: file, since_newline: 0 }, &path.display().to_string())
}

/// The dataset of the architectures the tables `paths` name (each once, in the space's order), without
/// metrics: a space too large to list has no other dataset. Every table needs the architecture
/// columns ([`SearchSpace::arch_column_names`]).
pub fn architectures_of<S: SearchSpace>(paths: &[std::path::PathBuf]) -> Result<Dataset<S>> {
    let mut found: Vec<(S::Arch, S::Id)> = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        if !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            bail!("{file}: a space too large to list reads CSV tables (its datasets are the tables' architectures)");
        }
        let input = std::fs::File::open(path).with_context(|| format!("cannot read {file}"))?;
        let mut reader = csv::ReaderBuilder::new().from_reader(LineGuard { inner: input, since_newline: 0 });
        let headers = reader.headers().with_context(|| format!("{file}: cannot read the header row"))?.clone();
        let Some(cols) = arch_columns::<S>(&headers) else {
            bail!(
                "{file}: a table of a space too large to list names its architectures in the column(s) {}",
                S::arch_column_names().iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(" and ")
            );
        };
        for (r, record) in reader.records().enumerate() {
            let record = record.with_context(|| format!("{file}: record {} (line {})", r + 1, r + 2))?;
            let arch = parse_arch::<S>(&record, &cols).with_context(|| {
                format!("{file}: record {} (line {}), field `{}`", r + 1, r + 2, S::arch_column_names()[0])
            })?;
            found.push((arch, S::id(&arch)));
        }
    }
    found.sort_by_key(|&(_, id)| id);
    found.dedup_by_key(|&mut (_, id)| id);
    let (archs, ids) = found.into_iter().unzip();
    Dataset::from_parts(archs, ids, Vec::new(), Vec::new())
}

/// Where a table's header has the space's architecture columns, if it has all of them.
fn arch_columns<S: SearchSpace>(headers: &csv::StringRecord) -> Option<Vec<usize>> {
    S::arch_column_names().iter().map(|c| headers.iter().position(|h| h.trim() == *c)).collect()
}

/// The architecture a record spells out in the columns `cols` ([`arch_columns`]).
fn parse_arch<S: SearchSpace>(record: &csv::StringRecord, cols: &[usize]) -> Result<S::Arch> {
    let values: Vec<&str> = cols.iter().map(|&c| record.get(c).unwrap_or("")).collect();
    S::parse_arch_columns(&values).map_err(|e| anyhow!(e))
}

/// The longest line a table may have: tables are streamed, and a file without line breaks (a binary
/// file, `/dev/zero`) must not be buffered whole as one record.
const MAX_LINE: usize = 1 << 20;

/// A reader that fails once more than [`MAX_LINE`] bytes pass without a line break.
struct LineGuard<R> {
    inner: R,
    since_newline: usize,
}

impl<R: std::io::Read> std::io::Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            self.since_newline = if b == b'\n' { 0 } else { self.since_newline + 1 };
            if self.since_newline > MAX_LINE {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("a line longer than {} MiB: not a table", MAX_LINE >> 20),
                ));
            }
        }
        Ok(n)
    }
}

/// Joins the metric columns of a CSV table read from `input` into `ds`; `file` names the table in
/// errors and in the dataset's sources.
pub fn join_csv_reader<S: SearchSpace, R: std::io::Read>(
    ds: &mut Dataset<S>,
    input: R,
    file: &str,
) -> Result<JoinReport> {
    let mut reader = csv::ReaderBuilder::new().from_reader(input);
    let headers = reader.headers().with_context(|| format!("{file}: cannot read the header row"))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let id_col = col(S::id_column());
    let arch_cols = arch_columns::<S>(&headers);
    if id_col.is_none() && arch_cols.is_none() {
        bail!(
            "{file}: no identity column: a {} table needs `{}` or the column(s) {}",
            S::KIND,
            S::id_column(),
            S::arch_column_names().iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(" and ")
        );
    }
    let mut names = HashSet::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim();
        if h.is_empty() {
            bail!("{file}: column {} of the header has no name", i + 1);
        }
        if !names.insert(canonical_metric_name(h)) {
            bail!("{file}: column `{h}` appears twice in the header (or under another of its names)");
        }
    }
    let skip: HashSet<usize> = id_col.into_iter().chain(arch_cols.iter().flatten().copied()).collect();
    let metric_cols: Vec<(usize, String, String)> = headers
        .iter()
        .enumerate()
        .filter(|(i, _)| !skip.contains(i))
        .map(|(i, h)| (i, h.trim().to_string(), canonical_metric_name(h.trim()).to_string()))
        .collect();
    if metric_cols.is_empty() {
        bail!("{file}: no metric columns besides the identity");
    }
    let mut parsed: Vec<(usize, Vec<f64>)> = Vec::new();
    let mut seen = HashSet::new();
    for (r, record) in reader.records().enumerate() {
        let line = r + 2; // 1-based, after the header
        let record = record.with_context(|| format!("{file}: record {} (line {line})", r + 1))?;
        let at = |field: &str| format!("{file}: record {} (line {line}), field `{field}`", r + 1);
        let arch = match &arch_cols {
            Some(cols) => Some(parse_arch::<S>(&record, cols).with_context(|| at(S::arch_column_names()[0]))?),
            None => None,
        };
        let id = match id_col {
            Some(c) => {
                let id = S::parse_id(record.get(c).unwrap_or(""))
                    .map_err(|e| anyhow!(e))
                    .with_context(|| at(S::id_column()))?;
                if let Some(a) = &arch
                    && S::id(a) != id
                {
                    bail!("{}: the architecture is {}, not {id}", at(S::arch_column_names()[0]), S::id(a));
                }
                id
            }
            None => S::id(arch.as_ref().expect("arch columns present")),
        };
        let pos = ds
            .position(&id)
            .ok_or_else(|| anyhow!("{}: {id} is not in this {} dataset", at(S::id_column()), S::KIND))?;
        if !seen.insert(pos) {
            bail!("{}: {id} appears twice", at(S::id_column()));
        }
        let values = metric_cols
            .iter()
            .map(|(c, name, _)| {
                let text = record.get(*c).unwrap_or("").trim();
                if text.is_empty() {
                    Ok(f64::NAN)
                } else {
                    let v = text.parse::<f64>().map_err(|_| anyhow!("{}: {text:?} is not a number", at(name)))?;
                    metric::check_value::<S>(name, v).map_err(|e| anyhow!("{}: {e}", at(name)))?;
                    Ok(v)
                }
            })
            .collect::<Result<Vec<f64>>>()?;
        parsed.push((pos, values));
    }
    if parsed.is_empty() {
        bail!("{file}: no records below the header");
    }
    for (m, (_, name, _)) in metric_cols.iter().enumerate() {
        let column: Vec<f64> = parsed.iter().map(|(_, values)| values[m]).collect();
        if let Err((r, e)) = metric::check_column::<S>(name, &column) {
            bail!("{file}: record {} (line {}), field `{name}`: {e}", r + 1, r + 2);
        }
    }
    let mut overwritten = 0;
    for (m, (_, _, name)) in metric_cols.iter().enumerate() {
        let column = ds.metric_mut(name);
        for (pos, values) in &parsed {
            let v = values[m];
            if !v.is_nan() {
                if !column[*pos].is_nan() && column[*pos] != v {
                    overwritten += 1;
                }
                column[*pos] = v;
            }
        }
    }
    ds.add_source(format!("{file} (CSV, {} rows)", parsed.len()));
    Ok(JoinReport {
        rows: parsed.len(),
        metrics: metric_cols.into_iter().map(|(_, col, name)| (name, col)).collect(),
        overwritten,
    })
}
