//! NAR's JSON datasets (`docs/design.md` §3), read as a stream and written so the reference code loads them unchanged.
//!
//! - NB101: a list of records with `module_adjacency`, `module_operations`, `trainable_parameters`,
//!   `avg_training_time`, `avg_train_accuracy`, `avg_validation_accuracy`, `avg_test_accuracy` (fractions),
//!   `unique_hash`, `vertex_flops`, `vertex_params` (`"stack{s}/module{m}"` → one value per vertex), `flops`.
//! - NB201: an object keyed by index with `cell_adjacency`, `{cifar10,cifar100,imagenet16}_{val,test}_acc`
//!   (percent), `*_latency`, and for each of `cifar10-valid`, `cifar100`, `ImageNet16-120`: `_total_flops`,
//!   `_total_params`, `_opt_flops`, `_opt_params` (per cell, per edge), then `arch_str`.
//!
//! Reading never holds the whole file: records are parsed one at a time from a buffered reader. The cell
//! information in the file is checked against the cost model; mismatches are counted and the first few
//! reported, and the dataset keeps the cost model's values.

use std::cell::Cell as StdCell;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;
use serde::Deserialize;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value, json};

use super::{AnyDataset, Dataset, SpaceSources, metric};
use crate::cost::{self, NetworkCost};
use crate::space::nb101::Cell;
use crate::space::nb101::hash::CellHash;
use crate::space::nb201::{Arch, ImageDataset as Nb201Net};
use crate::space::{Nb101, Nb201, SearchSpace, SpaceKind};

/// NB101 metrics in NAR's files.
pub const NB101_METRICS: [&str; 4] =
    ["avg_training_time", "avg_train_accuracy", "avg_validation_accuracy", "avg_test_accuracy"];
/// NB101 metrics NAR's loader needs in every record.
const NB101_REQUIRED: [&str; 2] = ["avg_validation_accuracy", "avg_test_accuracy"];
/// NB201 metrics in NAR's files, in file order.
pub const NB201_METRICS: [&str; 9] = [
    "cifar10_val_acc",
    "cifar10_test_acc",
    "cifar100_val_acc",
    "cifar100_test_acc",
    "imagenet16_val_acc",
    "imagenet16_test_acc",
    "cifar10_latency",
    "cifar100_latency",
    "imagenet16_latency",
];
/// NB201 metrics NAR's loader needs in every record: the six accuracies (not the latencies).
const NB201_REQUIRED: &[&str] = NB201_METRICS.split_at(6).0;

/// What an import found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// Records read.
    pub records: usize,
    /// Cell-information values (per vertex/edge and totals) compared with the cost model.
    pub checked: usize,
    /// How many of them differ.
    pub mismatches: usize,
    /// The first few differences, readable.
    pub examples: Vec<String>,
}

impl ImportReport {
    /// One line per finding, for people.
    pub fn summary(&self, file: &Path) -> String {
        let mut s = format!(
            "{}: {} records; cell information: {} values checked against the cost model, {} differ",
            file.display(),
            self.records,
            self.checked,
            self.mismatches
        );
        for e in &self.examples {
            s.push_str(&format!("\n  mismatch: {e}"));
        }
        s
    }

    fn compare(&mut self, record: &str, field: impl fmt::Display, file: u64, model: u64) {
        self.checked += 1;
        if file != model {
            self.mismatches += 1;
            if self.examples.len() < 5 {
                self.examples.push(format!("{record}: {field} is {file} in the file, {model} by the cost model"));
            }
        }
    }

    fn compare_cells(&mut self, record: &str, what: &str, file: &BTreeMap<String, Vec<u64>>, cost: &NetworkCost) {
        for cell in &cost.cells {
            let model = if what.ends_with("flops") { &cell.flops } else { &cell.params };
            match file.get(cell.key) {
                Some(values) if values.len() == model.len() => {
                    for (i, (&f, &m)) in values.iter().zip(model).enumerate() {
                        self.compare(record, format_args!("{what}[{}][{i}]", cell.key), f, m);
                    }
                }
                Some(values) => {
                    self.checked += 1;
                    self.mismatches += 1;
                    if self.examples.len() < 5 {
                        self.examples.push(format!(
                            "{record}: {what}[{}] has {} values, the cell has {}",
                            cell.key,
                            values.len(),
                            model.len()
                        ));
                    }
                }
                None => {
                    self.checked += 1;
                    self.mismatches += 1;
                    if self.examples.len() < 5 {
                        self.examples.push(format!("{record}: {what} has no cell {}", cell.key));
                    }
                }
            }
        }
    }
}

/// Which space a NAR JSON file holds: a list is NB101, an object NB201.
pub fn sniff_space(path: &Path) -> Result<SpaceKind> {
    let mut f = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut buf = [0u8; 4096];
    let n = f.read(&mut buf).with_context(|| format!("cannot read {}", path.display()))?;
    // Each space's NAR JSON opens with its own bracket (NB101: a list of records; NB201: an object).
    let first = buf[..n].iter().find(|b| !b.is_ascii_whitespace());
    let root = |k: SpaceKind| crate::with_space!(k, S => <super::Dataset<S> as super::SpaceSources>::NAR_JSON_ROOT);
    match SpaceKind::ALL.into_iter().find(|&k| root(k).is_some_and(|r| Some(&r) == first)) {
        Some(space) => Ok(space),
        None => bail!("{}: not a NAR JSON dataset (expected a list for NB101 or an object for NB201)", path.display()),
    }
}

/// Reads a NAR JSON file into a full dataset of its space.
pub fn import(path: &Path) -> Result<(AnyDataset, ImportReport)> {
    Ok(crate::with_space!(sniff_space(path)?, S => {
        let mut ds = Dataset::<S>::full();
        let r = ds.join_nar_json(path)?;
        (ds.into_any(), r)
    }))
}

/// Reads a field that must be present but may be `null` (serde takes a missing `Option` for `None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Option::<f64>::deserialize(d)
}

/// One NB101 record: every field is required (the accuracies NAR's loader needs may not be `null`,
/// the time and train accuracy may), and a field of another name is an error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Nb101Record {
    #[serde(deserialize_with = "crate::space::nb101::bounded::matrix")]
    module_adjacency: Vec<Vec<i64>>,
    module_operations: Vec<String>,
    trainable_parameters: u64,
    // Present but possibly null: nar's export writes null where a dataset has no value (NaN once read).
    #[serde(deserialize_with = "present")]
    avg_training_time: Option<f64>,
    #[serde(deserialize_with = "present")]
    avg_train_accuracy: Option<f64>,
    avg_validation_accuracy: f64,
    avg_test_accuracy: f64,
    unique_hash: String,
    vertex_flops: BTreeMap<String, Vec<u64>>,
    vertex_params: BTreeMap<String, Vec<u64>>,
    flops: u64,
}

/// Streams the elements of a top-level JSON list (or the values of a top-level object) to a callback.
struct Stream<'a, T, F> {
    count: &'a StdCell<usize>,
    failed: &'a StdCell<Option<anyhow::Error>>,
    on_item: F,
    _t: std::marker::PhantomData<T>,
}

impl<T, F: FnMut(Option<String>, T) -> Result<()>> Stream<'_, T, F> {
    /// Hands an item to the callback; its error is kept whole and stops the parse.
    fn call<E: serde::de::Error>(&mut self, key: Option<String>, item: T) -> Result<(), E> {
        if let Err(e) = (self.on_item)(key, item) {
            self.failed.set(Some(e));
            return Err(E::custom("stopped"));
        }
        self.count.set(self.count.get() + 1);
        Ok(())
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(Option<String>, T) -> Result<()>> Visitor<'de> for Stream<'_, T, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list or object of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<T>()? {
            self.call(None, item)?;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let item = map.next_value::<T>()?;
            self.call(Some(key), item)?;
        }
        Ok(())
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(Option<String>, T) -> Result<()>> DeserializeSeed<'de> for Stream<'_, T, F> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

fn stream<T, F>(path: &Path, on_item: F) -> Result<usize>
where
    T: for<'de> Deserialize<'de>,
    F: FnMut(Option<String>, T) -> Result<()>,
{
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let reader = BufReader::with_capacity(1 << 20, file);
    let mut de = serde_json::Deserializer::from_reader(reader);
    let count = StdCell::new(0);
    let failed = StdCell::new(None);
    let seed = Stream { count: &count, failed: &failed, on_item, _t: std::marker::PhantomData };
    if let Err(e) = seed.deserialize(&mut de).and_then(|()| de.end()) {
        return Err(match failed.take() {
            Some(inner) => inner.context(path.display().to_string()),
            None => anyhow!("{}: record {}: {e}", path.display(), count.get()),
        });
    }
    Ok(count.get())
}

/// A JSON object read as a map whose keys must be unique (serde_json's map keeps the last of a repeated
/// key without a word).
struct UniqueMap(Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = UniqueMap;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<UniqueMap, A::Error> {
                let mut m = Map::new();
                while let Some((k, v)) = a.next_entry::<String, Value>()? {
                    if m.contains_key(&k) {
                        return Err(serde::de::Error::custom(format!("field `{k}` appears twice")));
                    }
                    m.insert(k, v);
                }
                Ok(UniqueMap(m))
            }
        }
        d.deserialize_map(V)
    }
}

/// A record's position in the dataset and its four metrics ([`NB101_METRICS`] order).
type Nb101Row = (usize, [f64; 4]);

/// Checks one NB101 record against the dataset and the cost model; returns its position and metrics.
fn check_nb101(ds: &Dataset<Nb101>, r: &Nb101Record, report: &mut ImportReport) -> Result<(usize, [f64; 4])> {
    let label = format!("hash {}", r.unique_hash);
    let cell = Cell::new(&r.module_adjacency, &r.module_operations)
        .map_err(|e| anyhow!("field `module_adjacency`/`module_operations` ({label}): {e}"))?;
    let listed: CellHash = r.unique_hash.parse().map_err(|e| anyhow!("field `unique_hash`: {e}"))?;
    let pos = ds.position(&listed);
    // NAR stores NAS-Bench-101's own representative matrix, which is the dataset's: equal cells share
    // the hash without recomputing it. Anything else is hashed.
    if pos.is_none_or(|p| ds.archs()[p] != cell) {
        let hash = Nb101::id(&cell);
        if hash != listed {
            bail!("field `unique_hash`: the cell hashes to {hash}, the record says {listed}");
        }
    }
    let pos = pos.ok_or_else(|| anyhow!("{label} is not in the dataset"))?;
    let c = cost::nb101::network_cost(&cell);
    report.compare_cells(&label, "vertex_flops", &r.vertex_flops, &c);
    report.compare_cells(&label, "vertex_params", &r.vertex_params, &c);
    report.compare(&label, "trainable_parameters", r.trainable_parameters, c.total_params);
    report.compare(&label, "flops", r.flops, c.total_flops);
    let values =
        [r.avg_training_time, r.avg_train_accuracy, Some(r.avg_validation_accuracy), Some(r.avg_test_accuracy)];
    for (name, v) in NB101_METRICS.iter().zip(values) {
        if let Some(v) = v {
            metric::check_value(Nb101::ACCURACY_SCALE, name, v).map_err(|e| anyhow!("field `{name}`: {e}"))?;
        }
    }
    Ok((pos, values.map(|v| v.unwrap_or(f64::NAN))))
}

impl ImportReport {
    fn merge(&mut self, other: ImportReport) {
        self.checked += other.checked;
        self.mismatches += other.mismatches;
        let room = 5usize.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
    }
}

/// Joins a NAR NB101 JSON file into `ds`, checking its cell information. Records are parsed on this
/// thread and checked in parallel, a batch at a time.
pub fn join_nb101(ds: &mut Dataset<Nb101>, path: &Path) -> Result<ImportReport> {
    const BATCH: usize = 2048;
    let mut report = ImportReport::default();
    let mut rows: Vec<(usize, [f64; 4])> = Vec::new();
    let mut batch: Vec<(usize, Nb101Record)> = Vec::with_capacity(BATCH);
    let mut next = 0;
    let dsr = &*ds;
    let flush = |batch: &mut Vec<(usize, Nb101Record)>,
                 report: &mut ImportReport,
                 rows: &mut Vec<(usize, [f64; 4])>|
     -> Result<()> {
        let checked: Vec<Result<(Nb101Row, ImportReport)>> = batch
            .par_iter()
            .map(|(i, r)| {
                let mut rep = ImportReport::default();
                check_nb101(dsr, r, &mut rep).map(|row| (row, rep)).with_context(|| format!("record {i}"))
            })
            .collect();
        for c in checked {
            let (row, rep) = c?;
            rows.push(row);
            report.merge(rep);
        }
        batch.clear();
        Ok(())
    };
    let records = stream(path, |_, r: Nb101Record| {
        batch.push((next, r));
        next += 1;
        if batch.len() == BATCH {
            flush(&mut batch, &mut report, &mut rows)?;
        }
        Ok(())
    })?;
    flush(&mut batch, &mut report, &mut rows).with_context(|| path.display().to_string())?;
    if records == 0 {
        bail!("{}: no records", path.display());
    }
    let mut seen = std::collections::HashSet::new();
    if let Some((pos, _)) = rows.iter().find(|(pos, _)| !seen.insert(*pos)) {
        bail!("{}: {} appears in two records", path.display(), ds.ids()[*pos]);
    }
    for (m, name) in NB101_METRICS.iter().enumerate() {
        let col = ds.metric_mut(name);
        rows.iter().for_each(|(pos, v)| col[*pos] = v[m]);
    }
    report.records = records;
    ds.add_source(format!("{} (NAR JSON, {records} records)", path.display()));
    Ok(report)
}

fn field<'a>(rec: &'a Map<String, Value>, key: &str) -> Result<&'a Value> {
    rec.get(key).ok_or_else(|| anyhow!("missing field `{key}`"))
}

fn cells_field(rec: &Map<String, Value>, key: &str) -> Result<BTreeMap<String, Vec<u64>>> {
    serde_json::from_value(field(rec, key)?.clone())
        .map_err(|e| anyhow!("field `{key}` must map cell names to lists of integers: {e}"))
}

/// Joins a NAR NB201 JSON file into `ds`, checking its cell information.
pub fn join_nb201(ds: &mut Dataset<Nb201>, path: &Path) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut rows: Vec<(usize, String, f64)> = Vec::new();
    let records = stream(path, |key, UniqueMap(rec)| {
        let key = key.unwrap_or_default();
        let at = format!("record {key}");
        check_nb201(&rec, &key, &mut report, &mut rows).context(at)
    })?;
    if records == 0 {
        bail!("{}: no records", path.display());
    }
    let mut seen = std::collections::HashSet::new();
    if let Some((pos, name, _)) = rows.iter().find(|(pos, name, _)| !seen.insert((*pos, name.clone()))) {
        bail!("{}: index {pos} appears twice (field `{name}`)", path.display());
    }
    for name in NB201_METRICS {
        let column: Vec<(usize, f64)> = rows.iter().filter(|(_, n, _)| n == name).map(|(p, _, v)| (*p, *v)).collect();
        let values: Vec<f64> = column.iter().map(|(_, v)| *v).collect();
        if let Err((i, e)) = metric::check_column(Nb201::ACCURACY_SCALE, name, &values) {
            bail!("{}: record {}: field `{name}`: {e}", path.display(), column[i].0);
        }
    }
    for (pos, name, v) in rows {
        ds.metric_mut(&name)[pos] = v;
    }
    report.records = records;
    ds.add_source(format!("{} (NAR JSON, {records} records)", path.display()));
    Ok(report)
}

/// Every field an NB201 record has, each required: `arch_str`, `cell_adjacency`, the nine metrics and the
/// four cost fields of each network.
fn nb201_fields() -> &'static std::collections::HashSet<String> {
    static FIELDS: std::sync::OnceLock<std::collections::HashSet<String>> = std::sync::OnceLock::new();
    FIELDS.get_or_init(|| {
        let mut f: std::collections::HashSet<String> =
            ["arch_str", "cell_adjacency"].into_iter().chain(NB201_METRICS).map(str::to_string).collect();
        for net in Nb201Net::ALL {
            for what in NB201_COST_FIELDS {
                f.insert(format!("{}_{what}", net.nar_key()));
            }
        }
        f
    })
}

/// The cost fields of each network in an NB201 record, after the network's key.
const NB201_COST_FIELDS: [&str; 4] = ["total_flops", "total_params", "opt_flops", "opt_params"];

/// The fields of an NB201 record, for an error message.
fn nb201_fields_listed() -> String {
    format!(
        "`arch_str`, `cell_adjacency`, {}, and `{{net}}_{{{}}}` for net in {}",
        NB201_METRICS.map(|m| format!("`{m}`")).join(", "),
        NB201_COST_FIELDS.join(","),
        Nb201Net::ALL.map(|n| n.nar_key()).join(", ")
    )
}

/// Checks one NB201 record against the cost model and collects its metrics.
fn check_nb201(
    rec: &Map<String, Value>,
    key: &str,
    report: &mut ImportReport,
    rows: &mut Vec<(usize, String, f64)>,
) -> Result<()> {
    let label = format!("index {key}");
    let arch_str = field(rec, "arch_str")?.as_str().ok_or_else(|| anyhow!("field `arch_str` must be a string"))?;
    let arch: Arch = arch_str.parse().map_err(|e| anyhow!("field `arch_str`: {e}"))?;
    if key.parse::<usize>().ok() != Some(arch.index()) {
        bail!("key {key:?}: {arch_str} is NB201 index {}", arch.index());
    }
    let m: Vec<Vec<i64>> = serde_json::from_value(field(rec, "cell_adjacency")?.clone())
        .map_err(|e| anyhow!("field `cell_adjacency`: {e}"))?;
    if Arch::from_matrix(&m).map_err(|e| anyhow!("field `cell_adjacency`: {e}"))? != arch {
        bail!("field `cell_adjacency` does not match `arch_str`");
    }
    for net in Nb201Net::ALL {
        let c = cost::nb201::network_cost(&arch, net);
        let k = net.nar_key();
        report.compare_cells(&label, &format!("{k}_opt_flops"), &cells_field(rec, &format!("{k}_opt_flops"))?, &c);
        report.compare_cells(&label, &format!("{k}_opt_params"), &cells_field(rec, &format!("{k}_opt_params"))?, &c);
        for (what, model) in [("total_flops", c.total_flops), ("total_params", c.total_params)] {
            let f = format!("{k}_{what}");
            let v = field(rec, &f)?.as_u64().ok_or_else(|| anyhow!("field `{f}` must be an integer"))?;
            report.compare(&label, &f, v, model);
        }
    }
    if let Some(unknown) = rec.keys().find(|k| !nb201_fields().contains(k.as_str())) {
        bail!("unknown field `{unknown}` (NB201 records hold {})", nb201_fields_listed());
    }
    for name in NB201_METRICS {
        let value = field(rec, name)?;
        if value.is_null() && NB201_REQUIRED.contains(&name) {
            bail!("field `{name}` is null: NAR's loader needs it in every record");
        }
        match value {
            Value::Number(n) => {
                let v = n.as_f64().ok_or_else(|| anyhow!("field `{name}`: {n} is not a number nar can hold"))?;
                metric::check_value(Nb201::ACCURACY_SCALE, name, v).map_err(|e| anyhow!("field `{name}`: {e}"))?;
                rows.push((arch.index(), name.to_string(), v))
            }
            Value::Null => {}
            _ => bail!("field `{name}` must be a number"),
        }
    }
    Ok(())
}

fn number(v: f64) -> Value {
    if v.is_nan() { Value::Null } else { json!(v) }
}

fn cells_json(cost: &NetworkCost, flops: bool) -> Value {
    Value::Object(
        cost.cells.iter().map(|c| (c.key.to_string(), json!(if flops { &c.flops } else { &c.params }))).collect(),
    )
}

fn labelled_by<S: SearchSpace>(ds: &Dataset<S>, required: &[&str]) -> Result<Vec<usize>> {
    let cols: Vec<&[f64]> = required
        .iter()
        .map(|n| {
            ds.metric(n).ok_or_else(|| {
                anyhow!(
                    "NAR's {} JSON needs metric `{n}` in every record; this dataset has: {}",
                    S::KIND,
                    ds.metrics().iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
                )
            })
        })
        .collect::<Result<_>>()?;
    Ok((0..ds.len()).filter(|&i| cols.iter().all(|c| !c[i].is_nan())).collect())
}

/// Writes `ds` as NAR JSON: every architecture that has the metrics NAR's loader needs. Returns how many
/// records were written.
pub fn export(ds: &AnyDataset, out: &mut dyn Write) -> Result<usize> {
    match ds {
        AnyDataset::Nb101(d) => export_nb101(d, out),
        AnyDataset::Nb201(d) => export_nb201(d, out),
    }
}

fn export_nb101(ds: &Dataset<Nb101>, out: &mut dyn Write) -> Result<usize> {
    let rows = labelled_by(ds, &NB101_REQUIRED)?;
    let metric = |name: &str, i: usize| ds.metric(name).map_or(f64::NAN, |m| m[i]);
    out.write_all(b"[")?;
    for (k, &i) in rows.iter().enumerate() {
        let cell = &ds.archs()[i];
        let c = cost::nb101::network_cost(cell);
        let mut rec = Map::new();
        rec.insert("module_adjacency".into(), json!(cell.matrix()));
        rec.insert("module_operations".into(), json!(cell.op_names()));
        rec.insert("trainable_parameters".into(), json!(c.total_params));
        for name in NB101_METRICS {
            rec.insert(name.into(), number(metric(name, i)));
        }
        rec.insert("unique_hash".into(), json!(ds.ids()[i].to_string()));
        rec.insert("vertex_flops".into(), cells_json(&c, true));
        rec.insert("vertex_params".into(), cells_json(&c, false));
        rec.insert("flops".into(), json!(c.total_flops));
        out.write_all(if k == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *out, &Value::Object(rec))?;
    }
    out.write_all(b"\n]\n")?;
    Ok(rows.len())
}

fn export_nb201(ds: &Dataset<Nb201>, out: &mut dyn Write) -> Result<usize> {
    let rows = labelled_by(ds, NB201_REQUIRED)?;
    let metric = |name: &str, i: usize| ds.metric(name).map_or(f64::NAN, |m| m[i]);
    out.write_all(b"{")?;
    for (k, &i) in rows.iter().enumerate() {
        let arch = &ds.archs()[i];
        let mut rec = Map::new();
        rec.insert("cell_adjacency".into(), json!(arch.matrix()));
        for name in NB201_METRICS {
            rec.insert(name.into(), number(metric(name, i)));
        }
        for net in Nb201Net::ALL {
            let c = cost::nb201::network_cost(arch, net);
            let key = net.nar_key();
            rec.insert(format!("{key}_total_flops"), json!(c.total_flops));
            rec.insert(format!("{key}_total_params"), json!(c.total_params));
            rec.insert(format!("{key}_opt_flops"), cells_json(&c, true));
            rec.insert(format!("{key}_opt_params"), cells_json(&c, false));
        }
        rec.insert("arch_str".into(), json!(arch.to_string()));
        out.write_all(if k == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *out, &ds.ids()[i].to_string())?;
        out.write_all(b": ")?;
        serde_json::to_writer(&mut *out, &Value::Object(rec))?;
    }
    out.write_all(b"\n}\n")?;
    Ok(rows.len())
}
