//! `nar data fetch`: download a published dataset, verify it and import it into the data directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, anyhow};

use crate::data::fetch::{self, Source};
use crate::space::SpaceKind;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_parser = super::space_arg())]
    space: SpaceKind,
    /// What to fetch: NAR's cell-information JSON, or (nb101) the official `nasbench_only108.tfrecord`.
    #[arg(long, default_value = "nar-json")]
    source: String,
    /// Where to put the download and the dataset (default: the data directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Fetch from this URL instead (a mirror); the published checksum still applies unless --sha256 is given.
    #[arg(long)]
    url: Option<String>,
    /// Expected SHA-256 of the file (overrides the published one).
    #[arg(long)]
    sha256: Option<String>,
    /// Only download; do not build `<dir>/<space>.nar`.
    #[arg(long)]
    no_import: bool,
    /// Automatic attempts, each resuming where the last broke off.
    #[arg(long, default_value_t = 5)]
    attempts: usize,
}

pub fn run(args: Args, data_dir: &Path) -> Result<ExitCode> {
    let dir = args.dir.clone().unwrap_or_else(|| data_dir.to_path_buf());
    let known = crate::with_space!(args.space, S => fetch::sources::<S>());
    let mut source: Source = known.iter().find(|s| s.kind == args.source).cloned().ok_or_else(|| {
        let kinds: Vec<&str> = known.iter().map(|s| s.kind).collect();
        anyhow!("no source {:?} for {}; known: {}", args.source, args.space, kinds.join(", "))
    })?;
    if let Some(url) = args.url {
        source.url = url;
    }
    if let Some(sha) = args.sha256 {
        source.sha256 = Some(sha);
    }
    eprintln!("fetching {} {} from {}", source.space, source.kind, source.url);
    let bar = crate::progress::bar(0, "download");
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>12} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let done = fetch::download(
        &source.url,
        &dir,
        &source.file_name,
        source.sha256.as_deref(),
        source.max_bytes(),
        args.attempts,
        &mut |total, n| {
            if let Some(t) = total {
                bar.set_length(t);
                bar.set_position(n);
            } else if n == 0 {
                bar.set_position(0);
            } else {
                bar.inc(n);
            }
        },
    )?;
    bar.finish_and_clear();
    eprintln!(
        "downloaded {} ({} bytes, SHA-256 {}{}{})",
        done.path.display(),
        done.bytes,
        done.sha256,
        if done.verified { ", verified" } else { ", no published checksum to verify against" },
        if done.resumed > 0 { format!(", resumed {} times", done.resumed) } else { String::new() }
    );
    if !args.no_import {
        let out = dir.join(format!("{}.nar", source.space));
        let built = crate::spaces::DataSource::Metrics { space: source.space, files: vec![done.path.clone()] };
        let ds = built.load(&mut |line| eprintln!("{line}"))?;
        crate::with_dataset!(&ds, d => crate::data::store::write(d, &out))?;
        eprintln!("wrote {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}
