//! `nar space`: whole-space operations.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use rayon::prelude::*;

use crate::cost;
use crate::io::write_atomic;
use crate::space::SpaceKind;
use crate::space::nb101::enumerate::all_cells;
use crate::space::nb201::{Arch, ImageDataset as Dataset};

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
            let rows = match space {
                SpaceKind::Nb101 => nb101_rows(),
                SpaceKind::Nb201 => nb201_rows(),
            };
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

fn nb101_rows() -> Vec<Vec<String>> {
    let bar = crate::progress::bar(1, "enumerating");
    let entries = all_cells();
    bar.finish_and_clear();
    let header =
        ["unique_hash", "num_vertices", "num_edges", "module_adjacency", "module_operations", "params", "flops"];
    let mut rows = vec![header.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    rows.par_extend(entries.par_iter().map(|e| {
        let cost = cost::nb101::network_cost(&e.cell);
        vec![
            crate::space::nb101::hash::to_hex(&e.hash),
            e.cell.num_vertices().to_string(),
            e.cell.num_edges().to_string(),
            serde_json::to_string(&e.cell.matrix()).expect("serializable"),
            serde_json::to_string(&e.cell.op_names()).expect("serializable"),
            cost.total_params.to_string(),
            cost.total_flops.to_string(),
        ]
    }));
    rows
}

fn nb201_rows() -> Vec<Vec<String>> {
    let mut header = vec!["index".to_string(), "arch_str".to_string()];
    for d in Dataset::ALL {
        header.push(format!("{}_params", d.name()));
        header.push(format!("{}_flops", d.name()));
    }
    let mut rows = vec![header];
    rows.extend(Arch::all().iter().map(|a| {
        let mut row = vec![a.index().to_string(), a.to_string()];
        for d in Dataset::ALL {
            let c = cost::nb201::network_cost(a, d);
            row.push(c.total_params.to_string());
            row.push(c.total_flops.to_string());
        }
        row
    }));
    rows
}
