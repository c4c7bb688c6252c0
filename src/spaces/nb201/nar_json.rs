//! NAS-Bench-201's NAR JSON (`docs/design.md` §3): an object keyed by index with `cell_adjacency`,
//! `{cifar10,cifar100,imagenet16}_{val,test}_acc` (percent), `*_latency`, and for each of
//! `cifar10-valid`, `cifar100`, `ImageNet16-120`: `_total_flops`, `_total_params`, `_opt_flops`,
//! `_opt_params` (per cell, per edge), then `arch_str`. The reading and writing common to every space
//! is `crate::data::nar_json`'s.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};

use super::{Arch, ImageDataset as Nb201Net, Nb201, cost};
use crate::data::nar_json::{ImportReport, UniqueMap, cells_field, cells_json, field, labelled_by, number, stream};
use crate::data::{Dataset, metric};

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

/// Joins a NAR NB201 JSON file into `ds`, checking its cell information.
pub fn join(ds: &mut Dataset<Nb201>, path: &Path) -> Result<ImportReport> {
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
        if let Err((i, e)) = metric::check_column::<Nb201>(name, &values) {
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
        let c = cost::network_cost(&arch, net);
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
                metric::check_value::<Nb201>(name, v).map_err(|e| anyhow!("field `{name}`: {e}"))?;
                rows.push((arch.index(), name.to_string(), v))
            }
            Value::Null => {}
            _ => bail!("field `{name}` must be a number"),
        }
    }
    Ok(())
}

/// Writes the records NAR's loader can read: every architecture with the six accuracies.
pub fn export(ds: &Dataset<Nb201>, out: &mut dyn Write) -> Result<usize> {
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
            let c = cost::network_cost(arch, net);
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
