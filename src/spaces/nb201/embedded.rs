//! The NAS-Bench-201 accuracy table compiled into the binary, so that `nar run` and
//! `nar data build --space nb201` work anywhere, with no file beside them.
//!
//! The table is `data/nb201/nb201_accuracy.csv` of the repository (all 15,625 architectures; its
//! provenance and columns are in `data/README.md`), gzip-compressed by `build.rs` at build time
//! (3.2 MB → about 1.2 MB in the binary) and joined like any other CSV table.

use std::io::Read;

use anyhow::Result;

use super::Nb201;
use crate::data::{Dataset, table};

/// The name the embedded table goes by in errors and in a dataset's sources.
pub const NB201_TABLE: &str = "nb201_accuracy.csv (embedded NAS-Bench-201 table)";

static NB201_GZ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/nb201_accuracy.csv.gz"));

/// The embedded NAS-Bench-201 table as CSV text, decompressed as it is read.
pub fn nb201_table() -> impl Read {
    flate2::read::GzDecoder::new(NB201_GZ)
}

/// Every NAS-Bench-201 architecture joined with the embedded accuracy table.
pub fn nb201() -> Result<Dataset<Nb201>> {
    let mut ds = Dataset::<Nb201>::full();
    table::join_csv_reader(&mut ds, nb201_table(), NB201_TABLE)?;
    Ok(ds)
}
