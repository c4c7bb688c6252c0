//! NAR's JSON datasets (`docs/design.md` §3), read as a stream and written so the reference code loads
//! them unchanged: what every space's NAR JSON shares (streaming records, unique keys, the cost check and
//! its report, the writing helpers). Each space's records are its own (`spaces/<name>/nar_json.rs`).
//!
//! Reading never holds the whole file: records are parsed one at a time from a buffered reader. The cell
//! information in the file is checked against the cost model; mismatches are counted and the first few
//! reported, and the dataset keeps the cost model's values.

use std::cell::Cell as StdCell;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use serde::Deserialize;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value, json};

use super::Dataset;
use crate::cost::NetworkCost;
use crate::space::SearchSpace;

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

    pub fn compare(&mut self, record: &str, field: impl fmt::Display, file: u64, model: u64) {
        self.checked += 1;
        if file != model {
            self.mismatches += 1;
            if self.examples.len() < 5 {
                self.examples.push(format!("{record}: {field} is {file} in the file, {model} by the cost model"));
            }
        }
    }

    pub fn compare_cells(&mut self, record: &str, what: &str, file: &BTreeMap<String, Vec<u64>>, cost: &NetworkCost) {
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

/// Reads a field that must be present but may be `null` (serde takes a missing `Option` for `None`).
pub fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Option::<f64>::deserialize(d)
}

/// Streams the elements of a top-level JSON list (or the values of a top-level object) to a callback.
pub struct Stream<'a, T, F> {
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

pub fn stream<T, F>(path: &Path, on_item: F) -> Result<usize>
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
pub struct UniqueMap(pub Map<String, Value>);

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

impl ImportReport {
    pub fn merge(&mut self, other: ImportReport) {
        self.checked += other.checked;
        self.mismatches += other.mismatches;
        let room = 5usize.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
    }
}

pub fn field<'a>(rec: &'a Map<String, Value>, key: &str) -> Result<&'a Value> {
    rec.get(key).ok_or_else(|| anyhow!("missing field `{key}`"))
}

pub fn cells_field(rec: &Map<String, Value>, key: &str) -> Result<BTreeMap<String, Vec<u64>>> {
    serde_json::from_value(field(rec, key)?.clone())
        .map_err(|e| anyhow!("field `{key}` must map cell names to lists of integers: {e}"))
}

pub fn number(v: f64) -> Value {
    if v.is_nan() { Value::Null } else { json!(v) }
}

pub fn cells_json(cost: &NetworkCost, flops: bool) -> Value {
    Value::Object(
        cost.cells.iter().map(|c| (c.key.to_string(), json!(if flops { &c.flops } else { &c.params }))).collect(),
    )
}

pub fn labelled_by<S: SearchSpace>(ds: &Dataset<S>, required: &[&str]) -> Result<Vec<usize>> {
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

/// The first character of a JSON file that is not white space: each space's NAR JSON opens with its own
/// bracket (`SpaceSources::NAR_JSON_ROOT`), which is how a file names its space.
pub fn first_byte(path: &Path) -> Result<Option<u8>> {
    let mut f = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut buf = [0u8; 4096];
    let n = f.read(&mut buf).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(buf[..n].iter().copied().find(|b| !b.is_ascii_whitespace()))
}
