//! NAS-Bench-101's official release (`nasbench_only108.tfrecord`, `nasbench_full.tfrecord`), read
//! without TensorFlow.
//!
//! - TFRecord framing: per record a little-endian u64 length, the masked CRC-32C of those 8 bytes, the
//!   data, and the masked CRC-32C of the data (mask: `((crc >> 15) | (crc << 17)) + 0xa282ead8`).
//! - Each record's data is a JSON list `[hash, epochs, adjacency digits, "op,op,…", base64 ModelMetrics]`.
//! - `ModelMetrics` (proto2): `repeated EvaluationData evaluation_data = 1; optional int32
//!   trainable_parameters = 2; optional double total_time = 3`. `EvaluationData`: doubles
//!   `current_epoch = 1, training_time = 2, train_accuracy = 3, validation_accuracy = 4,
//!   test_accuracy = 5`, `string checkpoint_path = 6`. Entry 2 is the end of training.
//!
//! Averaging as NAR's data does: for each architecture, the mean over its runs (three) at the largest
//! epoch budget of the final training time, train, validation and test accuracy → `avg_training_time`,
//! `avg_train_accuracy`, `avg_validation_accuracy`, `avg_test_accuracy`.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Write};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;

use super::hash::CellHash;
use super::nar_json::NB101_METRICS;
use super::{Cell, Nb101, cost};
use crate::data::{Dataset, metric};
use crate::space::SearchSpace;

const MASK_DELTA: u32 = 0xa282_ead8;

/// The epoch budgets NAS-Bench-101 trained at (`nasbench_full` has all four, `nasbench_only108` the last).
pub const EPOCH_BUDGETS: [u32; 4] = [4, 12, 36, 108];
/// Training runs per cell and epoch budget in NAS-Bench-101 (each with its own seed).
pub const RUNS_PER_BUDGET: usize = 3;

fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(MASK_DELTA)
}

/// Appends one TFRecord-framed record.
pub fn write_record(out: &mut dyn Write, data: &[u8]) -> std::io::Result<()> {
    let len = (data.len() as u64).to_le_bytes();
    out.write_all(&len)?;
    out.write_all(&masked_crc(&len).to_le_bytes())?;
    out.write_all(data)?;
    out.write_all(&masked_crc(data).to_le_bytes())
}

/// Reads TFRecord-framed records one by one, checking both CRCs.
pub struct RecordReader<R> {
    inner: R,
    index: usize,
}

impl<R: Read> RecordReader<R> {
    pub fn new(inner: R) -> Self {
        RecordReader { inner, index: 0 }
    }

    /// The next record, `None` at a clean end of file.
    pub fn next_record(&mut self) -> Result<Option<Vec<u8>>> {
        let i = self.index;
        let mut len = [0u8; 8];
        match self.inner.read_exact(&mut len[..1]) {
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(None),
            r => r.with_context(|| format!("record {i}: cannot read"))?,
        }
        self.inner.read_exact(&mut len[1..]).with_context(|| format!("record {i}: truncated length"))?;
        let mut crc = [0u8; 4];
        self.inner.read_exact(&mut crc).with_context(|| format!("record {i}: truncated length checksum"))?;
        if u32::from_le_bytes(crc) != masked_crc(&len) {
            bail!("record {i}: the length checksum does not match (corrupted file)");
        }
        let n = u64::from_le_bytes(len);
        // A NAS-Bench-101 record is a few kilobytes; a crafted length must not allocate gigabytes.
        if n > 16 << 20 {
            bail!("record {i}: implausible length {n} (records are at most 16 MiB)");
        }
        let mut data = vec![0u8; n as usize];
        self.inner.read_exact(&mut data).with_context(|| format!("record {i}: truncated data ({n} bytes expected)"))?;
        self.inner.read_exact(&mut crc).with_context(|| format!("record {i}: truncated data checksum"))?;
        if u32::from_le_bytes(crc) != masked_crc(&data) {
            bail!("record {i}: the data checksum does not match (corrupted file)");
        }
        self.index += 1;
        Ok(Some(data))
    }
}

/// One evaluation of a training run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EvaluationData {
    pub current_epoch: f64,
    pub training_time: f64,
    pub train_accuracy: f64,
    pub validation_accuracy: f64,
    pub test_accuracy: f64,
    pub checkpoint_path: String,
}

/// The metrics of one training run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelMetrics {
    pub evaluation_data: Vec<EvaluationData>,
    pub trainable_parameters: i32,
    pub total_time: f64,
}

/// Minimal protobuf wire-format reading and writing (varints, fixed64, length-delimited).
mod wire {
    use anyhow::{Result, bail};

    pub fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = buf.get(*pos) else { bail!("truncated varint") };
            *pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        bail!("varint longer than 10 bytes")
    }

    pub fn read_fixed64(buf: &[u8], pos: &mut usize) -> Result<u64> {
        let Some(b) = buf.get(*pos..*pos + 8) else { bail!("truncated fixed64") };
        *pos += 8;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    pub fn read_bytes<'a>(buf: &'a [u8], pos: &mut usize) -> Result<&'a [u8]> {
        let n = read_varint(buf, pos)? as usize;
        let Some(b) = buf.get(*pos..*pos + n) else { bail!("truncated length-delimited field") };
        *pos += n;
        Ok(b)
    }

    /// Skips a field of an unknown number.
    pub fn skip(buf: &[u8], pos: &mut usize, wire_type: u64) -> Result<()> {
        match wire_type {
            0 => read_varint(buf, pos).map(drop),
            1 => read_fixed64(buf, pos).map(drop),
            2 => read_bytes(buf, pos).map(drop),
            5 => {
                if *pos + 4 > buf.len() {
                    bail!("truncated fixed32");
                }
                *pos += 4;
                Ok(())
            }
            t => bail!("unsupported wire type {t}"),
        }
    }

    pub fn write_varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    pub fn write_double(out: &mut Vec<u8>, field: u64, v: f64) {
        write_varint(out, field << 3 | 1);
        out.extend_from_slice(&v.to_le_bytes());
    }

    pub fn write_bytes(out: &mut Vec<u8>, field: u64, b: &[u8]) {
        write_varint(out, field << 3 | 2);
        write_varint(out, b.len() as u64);
        out.extend_from_slice(b);
    }
}

impl EvaluationData {
    fn decode(buf: &[u8]) -> Result<EvaluationData> {
        let mut e = EvaluationData::default();
        let mut pos = 0;
        while pos < buf.len() {
            let key = wire::read_varint(buf, &mut pos)?;
            let (field, wt) = (key >> 3, key & 7);
            let double = |pos: &mut usize| -> Result<f64> {
                if wt != 1 {
                    bail!("EvaluationData field {field}: wire type {wt}, expected a double");
                }
                Ok(f64::from_bits(wire::read_fixed64(buf, pos)?))
            };
            match field {
                1 => e.current_epoch = double(&mut pos)?,
                2 => e.training_time = double(&mut pos)?,
                3 => e.train_accuracy = double(&mut pos)?,
                4 => e.validation_accuracy = double(&mut pos)?,
                5 => e.test_accuracy = double(&mut pos)?,
                6 if wt == 2 => {
                    e.checkpoint_path = String::from_utf8_lossy(wire::read_bytes(buf, &mut pos)?).into_owned()
                }
                _ => wire::skip(buf, &mut pos, wt)?,
            }
        }
        Ok(e)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        wire::write_double(out, 1, self.current_epoch);
        wire::write_double(out, 2, self.training_time);
        wire::write_double(out, 3, self.train_accuracy);
        wire::write_double(out, 4, self.validation_accuracy);
        wire::write_double(out, 5, self.test_accuracy);
        if !self.checkpoint_path.is_empty() {
            wire::write_bytes(out, 6, self.checkpoint_path.as_bytes());
        }
    }
}

impl ModelMetrics {
    /// Decodes the protobuf wire format.
    pub fn decode(buf: &[u8]) -> Result<ModelMetrics> {
        let mut m = ModelMetrics::default();
        let mut pos = 0;
        while pos < buf.len() {
            let key = wire::read_varint(buf, &mut pos)?;
            let (field, wt) = (key >> 3, key & 7);
            match (field, wt) {
                (1, 2) => m.evaluation_data.push(
                    EvaluationData::decode(wire::read_bytes(buf, &mut pos)?)
                        .with_context(|| format!("evaluation_data[{}]", m.evaluation_data.len()))?,
                ),
                (2, 0) => m.trainable_parameters = wire::read_varint(buf, &mut pos)? as i64 as i32,
                (3, 1) => m.total_time = f64::from_bits(wire::read_fixed64(buf, &mut pos)?),
                (1..=3, _) => bail!("ModelMetrics field {field} has wire type {wt}"),
                _ => wire::skip(buf, &mut pos, wt)?,
            }
        }
        Ok(m)
    }

    /// Encodes the protobuf wire format.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.evaluation_data {
            let mut inner = Vec::new();
            e.encode(&mut inner);
            wire::write_bytes(&mut out, 1, &inner);
        }
        wire::write_varint(&mut out, 2 << 3);
        wire::write_varint(&mut out, self.trainable_parameters as i64 as u64);
        wire::write_double(&mut out, 3, self.total_time);
        out
    }
}

/// One record of the release: one training run of one architecture.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub hash: String,
    pub epochs: u32,
    pub matrix: Vec<Vec<i64>>,
    pub ops: Vec<String>,
    pub metrics: ModelMetrics,
}

impl Run {
    /// Parses a record's JSON list.
    pub fn parse(data: &[u8]) -> Result<Run> {
        let (hash, epochs, adjacency, ops, metrics): (String, u32, String, String, String) =
            serde_json::from_slice(data).context("expected a JSON list [hash, epochs, adjacency, ops, metrics]")?;
        let dim = (adjacency.len() as f64).sqrt() as usize;
        if dim * dim != adjacency.len() {
            bail!("field `adjacency`: {} digits do not make a square matrix", adjacency.len());
        }
        let digits: Vec<i64> = adjacency
            .bytes()
            .map(|b| {
                if b.is_ascii_digit() {
                    Ok(i64::from(b - b'0'))
                } else {
                    Err(anyhow!("field `adjacency`: {:?} is not a digit", b as char))
                }
            })
            .collect::<Result<_>>()?;
        let matrix = digits.chunks(dim.max(1)).map(<[i64]>::to_vec).collect();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(metrics.trim())
            .map_err(|e| anyhow!("field `metrics`: invalid base64: {e}"))?;
        let metrics = ModelMetrics::decode(&raw).context("field `metrics`: invalid ModelMetrics protobuf")?;
        Ok(Run { hash, epochs, matrix, ops: ops.split(',').map(str::to_string).collect(), metrics })
    }

    /// The record's JSON list.
    pub fn to_json(&self) -> Vec<u8> {
        let adjacency: String = self.matrix.iter().flatten().map(|d| d.to_string()).collect();
        let metrics = base64::engine::general_purpose::STANDARD.encode(self.metrics.encode());
        serde_json::to_vec(&(&self.hash, self.epochs, adjacency, self.ops.join(","), metrics)).expect("serializable")
    }
}

/// What a tfrecord join did.
#[derive(Debug, Clone, PartialEq)]
pub struct TfJoinReport {
    pub records: usize,
    pub architectures: usize,
    pub epochs: u32,
    /// Runs averaged per architecture: (runs, architectures with that many).
    pub runs: Vec<(usize, usize)>,
    /// Architectures whose `trainable_parameters` differs from the cost model.
    pub param_mismatches: usize,
}

impl fmt::Display for TfJoinReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let runs: Vec<String> = self.runs.iter().map(|(r, n)| format!("{n} with {r} runs")).collect();
        write!(
            f,
            "{} records, {} architectures at {} epochs ({}); trainable_parameters differs from the cost model for {}",
            self.records,
            self.architectures,
            self.epochs,
            runs.join(", "),
            self.param_mismatches
        )
    }
}

/// Joins a NAS-Bench-101 tfrecord into `ds`: the averaged final metrics at the largest epoch budget.
pub fn join(ds: &mut Dataset<Nb101>, path: &Path) -> Result<TfJoinReport> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut reader = RecordReader::new(BufReader::with_capacity(1 << 20, file));
    // hash → (largest epoch budget, sums of [time, train, val, test] there, trainable parameters)
    let mut acc: HashMap<CellHash, (u32, [f64; 4], i32)> = HashMap::new();
    let mut records = 0;
    // Runs per (hash, epoch budget), every budget counted (the averages divide by the largest's).
    let mut runs_at: HashMap<(CellHash, u32), usize> = HashMap::new();
    // Every record's cell is validated; the first of each hash is hashed, the others must repeat it.
    let mut cell_checked: HashMap<CellHash, Cell> = HashMap::new();
    while let Some(data) = reader.next_record().with_context(|| format!("{}", path.display()))? {
        let at = || format!("{}: record {records}", path.display());
        let run = Run::parse(&data).with_context(at)?;
        let listed: CellHash = run.hash.parse().map_err(|e: String| anyhow!(e)).with_context(at)?;
        let cell = Cell::new(&run.matrix, &run.ops)
            .map_err(|e| anyhow!("field `adjacency`/`operations`: {e}"))
            .with_context(at)?;
        if let Some(first) = cell_checked.get(&listed) {
            if *first != cell {
                bail!("{}: field `adjacency`/`operations`: not the cell of the earlier records of hash {listed}", at());
            }
        } else {
            cell_checked.insert(listed, cell);
            let hash = Nb101::id(&cell);
            if hash != listed {
                bail!("{}: field `hash`: the cell hashes to {hash}, the record says {listed}", at());
            }
            if ds.position(&hash).is_none() {
                bail!("{}: {hash} is not in the dataset", at());
            }
        }
        let Some(last) = run.metrics.evaluation_data.last() else {
            bail!("{}: field `metrics`: no evaluation data", at());
        };
        let final_eval = run.metrics.evaluation_data.get(2).unwrap_or(last);
        let values = [
            final_eval.training_time,
            final_eval.train_accuracy,
            final_eval.validation_accuracy,
            final_eval.test_accuracy,
        ];
        for (name, v) in ["training_time", "train_accuracy", "validation_accuracy", "test_accuracy"].iter().zip(values)
        {
            metric::check_value::<Nb101>(name, v).map_err(|e| anyhow!("{}: field `{name}`: {e}", at()))?;
        }
        if !EPOCH_BUDGETS.contains(&run.epochs) {
            bail!("{}: field `epochs`: {}: NAS-Bench-101 trains for 4, 12, 36 or 108 epochs", at(), run.epochs);
        }
        let entry = acc.entry(listed).or_insert((run.epochs, [0.0; 4], run.metrics.trainable_parameters));
        if run.epochs > entry.0 {
            *entry = (run.epochs, [0.0; 4], run.metrics.trainable_parameters);
        }
        if run.epochs == entry.0 {
            entry.1.iter_mut().zip(values).for_each(|(s, v)| *s += v);
        }
        let count = runs_at.entry((listed, run.epochs)).or_insert(0);
        *count += 1;
        if *count > RUNS_PER_BUDGET {
            bail!(
                "{}: hash {listed} has more than {RUNS_PER_BUDGET} training runs at {} epochs: NAS-Bench-101 trains each cell {RUNS_PER_BUDGET} times per epoch budget",
                at(),
                run.epochs
            );
        }
        records += 1;
    }
    if records == 0 {
        bail!("{}: no records", path.display());
    }
    let mut runs: HashMap<usize, usize> = HashMap::new();
    let mut param_mismatches = 0;
    let mut epochs = 0;
    let mut updates = Vec::with_capacity(acc.len());
    for (hash, (e, sums, params)) in &acc {
        let pos = ds.position(hash).expect("checked above");
        let n = &runs_at[&(*hash, *e)];
        *runs.entry(*n).or_default() += 1;
        epochs = epochs.max(*e);
        if i64::from(*params) != cost::network_cost(&ds.archs()[pos]).total_params as i64 {
            param_mismatches += 1;
        }
        updates.push((pos, sums.map(|s| s / *n as f64)));
    }
    for (m, name) in NB101_METRICS.iter().enumerate() {
        let col = ds.metric_mut(name);
        updates.iter().for_each(|(pos, v)| col[*pos] = v[m]);
    }
    ds.add_source(format!("{} (NAS-Bench-101 tfrecord, {records} records)", path.display()));
    let mut runs: Vec<(usize, usize)> = runs.into_iter().collect();
    runs.sort_unstable();
    Ok(TfJoinReport { records, architectures: acc.len(), epochs, runs, param_mismatches })
}
