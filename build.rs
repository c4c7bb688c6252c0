//! Compresses the NAS-Bench-201 accuracy table (`data/nb201/nb201_accuracy.csv`) into the build
//! directory, so that the binary carries the default dataset (`nar::data::embedded`).

use std::io::Write;
use std::path::PathBuf;

fn main() {
    let src = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"))
        .join("data/nb201/nb201_accuracy.csv");
    println!("cargo::rerun-if-changed={}", src.display());
    let table = std::fs::read(&src).unwrap_or_else(|e| panic!("cannot read {}: {e}", src.display()));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&table).expect("in memory");
    let bytes = gz.finish().expect("in memory");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("nb201_accuracy.csv.gz");
    std::fs::write(&out, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
