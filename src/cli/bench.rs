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
    /// How many times to repeat the NB201 measurements (the space is small).
    #[arg(long, default_value_t = 20)]
    nb201_repeats: usize,
}

fn rate(n: usize, secs: f64) -> String {
    format!("{:>12.0} archs/s", n as f64 / secs)
}

pub fn run(args: Args) -> Result<ExitCode> {
    println!("nar bench: space, cost model, encoding ({} threads)", rayon::current_num_threads());

    let t = Instant::now();
    let entries = all_cells();
    let enum_s = t.elapsed().as_secs_f64();
    println!("nb101 enumerate + hash     {:>9.3} s   {} unique cells", enum_s, entries.len());

    let t = Instant::now();
    let costs: Vec<_> = entries.par_iter().map(|e| cost::nb101::network_cost(&e.cell)).collect();
    let cost_s = t.elapsed().as_secs_f64();
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
