//! `nar bench`: prints speed figures for the space, cost and encoding layers. Figures, not pass/fail.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use rayon::prelude::*;

use crate::cost;
use crate::encode;
use crate::space::nb101::enumerate::all_cells;
use crate::space::nb201::{Arch, Dataset};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to measure: `space` (enumeration, cost model, encoding) or `data` (store vs NAR JSON).
    #[arg(value_enum, default_value = "space")]
    what: What,
    /// How many times to repeat the NB201 measurements (the space is small).
    #[arg(long, default_value_t = 20)]
    nb201_repeats: usize,
    /// `data`: where to write the generated files (default: a temporary directory, removed after).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum What {
    Space,
    Data,
}

fn rate(n: usize, secs: f64) -> String {
    format!("{:>12.0} archs/s", n as f64 / secs)
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.what {
        What::Space => space(&args),
        What::Data => data(&args),
    }
}

fn space(args: &Args) -> Result<ExitCode> {
    println!("nar bench: space, cost model, encoding ({} threads)", rayon::current_num_threads());

    let t = Instant::now();
    let entries = all_cells();
    let enum_s = t.elapsed().as_secs_f64();
    println!("nb101 enumerate + hash     {:>9.3} s   {} unique cells", enum_s, entries.len());

    let t = Instant::now();
    let total: u64 = entries.par_iter().map(|e| cost::nb101::network_cost(&e.cell).total_flops).sum();
    black_box(total);
    let cost_s = t.elapsed().as_secs_f64();
    let costs: Vec<_> = entries.par_iter().map(|e| cost::nb101::network_cost(&e.cell)).collect();
    println!("nb101 cost model           {:>9.3} s   {}", cost_s, rate(entries.len(), cost_s));

    let t = Instant::now();
    let single = entries.iter().take(50_000).map(|e| cost::nb101::network_cost(&e.cell).total_flops).sum::<u64>();
    black_box(single);
    let single_s = t.elapsed().as_secs_f64();
    println!("nb101 cost model, 1 thread {:>9.3} s   {}", single_s, rate(50_000, single_s));

    let t = Instant::now();
    let enc: usize = entries.par_iter().zip(&costs).map(|(e, c)| encode::nb101(&e.cell, c).data.len()).sum();
    black_box(enc);
    let enc_s = t.elapsed().as_secs_f64();
    println!("nb101 encode 19x7x7        {:>9.3} s   {}", enc_s, rate(entries.len(), enc_s));
    println!("nb101 enumerate + costs    {:>9.3} s   (target < 30 s on 2 cores)", enum_s + cost_s);
    drop(costs);

    let archs = Arch::all();
    let n = archs.len() * Dataset::ALL.len() * args.nb201_repeats;
    let t = Instant::now();
    for _ in 0..args.nb201_repeats {
        let s: u64 = archs
            .par_iter()
            .map(|a| Dataset::ALL.iter().map(|&d| cost::nb201::network_cost(a, d).total_flops).sum::<u64>())
            .sum();
        black_box(s);
    }
    let s = t.elapsed().as_secs_f64();
    println!("nb201 cost model (3 nets)  {:>9.3} s   {}", s, rate(n, s));

    let costs: Vec<_> = archs.iter().map(|a| cost::nb201::network_cost(a, Dataset::Cifar10)).collect();
    let t = Instant::now();
    for _ in 0..args.nb201_repeats {
        let s: usize = archs.par_iter().zip(&costs).map(|(a, c)| encode::nb201(a, c).data.len()).sum();
        black_box(s);
    }
    let s = t.elapsed().as_secs_f64();
    println!("nb201 encode 31x4x4        {:>9.3} s   {}", s, rate(archs.len() * args.nb201_repeats, s));
    Ok(ExitCode::SUCCESS)
}

/// Peak resident memory of finished child processes, in MiB.
fn children_peak_mib() -> f64 {
    // SAFETY: getrusage fills the struct we own.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u.ru_maxrss as f64 / 1024.0
    }
}

fn data(args: &Args) -> Result<ExitCode> {
    use crate::data::{AnyDataset, Dataset, nar_json, store};
    use crate::space::Nb101;
    let tmp;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&dir)?;
    println!("nar bench data: full NB101 with synthetic accuracies, in {}", dir.display());
    let mut ds = Dataset::<Nb101>::full();
    // Synthetic but deterministic accuracies, a function of the hash.
    let synth: Vec<f64> =
        ds.ids().iter().map(|h| 0.80 + f64::from(u16::from_le_bytes([h.0[0], h.0[1]])) / 65535.0 * 0.15).collect();
    for (k, name) in nar_json::NB101_METRICS.iter().enumerate() {
        let col = ds.metric_mut(name);
        for (c, s) in col.iter_mut().zip(&synth) {
            *c = if k == 0 { 1500.0 + s * 1000.0 } else { s - 0.001 * k as f64 };
        }
    }
    let store_path = dir.join("nb101.nar");
    store::write(&ds, &store_path)?;
    let store_mib = std::fs::metadata(&store_path)?.len() as f64 / (1 << 20) as f64;
    let mut opens = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let d = store::open(&store_path)?;
        opens.push(t.elapsed().as_secs_f64());
        black_box(d.len());
    }
    opens.sort_by(f64::total_cmp);
    let open_s = opens[opens.len() / 2];
    println!("store size                 {store_mib:>9.1} MiB");
    println!("store open (median of 5)   {:>9.1} ms   (target < 500 ms)", open_s * 1e3);

    let json_path = dir.join("nasbench101_vertice.json");
    let t = Instant::now();
    let written =
        crate::io::write_atomic(&json_path, |w| nar_json::export(&AnyDataset::Nb101(ds.clone()), w).map(drop));
    written?;
    let json_mib = std::fs::metadata(&json_path)?.len() as f64 / (1 << 20) as f64;
    println!("NAR JSON export            {:>9.1} s    {json_mib:.0} MiB", t.elapsed().as_secs_f64());

    let mut fresh = Dataset::<Nb101>::from_parts(ds.archs().to_vec(), ds.ids().to_vec(), vec![], vec![])?;
    let t = Instant::now();
    let report = nar_json::join_nb101(&mut fresh, &json_path)?;
    let parse_s = t.elapsed().as_secs_f64();
    println!(
        "NAR JSON parse + check     {parse_s:>9.1} s    {:.0} MB/s, {} records, {} cell values checked, {} differ",
        json_mib * 1.048576 / parse_s,
        report.records,
        report.checked,
        report.mismatches
    );
    println!("parse / store open         {:>9.0}x", parse_s / open_s);

    // Peak memory of a whole `nar data import` (enumeration included), measured on a child process.
    let exe = std::env::current_exe()?;
    let t = Instant::now();
    let status = std::process::Command::new(exe)
        .args(["data", "import"])
        .arg(&json_path)
        .arg("-o")
        .arg(dir.join("imported.nar"))
        .stderr(std::process::Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "nar data import failed");
    println!(
        "nar data import (process)  {:>9.1} s    peak {:.0} MiB = {:.1}x the store",
        t.elapsed().as_secs_f64(),
        children_peak_mib(),
        children_peak_mib() / store_mib
    );
    Ok(ExitCode::SUCCESS)
}
