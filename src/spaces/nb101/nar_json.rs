//! NAS-Bench-101's NAR JSON (`docs/design.md` §3): a list of records with `module_adjacency`,
//! `module_operations`, `trainable_parameters`, `avg_training_time`, `avg_train_accuracy`,
//! `avg_validation_accuracy`, `avg_test_accuracy` (fractions), `unique_hash`, `vertex_flops`,
//! `vertex_params` (`"stack{s}/module{m}"` → one value per vertex), `flops`. The reading and writing
//! common to every space is `crate::data::nar_json`'s.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::hash::CellHash;
use super::{Cell, Nb101, cost};
use crate::data::nar_json::{ImportReport, cells_json, labelled_by, number, present, stream};
use crate::data::{Dataset, metric};
use crate::space::SearchSpace;

/// NB101 metrics in NAR's files.
pub const NB101_METRICS: [&str; 4] =
    ["avg_training_time", "avg_train_accuracy", "avg_validation_accuracy", "avg_test_accuracy"];
/// NB101 metrics NAR's loader needs in every record.
const NB101_REQUIRED: [&str; 2] = ["avg_validation_accuracy", "avg_test_accuracy"];
/// One NB101 record: every field is required (the accuracies NAR's loader needs may not be `null`,
/// the time and train accuracy may), and a field of another name is an error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Nb101Record {
    #[serde(deserialize_with = "super::bounded::matrix")]
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
    let c = cost::network_cost(&cell);
    report.compare_cells(&label, "vertex_flops", &r.vertex_flops, &c);
    report.compare_cells(&label, "vertex_params", &r.vertex_params, &c);
    report.compare(&label, "trainable_parameters", r.trainable_parameters, c.total_params);
    report.compare(&label, "flops", r.flops, c.total_flops);
    let values =
        [r.avg_training_time, r.avg_train_accuracy, Some(r.avg_validation_accuracy), Some(r.avg_test_accuracy)];
    for (name, v) in NB101_METRICS.iter().zip(values) {
        if let Some(v) = v {
            metric::check_value::<Nb101>(name, v).map_err(|e| anyhow!("field `{name}`: {e}"))?;
        }
    }
    Ok((pos, values.map(|v| v.unwrap_or(f64::NAN))))
}

/// Joins a NAR NB101 JSON file into `ds`, checking its cell information. Records are parsed on this
/// thread and checked in parallel, a batch at a time.
pub fn join(ds: &mut Dataset<Nb101>, path: &Path) -> Result<ImportReport> {
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

/// Writes the records NAR's loader can read: every cell with its validation and test accuracy.
pub fn export(ds: &Dataset<Nb101>, out: &mut dyn Write) -> Result<usize> {
    let rows = labelled_by(ds, &NB101_REQUIRED)?;
    let metric = |name: &str, i: usize| ds.metric(name).map_or(f64::NAN, |m| m[i]);
    out.write_all(b"[")?;
    for (k, &i) in rows.iter().enumerate() {
        let cell = &ds.archs()[i];
        let c = cost::network_cost(cell);
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
