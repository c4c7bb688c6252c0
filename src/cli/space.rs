//! `nar space`: whole-space operations.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use rayon::prelude::*;

use crate::benchmark::Benchmark;
use crate::io::write_atomic;
use crate::space::Enumerable;
use crate::spaces::declared::DeclaredSpace;
use crate::spaces::declared::edges::{self, Classes};
use crate::usage::UsageError;

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
    /// benchmark index order. A declaration (FILE.yaml) of the edges family: index, text form, hash,
    /// function class and its canonical cell, every cell in index order.
    Enumerate {
        /// nb101, nb201, or a declaration FILE.yaml.
        #[arg(value_parser = super::space_or_file)]
        space: super::SpaceOrFile,
        /// Output CSV file.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// What a space is: its size, whether it is enumerated, its function classes (a declaration: its
    /// family, ops, tasks and content hash too).
    Info {
        /// nb101, nb201, or a declaration FILE.yaml.
        #[arg(value_parser = super::space_or_file)]
        space: super::SpaceOrFile,
    },
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.command {
        Command::Enumerate { space: super::SpaceOrFile::Builtin(space), out } => {
            let rows = crate::with_space!(space, S => rows::<S>());
            write_rows(&out, &rows)?;
            eprintln!("wrote {} architectures to {}", rows.len() - 1, out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Enumerate { space: super::SpaceOrFile::Declared(path), out } => {
            let space = load(&path)?;
            let s = match &space {
                DeclaredSpace::Edges(s) => s,
                DeclaredSpace::Vertices(v) => {
                    let entries = v.enumerate().map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
                    let mut rows = vec![["hash", "vertices", "edges", "arch", "class"].map(String::from).to_vec()];
                    let mut classes = std::collections::HashSet::new();
                    for e in &entries {
                        let pruned = v.check(&e.cell).map_err(|why| anyhow::anyhow!("an enumerated cell: {why}"))?;
                        let class = v.class_hash(&pruned);
                        classes.insert(class.clone());
                        let edges = e.cell.matrix.iter().flatten().filter(|&&x| x).count();
                        rows.push(vec![
                            e.hash.clone(),
                            e.cell.ops.len().to_string(),
                            edges.to_string(),
                            v.text(&e.cell),
                            class,
                        ]);
                    }
                    write_rows(&out, &rows)?;
                    eprintln!(
                        "wrote {} cells of {} ({} function classes) to {}",
                        entries.len(),
                        v.decl.name,
                        classes.len(),
                        out.display()
                    );
                    return Ok(ExitCode::SUCCESS);
                }
            };
            if !s.enumerable() {
                return Err(UsageError(format!("{}: {}", path.display(), s.too_large())).into());
            }
            let cells = s.all();
            let classes = Classes::of(s, &cells);
            let mut rows = vec![["index", "arch", "hash", "class", "canonical"].map(String::from).to_vec()];
            rows.extend(cells.iter().enumerate().map(|(i, c)| {
                let k = classes.class[i] as usize;
                vec![i.to_string(), s.text(c), s.hash(c), k.to_string(), s.text(&cells[classes.canonical[k]])]
            }));
            write_rows(&out, &rows)?;
            eprintln!(
                "wrote {} cells of {} ({} function classes) to {}",
                cells.len(),
                s.decl.name,
                classes.canonical.len(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Info { space: super::SpaceOrFile::Builtin(space) } => {
            let size = crate::spaces::size(space);
            println!("space    {space} (built in)");
            println!("size     {} architectures, enumerated", super::thousands(size as u64));
            Ok(ExitCode::SUCCESS)
        }
        Command::Info { space: super::SpaceOrFile::Declared(path) } => {
            let space = load(&path)?;
            let d = space.declaration();
            println!("space    {} (declared in {}, sha256 {})", d.name, path.display(), d.sha256);
            println!("ops      {}", d.ops.join(", "));
            println!("tasks    {} (accuracy as a {})", d.tasks.join(", "), format!("{:?}", d.accuracy).to_lowercase());
            match &space {
                DeclaredSpace::Edges(s) => {
                    let shape = match s.fam.inputs_per_node {
                        None => "every node reads every earlier node".to_string(),
                        Some(k) => format!("each node reads {k} of the earlier nodes"),
                    };
                    println!(
                        "family   edges: {} nodes, {} input(s), {shape}, output {:?}",
                        s.fam.nodes, s.fam.inputs, s.fam.output
                    );
                    let size = s.size().map_or("more than 10^38".to_string(), |n| edges::approx(n as f64));
                    if s.enumerable() {
                        let cells = s.all();
                        let classes = Classes::of(s, &cells);
                        println!("size     {size} cells, enumerated; {} function classes", classes.canonical.len());
                    } else {
                        println!("size     {size} cells: too many to enumerate, searched by sampling");
                    }
                }
                DeclaredSpace::Vertices(s) => {
                    let f = &s.fam;
                    println!(
                        "family   vertices: at most {} vertices{}, {} edges, in-degree [{}, {}], output {:?} merged by {:?}",
                        f.max_vertices,
                        if f.exact_vertices { " (exactly)" } else { "" },
                        f.max_edges,
                        f.in_degree.0,
                        f.in_degree.1,
                        f.output,
                        f.output_merge
                    );
                    match s.enumerate() {
                        Ok(entries) => {
                            let classes: std::collections::HashSet<String> = entries
                                .iter()
                                .filter_map(|e| s.check(&e.cell).ok())
                                .map(|p| s.class_hash(&p))
                                .collect();
                            println!(
                                "size     {} cells (one per isomorphism class), enumerated; {} function classes",
                                entries.len(),
                                classes.len()
                            );
                        }
                        Err(why) => println!("size     not enumerated: {why}"),
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The declaration at `path`, or a usage error naming the file and the key.
pub(super) fn load(path: &std::path::Path) -> Result<DeclaredSpace> {
    DeclaredSpace::load(path).map_err(|e| UsageError(e).into())
}

fn write_rows(out: &std::path::Path, rows: &[Vec<String>]) -> Result<()> {
    let bar = crate::progress::bar(rows.len() as u64, "writing");
    write_atomic(out, |w| {
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
    Ok(())
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
