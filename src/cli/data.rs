//! `nar data`: build, import, export, inspect and fetch benchmark datasets.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;

use crate::benchmark::Benchmark;
use crate::data::{self, Dataset, store};
use crate::io::{refuse_clobbering, write_atomic};
use crate::space::{SearchSpace, SpaceKind};
use crate::spaces::{AnyDataset, DataSource};
use crate::with_dataset;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    /// Data directory where datasets are looked up by space name and fetched to
    /// [default: $NAR_DATA_DIR, else $XDG_DATA_HOME/nar, else ~/.local/share/nar]
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Build a dataset: every architecture of a space with its cell information, joined with metric files.
    ///
    /// Metric files by extension: `.csv` (a table with an identity column `unique_hash`/`index` or the
    /// architecture columns, and numeric metric columns — the layouts of data/nb101 and data/nb201),
    /// `.json` (NAR's JSON), `.tfrecord` (NAS-Bench-101's official release). `--space nb201` without
    /// metric files joins the NAS-Bench-201 table built into nar.
    Build {
        #[arg(long, value_parser = super::space_arg())]
        space: SpaceKind,
        /// Metric files to join, in order (later values replace earlier ones).
        #[arg(long = "metrics", short = 'm')]
        metrics: Vec<PathBuf>,
        /// Output dataset file (`.nar`).
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Import a NAR JSON file (NB101 list or NB201 object) into a dataset, checking its cell information.
    Import {
        file: PathBuf,
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Export a dataset as NAR JSON (loadable by the reference code) or CSV.
    Export {
        /// A dataset file, or a space name to use the data directory's.
        dataset: String,
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Summarise a dataset: space, counts per metric, the best architecture per metric.
    Info {
        /// A dataset file, or a space name to use the data directory's.
        dataset: String,
    },
    /// Download NAR's published dataset (or the official NB101 tfrecord), verify it and import it.
    Fetch(super::fetch::Args),
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ExportFormat {
    NarJson,
    Csv,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let data_dir = args.data_dir.unwrap_or_else(data::default_data_dir);
    match args.command {
        Command::Build { space, metrics, out } => {
            let start = Instant::now();
            let source = match DataSource::built_in(space) {
                Some(built_in) if metrics.is_empty() => built_in,
                _ => DataSource::Metrics { space, files: metrics },
            };
            refuse_clobbering(&[&out], &source.files())?;
            let ds = source.load(&mut |line| eprintln!("{line}"))?;
            with_dataset!(&ds, d => store::write(d, &out))?;
            eprintln!("wrote {} ({source}) in {:.1} s", out.display(), start.elapsed().as_secs_f64());
        }
        Command::Import { file, out } => {
            refuse_clobbering(&[&out], &[&file])?;
            let (ds, report) = AnyDataset::import_nar_json(&file)?;
            eprintln!("{}", report.summary(&file));
            with_dataset!(&ds, d => store::write(d, &out))?;
            eprintln!("wrote {} ({} architectures, {} labelled)", out.display(), ds.len(), report.records);
        }
        Command::Export { dataset, format, out } => {
            let source = DataSource::from_arg(&dataset, &data_dir)?;
            refuse_clobbering(&[&out], &source.files())?;
            let ds = source.load(&mut |_| {})?;
            let written = match format {
                ExportFormat::NarJson => {
                    let mut n = 0;
                    write_atomic(&out, |w| {
                        n = ds.export_nar_json(w)?;
                        Ok(())
                    })?;
                    n
                }
                ExportFormat::Csv => {
                    write_atomic(&out, |w| with_dataset!(&ds, d => export_csv(d, w)))?;
                    ds.len()
                }
            };
            eprintln!("wrote {written} of {} architectures to {}", ds.len(), out.display());
            if written < ds.len() {
                eprintln!(
                    "({} architectures without the metrics NAR's format requires were left out)",
                    ds.len() - written
                );
            }
        }
        Command::Info { dataset } => {
            let source = DataSource::from_arg(&dataset, &data_dir)?;
            let start = Instant::now();
            let ds = source.load(&mut |_| {})?;
            let secs = start.elapsed().as_secs_f64();
            print_info(&source, &ds, secs);
        }
        Command::Fetch(a) => return super::fetch::run(a, &data_dir),
    }
    Ok(ExitCode::SUCCESS)
}

fn export_csv<S: Benchmark>(ds: &Dataset<S>, w: &mut dyn std::io::Write) -> Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    let mut header = vec![S::id_column().to_string()];
    header.extend(S::arch_column_names().iter().map(|c| c.to_string()));
    // The cost model's totals per task (a declared space has none: its costs are its metric columns).
    let nets: Vec<S::Network> = match S::has_cost_model() {
        true => {
            S::tasks().iter().map(|&t| S::network(t).expect("a space has a network for each of its tasks")).collect()
        }
        false => Vec::new(),
    };
    for task in S::tasks().iter().take(nets.len()) {
        header.push(format!("{task}_total_params"));
        header.push(format!("{task}_total_flops"));
    }
    header.extend(ds.metrics().iter().map(|m| m.name.clone()));
    csv.write_record(&header)?;
    for i in 0..ds.len() {
        let mut row = vec![ds.ids()[i].to_string()];
        row.extend(S::arch_columns(&ds.archs()[i]));
        for &net in &nets {
            let c = S::cost(&ds.archs()[i], net);
            row.push(c.total_params.to_string());
            row.push(c.total_flops.to_string());
        }
        row.extend(
            ds.metrics().iter().map(|m| if m.values[i].is_nan() { String::new() } else { m.values[i].to_string() }),
        );
        csv.write_record(&row)?;
    }
    csv.flush()?;
    Ok(())
}

fn print_info(source: &DataSource, ds: &AnyDataset, open_secs: f64) {
    println!("dataset   {source}");
    println!("space     {}", ds.space());
    println!("archs     {}", ds.len());
    match crate::spaces::size(ds.space()) {
        usize::MAX => println!("subset    {} architectures of a space too large to list", ds.len()),
        n if ds.len() < n => println!("subset    {} of the space's {n} architectures", ds.len()),
        _ => {}
    }
    println!("opened in {:.1} ms", open_secs * 1e3);
    for s in ds.sources() {
        println!("source    {s}");
    }
    if ds.metrics().is_empty() {
        println!("metrics   none (cell information only)");
    }
    println!("{:<36} {:>9} {:>11}  best", "metric", "labelled", "unlabelled");
    for m in ds.metrics() {
        let n = m.labelled();
        let best = match m.best() {
            Some((i, v)) => {
                let dir = if m.higher_is_better() { "max" } else { "min" };
                let arch = with_dataset!(ds, d => describe::<_>(d, i));
                format!("{dir} {v} at {} {arch}", ds.id_string(i))
            }
            None => "-".to_string(),
        };
        println!("{:<36} {:>9} {:>11}  {best}", m.name, n, ds.len() - n);
    }
}

fn describe<S: SearchSpace>(ds: &Dataset<S>, i: usize) -> String {
    // An architecture spelled in one short column (NB201's string) is shown; a matrix is not.
    if S::arch_column_names().len() == 1 { S::arch_columns(&ds.archs()[i]).join(" ") } else { String::new() }
}
