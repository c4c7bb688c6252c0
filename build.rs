//! Compresses the data nar carries in its binary into the build directory: the NAS-Bench-201 accuracy
//! table (`data/nb201/nb201_accuracy.csv`, `nar::data::embedded`) and the spaces' zero-cost proxy tables
//! (`data/nb201/nb201_proxies.csv`, `data/nb101/nb101_proxies.csv`, `nar::features::proxies`).

use std::io::Write;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    for file in ["data/nb201/nb201_accuracy.csv", "data/nb201/nb201_proxies.csv", "data/nb101/nb101_proxies.csv"] {
        let src = root.join(file);
        println!("cargo::rerun-if-changed={}", src.display());
        let table = std::fs::read(&src).unwrap_or_else(|e| panic!("cannot read {}: {e}", src.display()));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&table).expect("in memory");
        let bytes = gz.finish().expect("in memory");
        let name = src.file_name().expect("a file").to_string_lossy().into_owned();
        let out = out_dir.join(format!("{name}.gz"));
        std::fs::write(&out, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
    }
}
