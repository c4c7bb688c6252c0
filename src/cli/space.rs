//! `nar space`: whole-space operations.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use rayon::prelude::*;

use crate::benchmark::Benchmark;
use crate::io::write_atomic;
use crate::space::{Enumerable, SpaceKind};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Write every architecture of a space with its identity and network totals to a CSV file.
    ///
    /// nb101: hash, vertices, edges, adjacency and ops (JSON), params, FLOPs — 423,624 rows sorted by
    /// hash. nb201: index, arch string, and params/FLOPs for each dataset's network — 15,625 rows in
    /// benchmark index order.
    Enumerate {
        #[arg(value_parser = super::space_arg())]
        space: SpaceKind,
        /// Output CSV file.
        #[arg(short, long)]
        out: PathBuf,
    },
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.command {
        Command::Enumerate { space, out } => {
            let rows = crate::with_space!(space, S => rows::<S>());
            let bar = crate::progress::bar(rows.len() as u64, "writing");
            write_atomic(&out, |w| {
                let mut csv = csv::Writer::from_writer(w);
                for (i, row) in rows.iter().enumerate() {
                    csv.write_record(row)?;
                    if i % 4096 == 0 {
                        bar.set_position(i as u64);
                    }
                }
                csv.flush()?;
                Ok(())
            })?;
            bar.finish_and_clear();
            eprintln!("wrote {} architectures to {}", rows.len() - 1, out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The header and every architecture's row, in the space's order (`Benchmark::listing_row`).
fn rows<S: Enumerable + Benchmark>() -> Vec<Vec<String>> {
    let bar = crate::progress::bar(1, "enumerating");
    let all = S::all();
    bar.finish_and_clear();
    let mut rows = vec![S::listing_header()];
    rows.par_extend(all.par_iter().map(|(arch, id)| S::listing_row(arch, id)));
    rows
}
