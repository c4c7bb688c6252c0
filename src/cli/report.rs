//! `nar report`: the run's HTML report and, with `--svg`, its figures as files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

use crate::io::write_atomic;
use crate::report;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run directory.
    run_dir: PathBuf,
    /// Output HTML file (default RUN_DIR/report.html).
    #[arg(short, long)]
    out: Option<PathBuf>,
    /// Also write every figure as a standalone SVG file into this directory.
    #[arg(long)]
    svg: Option<PathBuf>,
}

/// Writes the report of `run_dir` (and the SVG files); returns the HTML path.
pub fn write(run_dir: &Path, out: Option<&Path>, svg_dir: Option<&Path>) -> Result<PathBuf> {
    let (meta, sections) = report::sections(run_dir)?;
    let path = out.map_or_else(|| run_dir.join("report.html"), Path::to_path_buf);
    let html = report::html(&meta, &sections);
    write_atomic(&path, |w| Ok(w.write_all(html.as_bytes())?))?;
    if let Some(dir) = svg_dir {
        for f in sections.iter().flat_map(|s| &s.figures) {
            write_atomic(&dir.join(format!("{}.svg", f.name)), |w| Ok(w.write_all(f.svg.as_bytes())?))?;
        }
    }
    Ok(path)
}

pub fn run(args: Args) -> Result<ExitCode> {
    let path = write(&args.run_dir, args.out.as_deref(), args.svg.as_deref())?;
    println!("report: {}", path.display());
    if let Some(d) = &args.svg {
        println!("figures: {}", d.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the report at the end of a command and says where it is (a failure is reported, not fatal:
/// the command's own results are already written).
pub fn announce(run_dir: &Path) {
    match write(run_dir, None, None) {
        Ok(p) => eprintln!("report: {}", p.display()),
        Err(e) => eprintln!("warning: could not write the report: {e:#}"),
    }
}
