//! nar's dataset file (`.nar`): one bulk read, one checksum, no parsing of numbers.
//!
//! Layout (little-endian):
//! ```text
//! 0   8   magic "NARSTORE"
//! 8   4   format version (1)
//! 12  4   header length H
//! 16  H   header: JSON {"space", "count", "metrics": [names], "sources": [..], "writer"}, with "subset"
//!         where it holds part of its space and "declaration" (source, sha256, text) for a declared space
//! ..      zero padding to a multiple of 8
//! ..      count × arch_bytes() architecture records (space-specific, see `SearchSpace::write_arch`)
//! ..      zero padding to a multiple of 8
//! ..      for each metric: count × f64 (NaN = missing)
//! end-8 4 CRC-32 of every byte before it
//! end-4 4 magic "NEND"
//! ```
//! Cell information is not stored: it is a pure function of the architecture, computed exactly by the
//! cost model when asked for.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Dataset, Metric};
use crate::io::write_atomic;
use crate::space::{DeclarationText, SearchSpace, SpaceKind};

const MAGIC: &[u8; 8] = b"NARSTORE";
const END: &[u8; 4] = b"NEND";
/// The store format version this build reads and writes.
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    space: SpaceKind,
    count: usize,
    metrics: Vec<String>,
    sources: Vec<String>,
    writer: String,
    /// Present when the store holds part of the space: which part, in words (the ids are the records).
    /// A store without it holds every architecture of its space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subset: Option<String>,
    /// A declared space's declaration, which the store carries so that it opens with its own space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    declaration: Option<DeclarationText>,
}

fn pad8(buf: &mut Vec<u8>) {
    while !buf.len().is_multiple_of(8) {
        buf.push(0);
    }
}

fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// The bytes of a store holding `ds`.
pub fn to_bytes<S: SearchSpace>(ds: &Dataset<S>) -> Vec<u8> {
    let header = Header {
        space: S::KIND,
        count: ds.len(),
        metrics: ds.metrics().iter().map(|m| m.name.clone()).collect(),
        sources: ds.sources().to_vec(),
        writer: format!("nar {}", env!("CARGO_PKG_VERSION")),
        subset: (ds.len() < S::size()).then(|| match S::size() {
            usize::MAX => format!("{} architectures of a space too large to list", ds.len()),
            n => format!("{} of the space's {n} architectures", ds.len()),
        }),
        declaration: S::declaration(),
    };
    let header = serde_json::to_vec(&header).expect("header serializes");
    let mut buf = Vec::with_capacity(64 + header.len() + ds.len() * (S::arch_bytes() + 8 * ds.metrics().len()));
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&VERSION.to_le_bytes());
    buf.extend_from_slice(&(header.len() as u32).to_le_bytes());
    buf.extend_from_slice(&header);
    pad8(&mut buf);
    for (a, id) in ds.archs().iter().zip(ds.ids()) {
        S::write_arch(a, id, &mut buf);
    }
    pad8(&mut buf);
    for m in ds.metrics() {
        for v in &m.values {
            buf.extend_from_slice(&v.to_le_bytes());
        }
    }
    let crc = crc32fast::hash(&buf);
    buf.extend_from_slice(&crc.to_le_bytes());
    buf.extend_from_slice(END);
    buf
}

/// Writes a store atomically.
pub fn write<S: SearchSpace>(ds: &Dataset<S>, path: &Path) -> Result<()> {
    let bytes = to_bytes(ds);
    write_atomic(path, |w| Ok(w.write_all(&bytes)?))
}

/// A store's bytes, its magic checked before it is read whole (`crate::spaces::AnyDataset::open` opens
/// a store of whichever space).
pub fn read(path: &Path) -> Result<Vec<u8>> {
    // The magic first: a file that is not a store is refused before it is read whole.
    let mut head = [0u8; 8];
    let mut file = fs::File::open(path).with_context(|| format!("cannot read dataset {}", path.display()))?;
    let n =
        std::io::Read::read(&mut file, &mut head).with_context(|| format!("cannot read dataset {}", path.display()))?;
    if n < 8 || &head != MAGIC {
        bail!(
            "{} is not a usable nar dataset: not a nar dataset file (no NARSTORE magic); build one with `nar data build` or `nar data import`",
            path.display()
        );
    }
    fs::read(path).with_context(|| format!("cannot read dataset {}", path.display()))
}

/// The space a store's bytes hold, from its header, with a declared space's declaration (which the
/// store carries, so that it opens with its own space).
pub fn space_of(bytes: &[u8]) -> Result<(SpaceKind, Option<DeclarationText>)> {
    let header = header(bytes)?.0;
    Ok((header.space, header.declaration))
}

/// The header and where it ends, its magic and version checked.
fn header(bytes: &[u8]) -> Result<(Header, usize)> {
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        bail!("not a nar dataset file (no NARSTORE magic); build one with `nar data build` or `nar data import`");
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        bail!("store format version {version}, but this nar reads version {VERSION}");
    }
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
    let header_end = 16usize
        .checked_add(header_len)
        .filter(|&e| e <= bytes.len())
        .with_context(|| format!("truncated: the header needs {header_len} bytes but the file has {}", bytes.len()))?;
    let header: Header = serde_json::from_slice(&bytes[16..header_end]).context("corrupted header")?;
    Ok((header, header_end))
}

/// Reads a store of space `S` from its bytes, checking its magic, version, size and checksum.
pub fn from_bytes<S: SearchSpace>(bytes: &[u8]) -> Result<Dataset<S>> {
    let (header, header_end) = header(bytes)?;
    if header.space != S::KIND {
        bail!("the store holds {}, not {}", header.space, S::KIND);
    }
    // A declared space's store opens with its own declaration only.
    let own = S::declaration().map(|d| d.sha256);
    let stored = header.declaration.as_ref().map(|d| d.sha256.clone());
    if own != stored {
        let name = |d: Option<String>| {
            d.map_or("no declaration".to_string(), |s| format!("declaration sha256 {}", &s[..s.len().min(12)]))
        };
        bail!("the store was built for {}, but the space in use has {}", name(stored), name(own));
    }
    let sizes = S::arch_bytes();
    let space_size = S::size();
    if header.count > space_size {
        bail!("the header says {} architectures; the {} space has {space_size}", header.count, header.space);
    }
    if header.count == 0 {
        bail!("the header says it holds no architectures");
    }
    match &header.subset {
        None if header.count < space_size => bail!(
            "the header says {} architectures without saying it is a subset: a {} store holds the whole space ({space_size}) or names its subset",
            header.count,
            header.space
        ),
        Some(_) if header.count == space_size => {
            bail!("the header says it is a subset but holds all {space_size} architectures of the space")
        }
        _ => {}
    }
    let archs_at = align8(header_end);
    let expected =
        header.count.checked_mul(sizes).and_then(|a| archs_at.checked_add(a)).map(align8).and_then(|metrics_at| {
            let m = header.metrics.len().checked_mul(header.count)?.checked_mul(8)?;
            Some((metrics_at, metrics_at.checked_add(m)?.checked_add(8)?))
        });
    let Some((metrics_at, expected)) = expected else {
        bail!("corrupted header: {} architectures and {} metrics overflow", header.count, header.metrics.len());
    };
    if bytes.len() < expected {
        bail!(
            "truncated: {} architectures and {} metrics need {expected} bytes, the file has {}",
            header.count,
            header.metrics.len(),
            bytes.len()
        );
    }
    if bytes.len() > expected {
        bail!("{} unexpected bytes after the end of the data", bytes.len() - expected);
    }
    let body = &bytes[..expected - 8];
    let stored = u32::from_le_bytes(bytes[expected - 8..expected - 4].try_into().expect("4 bytes"));
    if &bytes[expected - 4..] != END {
        bail!("truncated or corrupted: the end marker is missing");
    }
    let actual = crc32fast::hash(body);
    if stored != actual {
        bail!("corrupted: checksum mismatch (stored {stored:08x}, computed {actual:08x})");
    }
    decode::<S>(bytes, &header, archs_at, metrics_at)
}

fn decode<S: SearchSpace>(bytes: &[u8], header: &Header, archs_at: usize, metrics_at: usize) -> Result<Dataset<S>> {
    let records = &bytes[archs_at..archs_at + header.count * S::arch_bytes()];
    let decoded: Vec<(S::Arch, S::Id)> = records
        .par_chunks_exact(S::arch_bytes())
        .enumerate()
        .map(|(i, rec)| S::read_arch(rec).map_err(|e| anyhow::anyhow!("architecture record {i}: {e}")))
        .collect::<Result<_>>()?;
    let (archs, ids): (Vec<_>, Vec<_>) = decoded.into_iter().unzip();
    let metrics = header
        .metrics
        .iter()
        .enumerate()
        .map(|(m, name)| {
            let start = metrics_at + m * header.count * 8;
            let values = bytes[start..start + header.count * 8]
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect();
            Metric::new(name.clone(), values)
        })
        .collect();
    Dataset::from_parts(archs, ids, metrics, header.sources.clone())
}
