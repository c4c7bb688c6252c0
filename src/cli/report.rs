//! `nar report`: the run's HTML report and, with `--svg`, its figures as files.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::report;
use crate::run_dir::RunDir;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run directory.
    run_dir: PathBuf,
    /// Output HTML file (default: the run's report file).
    #[arg(short, long)]
    out: Option<PathBuf>,
    /// Also write every figure as a standalone SVG file into this directory.
    #[arg(long)]
    svg: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let run = RunDir::open(&args.run_dir)?;
    let path = report::write(&run, args.out.as_deref(), args.svg.as_deref())?;
    println!("report: {}", path.display());
    if let Some(d) = &args.svg {
        println!("figures: {}", d.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the report at the end of a command and says where it is (a failure is a warning: the
/// command's own results are already written).
pub fn announce(run: &RunDir) {
    print_outcome(&crate::pipeline::write_report(run));
}

/// Says where the report is, or why it could not be written.
pub fn print_outcome(outcome: &std::result::Result<PathBuf, String>) {
    match outcome {
        Ok(p) => eprintln!("report: {}", p.display()),
        Err(e) => eprintln!("warning: {e}"),
    }
}
