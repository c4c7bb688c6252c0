//! `nar train` and `nar eval`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};

use crate::data::{self, AnyDataset, Dataset, store};
use crate::io::write_atomic;
use crate::ranker::checkpoint;
use crate::ranker::config::Config;
use crate::ranker::model::Ranker;
use crate::ranker::train::{self, RunMeta, Samples, Trainer};
use crate::rng::Rng;
use crate::space::{SearchSpace, SpaceKind};
use crate::with_dataset;

#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// YAML configuration (NAR's config.yml / config201.yml work as they are; see configs/).
    #[arg(long, required_unless_present = "resume")]
    pub config: Option<PathBuf>,
    /// The dataset: a `.nar` file or a space name (looked up in the data directory).
    #[arg(long, required_unless_present = "resume")]
    pub data: Option<String>,
    /// NB201: which dataset's accuracies and network (cifar10, cifar100, imagenet16); default from the config.
    #[arg(long)]
    pub dataset: Option<String>,
    /// The run directory (created; holds run.json, config.yaml, metrics.jsonl, checkpoints/).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Continue the run in `--out` from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Train for this many epochs instead of the config's `ranker_epochs`.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Query budget: how many labelled architectures training and validation may see together (split
    /// in the config's train/val proportion).
    #[arg(long)]
    pub budget: Option<usize>,
    /// Data directory for dataset names.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Do not write RUN_DIR/report.html at the end.
    #[arg(long)]
    pub no_report: bool,
}

#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The run directory of `nar train`.
    pub run_dir: PathBuf,
    /// Which checkpoint to evaluate.
    #[arg(long, default_value = "best")]
    pub checkpoint: String,
}

fn space_of(cfg: &Config) -> SpaceKind {
    if cfg.space == "nasbench" { SpaceKind::Nb101 } else { SpaceKind::Nb201 }
}

fn first_present<S: SearchSpace>(ds: &Dataset<S>, names: &[String]) -> Option<String> {
    names.iter().find(|n| ds.metric(n).is_some()).cloned()
}

/// Positions of the labelled architectures, permuted by the seed.
fn permuted_labelled<S: SearchSpace>(ds: &Dataset<S>, val_metric: &str, seed: u64) -> Vec<usize> {
    let col = ds.metric(val_metric).expect("checked");
    let labelled: Vec<usize> = (0..ds.len()).filter(|&i| !col[i].is_nan()).collect();
    let perm = Rng::new(seed).permutation(labelled.len());
    perm.into_iter().map(|i| labelled[i]).collect()
}

pub fn train(args: TrainArgs) -> Result<ExitCode> {
    let out = &args.out;
    let (cfg, meta) = if args.resume {
        let cfg = Config::load(&out.join("config.yaml"))?;
        (cfg, Some(RunMeta::load(out)?))
    } else {
        let path = args.config.as_ref().expect("clap");
        let mut cfg = Config::load(path)?;
        if let Some(e) = args.epochs {
            cfg.ranker_epochs = e;
        }
        if let Some(d) = &args.dataset {
            cfg.network_type = Some(d.clone());
        }
        if let Some(b) = args.budget {
            if b < 2 * cfg.ranker.n_tier {
                bail!(
                    "--budget {b} is too small: training and validation need at least {} architectures",
                    2 * cfg.ranker.n_tier
                );
            }
            let total = cfg.train_size + cfg.val_size;
            let train = ((b as f64) * cfg.train_size as f64 / total as f64).round() as usize;
            cfg.train_size = train.max(cfg.ranker.n_tier);
            cfg.val_size = b - cfg.train_size;
            cfg.train_batch_size = cfg.train_batch_size.min(cfg.train_size);
            cfg.val_batch_size = Some(cfg.val_batch().min(cfg.val_size));
        }
        (cfg, None)
    };
    let data_dir = args.data_dir.clone().unwrap_or_else(data::default_data_dir);
    let dataset = match &meta {
        Some(m) => m.dataset.clone(),
        None => data::resolve_store(args.data.as_deref().expect("clap"), &data_dir),
    };
    let ds = store::open(&dataset)?;
    if ds.space() != space_of(&cfg) {
        bail!("the configuration is for {} but {} holds {}", space_of(&cfg), dataset.display(), ds.space());
    }
    let code = with_dataset!(ds, d => train_space(&d, &cfg, &dataset, meta, out, args.resume))?;
    if !args.no_report {
        super::report::announce(out);
    }
    Ok(code)
}

fn train_space<S: SearchSpace>(
    ds: &Dataset<S>,
    cfg: &Config,
    dataset: &Path,
    meta: Option<RunMeta>,
    out: &Path,
    resume: bool,
) -> Result<ExitCode> {
    let network_name = cfg.network_type.clone().unwrap_or_else(|| "cifar10".to_string());
    let network = S::network(Some(&network_name)).map_err(|e| anyhow!(e))?;
    let meta = match meta {
        Some(m) => m,
        None => {
            let val_metric = first_present(ds, &data::validation_metrics(S::KIND, &network_name)).ok_or_else(|| {
                anyhow!(
                    "{} has no validation accuracy for {network_name} (looked for {})",
                    dataset.display(),
                    data::validation_metrics(S::KIND, &network_name).join(", ")
                )
            })?;
            let test_metric = first_present(ds, &data::test_metrics(S::KIND, &network_name));
            let perm = permuted_labelled(ds, &val_metric, cfg.seed);
            let need = cfg.train_size + cfg.val_size;
            if perm.len() < need {
                bail!(
                    "{} has {} architectures with {val_metric}; the configuration needs {need}",
                    dataset.display(),
                    perm.len()
                );
            }
            let m = RunMeta {
                space: S::KIND,
                dataset: std::fs::canonicalize(dataset).unwrap_or_else(|_| dataset.to_path_buf()),
                network: network_name.clone(),
                val_metric,
                test_metric,
                seed: cfg.seed,
                train: perm[..cfg.train_size].to_vec(),
                val: perm[cfg.train_size..need].to_vec(),
            };
            std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
            let yaml = serde_yaml::to_string(cfg)?;
            write_atomic(&out.join("config.yaml"), |w| Ok(w.write_all(yaml.as_bytes())?))?;
            let json = serde_json::to_string_pretty(&m)?;
            write_atomic(&out.join("run.json"), |w| Ok(w.write_all(json.as_bytes())?))?;
            m
        }
    };
    let train_s = Samples::new(ds, meta.train.clone(), network, &meta.val_metric, None)?;
    let val_s = Samples::new(ds, meta.val.clone(), network, &meta.val_metric, None)?;
    let mut t = Trainer::new(cfg);
    let log = out.join("metrics.jsonl");
    if resume {
        t.state = checkpoint::load(out, "last", &mut t.model, &mut t.opt)?;
        eprintln!("resuming after epoch {} (step {})", t.state.epochs_done, t.state.step);
    }
    train::write_log(&log, t.state.epochs_done, None)?;
    eprintln!(
        "training on {} {} ({} train / {} validation by {}), {} parameters, {} threads",
        S::KIND,
        meta.network,
        train_s.len(),
        val_s.len(),
        meta.val_metric,
        t.model.params.numel(),
        rayon::current_num_threads()
    );
    let start = Instant::now();
    let bar = super::progress((cfg.ranker_epochs * (train_s.len() / cfg.train_batch_size)) as u64, "training");
    bar.set_position((t.state.epochs_done * (train_s.len() / cfg.train_batch_size)) as u64);
    while t.state.epochs_done < cfg.ranker_epochs {
        let line = t.epoch(&train_s, &val_s, &|_, _, _| bar.inc(1));
        train::save_checkpoints(out, &mut t)?;
        train::write_log(&log, t.state.epochs_done - 1, Some(&line))?;
        bar.suspend(|| {
            eprintln!(
                "epoch {:>3}  loss {:.4}  tier acc {:.3}  | val loss {:.4}  tier acc {:.3}  τ {:.3}  ρ {:.3}  ({:.1} s)",
                line.epoch, line.train_loss, line.train_tier_acc, line.val_loss, line.val_tier_acc, line.val_kendall, line.val_spearman, line.seconds
            )
        });
    }
    bar.finish_and_clear();
    eprintln!(
        "done in {:.1} s; best validation tier accuracy {:.4} (epoch {}); run directory {}",
        start.elapsed().as_secs_f64(),
        t.state.best_val_acc,
        t.state.best_epoch.map_or("-".to_string(), |e| e.to_string()),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Loads a run's configuration, description, dataset and a checkpoint's weights.
pub fn open_run(run_dir: &Path, tag: &str) -> Result<(Config, RunMeta, AnyDataset, Ranker<f32>)> {
    let cfg = Config::load(&run_dir.join("config.yaml"))?;
    let meta = RunMeta::load(run_dir)?;
    let ds = store::open(&meta.dataset)?;
    let mut model = Ranker::<f32>::new(&cfg.ranker, cfg.seed);
    checkpoint::load_weights(&checkpoint::paths(run_dir, tag).weights, &mut model)?;
    Ok((cfg, meta, ds, model))
}

pub fn eval(args: EvalArgs) -> Result<ExitCode> {
    let (cfg, meta, ds, model) = open_run(&args.run_dir, &args.checkpoint)?;
    let (report, predictions) = with_dataset!(&ds, d => eval_space(d, &cfg, &meta, &model, &args.checkpoint))?;
    let pred_path = args.run_dir.join("predictions.csv");
    write_atomic(&pred_path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        for p in &predictions {
            csv.serialize(p)?;
        }
        csv.flush()?;
        Ok(())
    })?;
    let json = serde_json::to_string_pretty(&report)?;
    let path = args.run_dir.join("eval.json");
    write_atomic(&path, |w| Ok(w.write_all(json.as_bytes())?))?;
    println!("held-out architectures   {}", report.held_out);
    println!("tier accuracy            {:.4}  (chance {:.2})", report.tier_acc, 1.0 / cfg.ranker.n_tier as f64);
    println!(
        "Kendall τ / Spearman ρ   {:.4} / {:.4}  (predicted accuracy vs {})",
        report.kendall_val, report.spearman_val, meta.val_metric
    );
    if let (Some(k), Some(s)) = (report.kendall_test, report.spearman_test) {
        println!("  vs test accuracy       {k:.4} / {s:.4}  (test accuracy read for reporting only)");
    }
    println!(
        "zero-cost floor          τ {:.4}  (total parameters vs {})",
        report.kendall_params_baseline, meta.val_metric
    );
    for (k, p) in &report.precision_at_k {
        println!("precision@{k:<5}          {p:.3}");
    }
    println!("throughput               {:.0} archs/s", report.archs_per_second);
    println!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

fn eval_space<S: SearchSpace>(
    ds: &Dataset<S>,
    cfg: &Config,
    meta: &RunMeta,
    model: &Ranker<f32>,
    tag: &str,
) -> Result<(train::EvalReport, Vec<train::Prediction>)> {
    let network = S::network(Some(&meta.network)).map_err(|e| anyhow!(e))?;
    let seen: std::collections::HashSet<usize> = meta.train.iter().chain(&meta.val).copied().collect();
    let col = ds.metric(&meta.val_metric).ok_or_else(|| anyhow!("the dataset lost metric {}", meta.val_metric))?;
    let held: Vec<usize> = (0..ds.len()).filter(|i| !col[*i].is_nan() && !seen.contains(i)).collect();
    let train_s = Samples::new(ds, meta.train.clone(), network, &meta.val_metric, None)?;
    let held_s = Samples::new(ds, held, network, &meta.val_metric, meta.test_metric.as_deref())?;
    let bar = super::progress(held_s.len() as u64, "ranking");
    let r = train::evaluate(model, &train_s, &held_s, cfg.val_batch(), tag, &|n| bar.inc(n as u64));
    bar.finish_and_clear();
    Ok(r)
}
