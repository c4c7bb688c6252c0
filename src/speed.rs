//! The speed benchmarks behind `nar bench` (figures, not pass/fail): enumeration, the cost model and
//! encoding (`space`), the store against NAR's JSON (`data`), the ranker's training step (`train`, the
//! library's own [`crate::ranker::speed`]) and inference (`infer`), the predictors' fit and scoring
//! (`predictors`) and the budgeted search (`search`). Each writes its lines through `out`; the command line
//! prints them.

use std::hint::black_box;
use std::time::Instant;

use anyhow::Result;
use rayon::prelude::*;

use crate::spaces::nb101::enumerate::all_cells;
use crate::spaces::nb201::{Arch, ImageDataset};

/// Writes one line of a benchmark's report.
macro_rules! say {
    ($out:expr, $($t:tt)*) => {
        $out(&format!($($t)*))
    };
}

/// Which benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    Space,
    Data,
    Train,
    Infer,
    Predictors,
    Search,
}

impl What {
    pub const ALL: [What; 6] = [What::Space, What::Data, What::Train, What::Infer, What::Predictors, What::Search];

    pub fn name(self) -> &'static str {
        match self {
            What::Space => "space",
            What::Data => "data",
            What::Train => "train",
            What::Infer => "infer",
            What::Predictors => "predictors",
            What::Search => "search",
        }
    }

    /// Whether this benchmark runs the ranker.
    pub fn runs_the_ranker(self) -> bool {
        matches!(self, What::Train | What::Infer)
    }
}

/// Which reference model size(s) `train` and `infer` measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    Nb101,
    Nb201,
    Both,
}

impl Size {
    pub const ALL: [Size; 3] = [Size::Nb101, Size::Nb201, Size::Both];

    pub fn name(self) -> &'static str {
        match self {
            Size::Nb101 => "nb101",
            Size::Nb201 => "nb201",
            Size::Both => "both",
        }
    }
}

/// The benchmarks' settings (the command line's `nar bench` options).
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// How many times to repeat the NB201 measurements (the space is small).
    pub nb201_repeats: usize,
    /// `data`: where to write the generated files (a temporary directory, removed after, if none).
    pub dir: Option<std::path::PathBuf>,
    /// `train`, `infer`: the reference size(s).
    pub size: Size,
    /// `train`: training steps to time (after one warm-up step).
    pub steps: usize,
    /// `train`: the batch (the reference's by default); `infer`: the inference batch.
    pub batch: Option<usize>,
    /// `train`, `infer`: also run bench/torch_ranker.py with this Python; `predictors`:
    /// bench/sklearn_forest.py.
    pub python: Option<String>,
}

fn rate(n: usize, secs: f64) -> String {
    format!("{:>12.0} archs/s", n as f64 / secs)
}

/// Runs benchmark `what`, writing its report line by line to `out`.
pub fn run(what: What, opts: &BenchOptions, out: &mut dyn FnMut(&str)) -> Result<()> {
    match what {
        What::Space => space(opts, out),
        What::Data => data(opts, out),
        What::Train => train(opts, out),
        What::Infer => infer(opts, out),
        What::Predictors => predictors(opts, out),
        What::Search => search(out),
    }
}

/// One seed of each budgeted method to 300 queries on the embedded NB201 table (CIFAR-10), timed; and
/// of nar's guided front search (validation accuracy against FLOPs).
fn search(out: &mut dyn FnMut(&str)) -> Result<()> {
    use crate::search::budgeted::{Method, Setup, run_method};
    use crate::search::domain::{Domain, Equivalence};
    use crate::search::guided::GuidedSettings;
    use crate::search::inputs::FeatureCache;
    use crate::search::oracle::TableEvaluator;
    use crate::space::SpaceKind;
    say!(
        out,
        "nar bench search ({} threads): one seed (0) to 300 queries, NB201 cifar10",
        rayon::current_num_threads()
    );
    let ds = crate::spaces::nb201::embedded::nb201()?;
    let val = ds.metric("cifar10_val_acc").expect("the embedded table has it").to_vec();
    let t = Instant::now();
    let domain = Domain::all(&ds).with_equivalence(Equivalence::Canonical);
    let features = FeatureCache::new(ds.archs(), ImageDataset::Cifar10);
    let settings = GuidedSettings::for_space(SpaceKind::Nb201);
    let setup = Setup {
        domain: &domain,
        features: &features,
        network: ImageDataset::Cifar10,
        budget: 300,
        batch: None,
        guided: &settings,
        costs: None,
    };
    say!(out, "domain (canonical forms): {:>8.2} s", t.elapsed().as_secs_f64());
    let mut nar_s = f64::NAN;
    for m in [Method::Nar, Method::Random, Method::Rea, Method::Ls] {
        let t = Instant::now();
        let h = run_method(m, &setup, &mut TableEvaluator::new(val.clone()), 0)?;
        let best = h.answered.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max);
        let secs = t.elapsed().as_secs_f64();
        let goal = if m == Method::Nar { " (goal ≤ 30 s on 2 cores)" } else { "" };
        if m == Method::Nar {
            nar_s = secs;
        }
        say!(out, "{:<8} {:>8.2} s   best validation {best:.2}{goal}", m.name(), secs);
    }
    // The same seed on NAS-Bench-201 declared (spaces/nb201.yaml): the code path of any declared space,
    // with the declared space's `best` (no cost-model columns).
    {
        use crate::spaces::Declared;
        use crate::spaces::declared::plugin;
        let t = Instant::now();
        let active =
            plugin::activate_text(include_str!("../spaces/nb201.yaml"), std::path::Path::new("spaces/nb201.yaml"))
                .map_err(|e| anyhow::anyhow!(e))?;
        let mut rows = Vec::with_capacity(ds.len());
        for (a, v) in ds.archs().iter().zip(&val) {
            let d = active.parse(&a.to_string()).map_err(|e| anyhow::anyhow!(e))?;
            rows.push((<Declared as crate::space::SearchSpace>::id(&d), d, *v));
        }
        rows.sort_by_key(|r| r.0);
        let dds = crate::data::Dataset::<Declared>::from_parts(
            rows.iter().map(|r| r.1).collect(),
            rows.iter().map(|r| r.0).collect(),
            vec![crate::data::Metric::new("cifar10_val_acc", rows.iter().map(|r| r.2).collect())],
            Vec::new(),
        )?;
        let network = <Declared as crate::space::SearchSpace>::network(crate::space::Task::named("cifar10"))
            .map_err(|e| anyhow::anyhow!(e))?;
        let ddomain = Domain::all(&dds).with_equivalence(Equivalence::Canonical);
        let dfeatures = FeatureCache::new(dds.archs(), network);
        let dsettings = GuidedSettings::for_space(SpaceKind::Declared);
        let dval = dds.metric("cifar10_val_acc").expect("built above").to_vec();
        let dsetup = Setup {
            domain: &ddomain,
            features: &dfeatures,
            network,
            budget: 300,
            batch: None,
            guided: &dsettings,
            costs: None,
        };
        say!(out, "declared nb201 (spaces/nb201.yaml) dataset and domain: {:>8.2} s", t.elapsed().as_secs_f64());
        let t = Instant::now();
        let h = run_method(Method::Nar, &dsetup, &mut TableEvaluator::new(dval), 0)?;
        let best = h.answered.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max);
        let secs = t.elapsed().as_secs_f64();
        say!(
            out,
            "{:<8} {:>8.2} s   best validation {best:.2} on declared nb201: {:.2}× the built-in's time (goal ≤ 1.5×)",
            Method::Nar.name(),
            secs,
            secs / nar_s
        );
    }
    // The guided front search, validation accuracy against the cost model's FLOPs.
    let flops: Vec<Vec<f64>> = ds
        .archs()
        .iter()
        .map(|a| {
            vec![
                <crate::spaces::Nb201 as crate::benchmark::Benchmark>::cost(a, ImageDataset::Cifar10).total_flops
                    as f64,
            ]
        })
        .collect();
    let setup = Setup { costs: Some(&flops), ..setup };
    let t = Instant::now();
    let h = run_method(Method::MoNar, &setup, &mut TableEvaluator::new(val.clone()), 0)?;
    let front = crate::search::front::run_front(&h, &flops).len();
    say!(
        out,
        "{:<8} {:>8.2} s   val vs flops: {front} architectures on its front (goal ≤ 60 s on 2 cores)",
        Method::MoNar.name(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn space(args: &BenchOptions, out: &mut dyn FnMut(&str)) -> Result<()> {
    say!(out, "nar bench: space, cost model, encoding ({} threads)", rayon::current_num_threads());

    let t = Instant::now();
    let entries = all_cells();
    let enum_s = t.elapsed().as_secs_f64();
    say!(out, "nb101 enumerate + hash     {:>9.3} s   {} unique cells", enum_s, entries.len());
    // The same space declared (spaces/nb101.yaml), enumerated by the declared vertices family's walk.
    let decl = crate::spaces::declared::Declaration::parse(
        include_str!("../spaces/nb101.yaml"),
        std::path::Path::new("spaces/nb101.yaml"),
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let crate::spaces::declared::Family::Vertices(fam) = decl.family.clone() else {
        anyhow::bail!("spaces/nb101.yaml declares the vertices family")
    };
    let declared = crate::spaces::declared::VertexSpace::new(decl, fam);
    let t = Instant::now();
    let cells = declared.enumerate().map_err(|e| anyhow::anyhow!(e))?;
    let declared_s = t.elapsed().as_secs_f64();
    say!(
        out,
        "declared nb101 (spaces/nb101.yaml) enumerate + hash {:>9.3} s   {} cells, {:.2}× the built-in's time (goal ≤ 2×)",
        declared_s,
        cells.len(),
        declared_s / enum_s
    );

    let t = Instant::now();
    let total: u64 = entries.par_iter().map(|e| crate::spaces::nb101::cost::network_cost(&e.cell).total_flops).sum();
    black_box(total);
    let cost_s = t.elapsed().as_secs_f64();
    let costs: Vec<_> = entries.par_iter().map(|e| crate::spaces::nb101::cost::network_cost(&e.cell)).collect();
    say!(out, "nb101 cost model           {:>9.3} s   {}", cost_s, rate(entries.len(), cost_s));

    let t = Instant::now();
    let single =
        entries.iter().take(50_000).map(|e| crate::spaces::nb101::cost::network_cost(&e.cell).total_flops).sum::<u64>();
    black_box(single);
    let single_s = t.elapsed().as_secs_f64();
    say!(out, "nb101 cost model, 1 thread {:>9.3} s   {}", single_s, rate(50_000, single_s));

    let t = Instant::now();
    let enc: usize =
        entries.par_iter().zip(&costs).map(|(e, c)| crate::spaces::nb101::encode::tensor(&e.cell, c).data.len()).sum();
    black_box(enc);
    let enc_s = t.elapsed().as_secs_f64();
    say!(out, "nb101 encode 19x7x7        {:>9.3} s   {}", enc_s, rate(entries.len(), enc_s));
    say!(out, "nb101 enumerate + costs    {:>9.3} s   (target < 30 s on 2 cores)", enum_s + cost_s);
    drop(costs);

    let archs = Arch::all();
    let n = archs.len() * ImageDataset::ALL.len() * args.nb201_repeats;
    let t = Instant::now();
    for _ in 0..args.nb201_repeats {
        let s: u64 = archs
            .par_iter()
            .map(|a| {
                ImageDataset::ALL
                    .iter()
                    .map(|&d| crate::spaces::nb201::cost::network_cost(a, d).total_flops)
                    .sum::<u64>()
            })
            .sum();
        black_box(s);
    }
    let s = t.elapsed().as_secs_f64();
    say!(out, "nb201 cost model (3 nets)  {:>9.3} s   {}", s, rate(n, s));

    let costs: Vec<_> =
        archs.iter().map(|a| crate::spaces::nb201::cost::network_cost(a, ImageDataset::Cifar10)).collect();
    let t = Instant::now();
    for _ in 0..args.nb201_repeats {
        let s: usize =
            archs.par_iter().zip(&costs).map(|(a, c)| crate::spaces::nb201::encode::tensor(a, c).data.len()).sum();
        black_box(s);
    }
    let s = t.elapsed().as_secs_f64();
    say!(out, "nb201 encode 31x4x4        {:>9.3} s   {}", s, rate(archs.len() * args.nb201_repeats, s));
    Ok(())
}

/// Peak resident memory in MiB of `who` (`libc::RUSAGE_SELF`, or `RUSAGE_CHILDREN`: finished children).
fn peak_mib(who: libc::c_int) -> f64 {
    // SAFETY: getrusage fills the struct we own.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut u);
        u.ru_maxrss as f64 / 1024.0
    }
}

/// Peak resident memory of finished child processes, in MiB.
fn children_peak_mib() -> f64 {
    peak_mib(libc::RUSAGE_CHILDREN)
}

fn data(args: &BenchOptions, out: &mut dyn FnMut(&str)) -> Result<()> {
    use crate::data::{Dataset, store};
    use crate::spaces::nb101::nar_json as nb101_nar_json;
    use crate::spaces::{AnyDataset, Nb101};
    let tmp;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&dir)?;
    say!(out, "nar bench data: full NB101 with synthetic accuracies, in {}", dir.display());
    let mut ds = Dataset::<Nb101>::full();
    // Synthetic but deterministic accuracies, a function of the hash.
    let synth: Vec<f64> =
        ds.ids().iter().map(|h| 0.80 + f64::from(u16::from_le_bytes([h.0[0], h.0[1]])) / 65535.0 * 0.15).collect();
    for (k, name) in nb101_nar_json::NB101_METRICS.iter().enumerate() {
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
        let d = AnyDataset::open(&store_path)?;
        opens.push(t.elapsed().as_secs_f64());
        black_box(d.len());
    }
    opens.sort_by(f64::total_cmp);
    let open_s = opens[opens.len() / 2];
    say!(out, "store size                 {store_mib:>9.1} MiB");
    say!(out, "store open (median of 5)   {:>9.1} ms   (target < 500 ms)", open_s * 1e3);

    let json_path = dir.join("nasbench101_vertice.json");
    let t = Instant::now();
    let written = crate::io::write_atomic(&json_path, |w| AnyDataset::Nb101(ds.clone()).export_nar_json(w).map(drop));
    written?;
    let json_mib = std::fs::metadata(&json_path)?.len() as f64 / (1 << 20) as f64;
    say!(out, "NAR JSON export            {:>9.1} s    {json_mib:.0} MiB", t.elapsed().as_secs_f64());

    let mut fresh = Dataset::<Nb101>::from_parts(ds.archs().to_vec(), ds.ids().to_vec(), vec![], vec![])?;
    let t = Instant::now();
    let report = nb101_nar_json::join(&mut fresh, &json_path)?;
    let parse_s = t.elapsed().as_secs_f64();
    say!(
        out,
        "NAR JSON parse + check     {parse_s:>9.1} s    {:.0} MB/s, {} records, {} cell values checked, {} differ",
        json_mib * 1.048576 / parse_s,
        report.records,
        report.checked,
        report.mismatches
    );
    say!(out, "parse / store open         {:>9.0}x", parse_s / open_s);

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
    say!(
        out,
        "nar data import (process)  {:>9.1} s    peak {:.0} MiB = {:.1}x the store",
        t.elapsed().as_secs_f64(),
        children_peak_mib(),
        children_peak_mib() / store_mib
    );
    Ok(())
}

/// Peak resident memory of this process so far, in MiB.
fn self_peak_mib() -> f64 {
    peak_mib(libc::RUSAGE_SELF)
}

/// The reference model sizes: (name, configuration, reference training batch).
fn model_sizes(size: Size) -> Vec<(&'static str, &'static str, usize)> {
    [
        ("nb101", include_str!("../configs/nb101.yaml"), 256usize),
        ("nb201", include_str!("../configs/nb201.yaml"), 128usize),
    ]
    .into_iter()
    .filter(|(name, _, _)| size == Size::Both || format!("{size:?}").to_ascii_lowercase() == *name)
    .collect()
}

/// Runs bench/torch_ranker.py with `args` and reads the `key value` pairs it prints, in `keys` order.
fn torch_figures(py: &str, args: &[String], keys: &[&str]) -> Result<Vec<f64>, String> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/torch_ranker.py");
    let out = std::process::Command::new(py).arg(&script).args(args).output().map_err(|e| format!("{py}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let field =
        |key: &str| text.split_whitespace().skip_while(|w| *w != key).nth(1).and_then(|v| v.parse::<f64>().ok());
    keys.iter()
        .map(|k| field(k).ok_or_else(|| format!("torch run failed: {}{}", text, String::from_utf8_lossy(&out.stderr))))
        .collect()
}

/// Prints the kernel times collected since the last call (when `NAR_PROFILE` is set).
fn print_profile(title: &str, out: &mut dyn FnMut(&str)) {
    let prof = crate::ranker::ops::profile::take();
    if prof.is_empty() {
        return;
    }
    let total: f64 = prof.iter().map(|p| p.1).sum();
    say!(out, "{title}");
    let flops = crate::ranker::ops::profile::take_flops();
    for (k, secs, calls) in prof {
        let rate = if k == "matmul" { format!("  {:.0} GFLOP/s", flops / secs / 1e9) } else { String::new() };
        say!(out, "    {k:<14} {secs:>8.2} s  {:>5.1} %  {calls:>7} calls{rate}", 100.0 * secs / total);
    }
}

/// Archs/s of `f` run on batches of `batch` for about three seconds (after one warm-up call).
fn throughput(batch: usize, mut f: impl FnMut()) -> f64 {
    f();
    let t = Instant::now();
    let mut n = 0;
    while t.elapsed().as_secs_f64() < 3.0 || n < 2 * batch {
        f();
        n += batch;
    }
    n as f64 / t.elapsed().as_secs_f64()
}

/// `nar bench infer`: score-only and full inference of a freshly initialised ranker at both reference
/// sizes, and the same two passes of the PyTorch script, with the ratios.
fn infer(args: &BenchOptions, out: &mut dyn FnMut(&str)) -> Result<()> {
    use crate::config::Config;
    use crate::ranker::infer::Workspace;
    use crate::ranker::model::Ranker;
    let batch = args.batch.unwrap_or(crate::ranker::predict::INFER_BATCH);
    say!(
        out,
        "nar bench infer: score-only (encoder + accuracy head) and full (tiers too) inference, batch {batch}, {} threads",
        rayon::current_num_threads()
    );
    for (name, config, _) in model_sizes(args.size) {
        let r = Config::parse(config)?.ranker;
        let model = Ranker::<f32>::new(&r, 1);
        let mut rng = crate::rng::Rng::new(2);
        let x: Vec<f32> = (0..batch * r.n_arch_patch * r.d_patch * r.d_patch).map(|_| rng.uniform() as f32).collect();
        let tiers: Vec<f32> = (0..r.n_tier * r.n_arch_patch * r.d_model).map(|_| rng.uniform() as f32 - 0.5).collect();
        let mut ws = Workspace::default();
        let score = throughput(batch, || {
            black_box(model.infer_scores(&x, batch, &mut ws));
        });
        print_profile(&format!("{name}  score-only kernel time (NAR_PROFILE):"), out);
        let full = throughput(batch, || {
            black_box(model.infer(&x, batch, &tiers, &mut ws));
        });
        print_profile(&format!("{name}  full kernel time (NAR_PROFILE):"), out);
        say!(
            out,
            "{name}  score-only {score:>8.1} archs/s  full {full:>8.1} archs/s  peak RSS {:.0} MiB",
            self_peak_mib()
        );
        if let Some(py) = &args.python {
            let threads = rayon::current_num_threads().to_string();
            let a = ["--size", name, "--batch", &batch.to_string(), "--threads", &threads, "--infer-only"];
            match torch_figures(py, &a.map(String::from), &["score_per_s", "full_per_s"]) {
                Ok(t) => say!(
                    out,
                    "{name}  torch: score-only {:>8.1} archs/s  full {:>8.1} archs/s  |  nar/torch: score-only {:.2}x, full {:.2}x",
                    t[0],
                    t[1],
                    score / t[0],
                    full / t[1]
                ),
                Err(e) => say!(out, "{name}  {e}"),
            }
        }
    }
    Ok(())
}

fn train(args: &BenchOptions, out: &mut dyn FnMut(&str)) -> Result<()> {
    say!(
        out,
        "nar bench train: one training step (forward, losses, backward, AdamW) and inference, {} threads",
        rayon::current_num_threads()
    );
    let sizes = model_sizes(args.size);
    for (name, config, default_batch) in sizes {
        let batch = args.batch.unwrap_or(default_batch);
        let cfg = crate::config::Config::parse(config)?;
        let f = crate::ranker::speed::train_figures(&cfg.transformer(), cfg.space, cfg.seed, batch, args.steps);
        let (step_ms, infer, params) = (f.step_ms, f.infer_per_s, f.params);
        print_profile(
            &format!("{name}  kernel time (NAR_PROFILE; warm-up, {} steps and inference together):", args.steps),
            out,
        );
        say!(
            out,
            "{name}  {params:>11.0} params  batch {batch:>4}  step {step_ms:>9.1} ms  inference {infer:>8.1} archs/s  peak RSS {:.0} MiB",
            self_peak_mib()
        );
        if let Some(py) = &args.python {
            let a = ["--size", name, "--batch", &batch.to_string(), "--steps", &args.steps.to_string()];
            let threads = rayon::current_num_threads().to_string();
            let a: Vec<String> = a.iter().chain(&["--threads", threads.as_str()]).map(|s| s.to_string()).collect();
            match torch_figures(py, &a, &["step_ms", "infer_per_s"]) {
                Ok(t) => say!(
                    out,
                    "{name}  torch: step {:>9.1} ms  inference {:>8.1} archs/s  |  nar/torch: step time {:.2}x, inference {:.2}x",
                    t[0],
                    t[1],
                    step_ms / t[0],
                    infer / t[1]
                ),
                Err(e) => say!(out, "{name}  {e}"),
            }
        }
    }
    Ok(())
}

/// The labelled NB201 CIFAR-10 architectures permuted by `seed`: the first `n` (features' archs and
/// their validation accuracies) and every architecture of the space.
fn nb201_sample(n: usize, seed: u64) -> Result<(Vec<Arch>, Vec<f64>, Vec<Arch>)> {
    let ds = crate::spaces::nb201::embedded::nb201()?;
    let metric = "cifar10_val_acc";
    let perm = crate::pipeline::train::permuted_labelled(&ds, metric, seed);
    let (archs, y) = ds.labelled(&perm[..n], metric)?;
    Ok((archs, y, ds.archs().to_vec()))
}

fn fit_and_score<S: crate::features::Featurize>(
    cfg: &crate::config::Config,
    archs: &[S::Arch],
    y: &[f64],
    all: &[S::Arch],
    network: S::Network,
) -> Result<(f64, f64, Vec<f64>)> {
    use crate::predictor::{ArchList, FitContext, Labelled};
    let quiet = crate::progress::Quiet;
    let t = Instant::now();
    let mut p = crate::predictor::build(&cfg.predictor()?)?;
    let ctx = FitContext { seed: cfg.seed, progress: &quiet, run: None, resume: false };
    p.fit(&Labelled { x: &ArchList::<S> { archs, network }, y, n_train: y.len() }, &ctx)?;
    let fit = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut scores = Vec::with_capacity(all.len());
    for chunk in all.chunks(1 << 14) {
        scores.extend(p.scores(&ArchList::<S> { archs: chunk, network }, &quiet)?);
    }
    Ok((fit, t.elapsed().as_secs_f64(), scores))
}

fn predictors(args: &BenchOptions, out: &mut dyn FnMut(&str)) -> Result<()> {
    use crate::config::Mode;
    use crate::features::{FeatureSet, table};
    use crate::space::{SearchSpace, SpaceKind};
    use crate::spaces::nb101::Cifar10;
    use crate::spaces::{Nb101, Nb201};
    let threads = rayon::current_num_threads();
    say!(out, "nar bench predictors ({threads} threads)");
    let best201 = Mode::new("best").config(SpaceKind::Nb201).expect("built in");
    let (archs, y, all) = nb201_sample(1000, 0)?;
    let (fit, score, _) = fit_and_score::<Nb201>(&best201, &archs, &y, &all, ImageDataset::Cifar10)?;
    say!(
        out,
        "nb201 best: fit on 1,000 labelled {fit:.2} s, score all 15,625 {score:.2} s, total {:.2} s (goal ≤ 10 s)",
        fit + score
    );

    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/nb101/nb101_subset_1k.csv");
    if sample.exists() {
        let t = Instant::now();
        let cells: Vec<_> = all_cells().into_iter().map(|e| e.cell).collect();
        let enumerate = t.elapsed().as_secs_f64();
        let ds =
            crate::spaces::DataSource::Metrics { space: SpaceKind::Nb101, files: vec![sample] }.load(&mut |_| {})?;
        let crate::spaces::AnyDataset::Nb101(ds) = ds else { unreachable!("an NB101 source") };
        let metric = ds
            .first_metric(&crate::spaces::validation_metrics(SpaceKind::Nb101, Nb101::tasks()[0]))
            .expect("the sample has validation accuracy");
        let perm = crate::pipeline::train::permuted_labelled(&ds, &metric, 0);
        let (a, yv) = ds.labelled(&perm[..424], &metric)?;
        let best101 = Mode::new("best").config(SpaceKind::Nb101).expect("built in");
        let (fit, score, _) = fit_and_score::<Nb101>(&best101, &a, &yv, &cells, Cifar10)?;
        say!(
            out,
            "nb101 best: enumerate the space {enumerate:.1} s, fit on 424 labelled {fit:.2} s, score all {} cells {score:.1} s (goal ≤ 60 s)",
            cells.len()
        );
    }

    // The forest alone on the graph features, and scikit-learn's on the very same numbers.
    let forest = Mode::new("forest").config(SpaceKind::Nb201).expect("built in");
    let trees = forest.forest.as_ref().map_or(200, |f| f.trees);
    let (fit, score, scores) = fit_and_score::<Nb201>(&forest, &archs, &y, &all, ImageDataset::Cifar10)?;
    let ds = crate::spaces::nb201::embedded::nb201()?;
    let val = ds.metric("cifar10_val_acc").expect("the embedded table has it");
    let tau = crate::ranker::metrics::kendall_tau(&scores, val);
    say!(
        out,
        "nar forest ({trees} trees, graph features): fit {fit:.3} s, score 15,625 {score:.3} s, total {:.3} s; τ on all 15,625 (its 1,000 training architectures included) {tau:.3}",
        fit + score
    );
    if let Some(py) = &args.python {
        let dir = tempfile::tempdir()?;
        let write = |name: &str, t: &crate::features::Table, y: Option<&[f64]>| -> Result<std::path::PathBuf> {
            let path = dir.path().join(name);
            let mut text = String::new();
            for r in 0..t.rows {
                let row: Vec<String> = t.row(r).iter().map(|v| format!("{v}")).collect();
                text.push_str(&row.join(","));
                if let Some(y) = y {
                    text.push_str(&format!(",{}", y[r]));
                }
                text.push('\n');
            }
            std::fs::write(&path, text)?;
            Ok(path)
        };
        let sets = [FeatureSet::Graph];
        let train = write(
            "train.csv",
            &table::<Nb201>(&archs, ImageDataset::Cifar10, &sets)?,
            Some(&crate::predictor::rank_target(&y)),
        )?;
        let every = write("all.csv", &table::<Nb201>(&all, ImageDataset::Cifar10, &sets)?, None)?;
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/sklearn_forest.py");
        let run = std::process::Command::new(py)
            .arg(&script)
            .args([train.as_os_str(), every.as_os_str()])
            .args(["--trees", &trees.to_string(), "--jobs", &threads.to_string()])
            .output()
            .map_err(|e| anyhow::anyhow!("{py}: {e}"))?;
        let text = String::from_utf8_lossy(&run.stdout);
        let field =
            |key: &str| text.split_whitespace().skip_while(|w| *w != key).nth(1).and_then(|v| v.parse::<f64>().ok());
        match (field("fit_s"), field("score_s")) {
            (Some(f), Some(sc)) => say!(
                out,
                "scikit-learn forest ({trees} trees, n_jobs {threads}, same features): fit {f:.3} s, score {sc:.3} s, total {:.3} s  |  scikit-learn / nar: fit {:.2}x, score {:.2}x, total {:.2}x",
                f + sc,
                f / fit,
                sc / score,
                (f + sc) / (fit + score)
            ),
            _ => say!(out, "scikit-learn run failed: {text}{}", String::from_utf8_lossy(&run.stderr)),
        }
    }
    Ok(())
}
