//! A run directory: everything one ranker's run leaves on disk. The run's own files are named here;
//! a predictor's files are named by the predictor that writes them (`ranker::checkpoint::paths`,
//! `ranker::trainer::METRICS_LOG`, `predictor::PREDICTOR_FILE`, `predictor::ensemble`), so that a
//! predictor needs only its folder, not the run.
//!
//! ```text
//! RUN_DIR/
//!   config.yaml                 the configuration the run trains with (NAR's keys)
//!   run.json                    RunMeta: space, dataset, image dataset, metrics, seed, the split
//!   dataset.nar                 the dataset, when the run built it (from metric files or the embedded table)
//!   metrics.jsonl               one EpochLog per line
//!   checkpoints/{best,last}.safetensors        weights (the reference PyTorch state_dict names)
//!   checkpoints/{best,last}.optim.safetensors  AdamW moments
//!   checkpoints/{best,last}.json               TrainState (epoch, step, RNG, sampler statistics)
//!   predictor.json              a tree model (`model: gbdt | forest`; no checkpoints, no log)
//!   ensemble.json, member-{i}/  an ensemble's member scales and its members
//!   fitted.json                 a predictor saved outside a run (Python `Predictor.save`): space,
//!                               network; with config.yaml and the predictor's files, no run.json (`model: ensemble`), each laid out as above
//!   eval.json, predictions.csv  the held-out evaluation (`nar eval`)
//!   search.json                 the search results (`nar search`)
//!   comparison.json             budgeted methods at the run's budget (`nar run`)
//!   ranking.csv                 every architecture's predicted tier and score (`nar rank`)
//!   report.html                 the report (`nar report`)
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::io::write_atomic;
use crate::predictor::PREDICTOR_FILE;
use crate::predictor::ensemble::{ENSEMBLE_FILE, member_dir};
pub use crate::ranker::checkpoint::Checkpoint;
use crate::ranker::checkpoint::{CHECKPOINTS_DIR, CheckpointPaths, TrainState, load_state};
use crate::ranker::evaluate::{EvalReport, Prediction};
use crate::ranker::trainer::METRICS_LOG;
use crate::ranker::trainer::{CheckpointPair, EpochLog};
use crate::search::budgeted::StudySummary;
use crate::search::reference::SeedResult;
use crate::space::{SpaceKind, Task};
use crate::spaces::AnyDataset;

/// What a run records about its data (`run.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    pub space: SpaceKind,
    /// The dataset file; a relative path is inside the run directory.
    pub dataset: PathBuf,
    /// The task whose network and accuracies the run uses (written `network`, its name before tasks).
    #[serde(rename = "network")]
    pub task: Task,
    /// The accuracy the ranker learns from (validation), and the one reported (test), if any.
    pub val_metric: String,
    pub test_metric: Option<String>,
    pub seed: u64,
    /// Dataset positions of the training and validation architectures.
    pub train: Vec<usize>,
    pub val: Vec<usize>,
}

/// A run directory.
#[derive(Clone, Debug, PartialEq)]
pub struct RunDir {
    root: PathBuf,
}

const CONFIG: &str = "config.yaml";
const META: &str = "run.json";
const DATASET: &str = "dataset.nar";
const EVAL: &str = "eval.json";
const PREDICTIONS: &str = "predictions.csv";
const SEARCH: &str = "search.json";
const COMPARISON: &str = "comparison.json";
const RANKING: &str = "ranking.csv";
const REPORT: &str = "report.html";
/// The file a tree model (`model: gbdt | forest`) keeps itself in, inside its folder.
const FITTED: &str = "fitted.json";

fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a valid {what}", path.display()))
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let json = serde_json::to_string_pretty(value)?;
    write_atomic(path, |w| Ok(w.write_all(json.as_bytes())?))
}

impl RunDir {
    /// A run directory at `root`, created if missing (its files are written by the pipeline steps).
    pub fn create(root: &Path) -> Result<RunDir> {
        std::fs::create_dir_all(root).with_context(|| format!("cannot create the run directory {}", root.display()))?;
        Ok(RunDir { root: root.to_path_buf() })
    }

    /// The predictor files of a folder that is not (or not yet) a whole run: a checkpoint or a tree
    /// model, as an ensemble member or a Python `Predictor.save` keeps them.
    pub fn at(root: &Path) -> RunDir {
        RunDir { root: root.to_path_buf() }
    }

    /// An existing run: `root` must hold the configuration and the run description of `nar train`.
    pub fn open(root: &Path) -> Result<RunDir> {
        let run = RunDir { root: root.to_path_buf() };
        if !root.is_dir() {
            bail!("{}: no such run directory", root.display());
        }
        for f in [run.meta_path(), run.config_path()] {
            if !f.is_file() {
                bail!(
                    "{} is not a run directory: {} is missing (`nar train --out DIR` makes one)",
                    root.display(),
                    f.display()
                );
            }
        }
        Ok(run)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    pub fn config_path(&self) -> PathBuf {
        self.file(CONFIG)
    }
    pub fn meta_path(&self) -> PathBuf {
        self.file(META)
    }
    /// Where the run keeps a dataset it built itself.
    pub fn dataset_path(&self) -> PathBuf {
        self.file(DATASET)
    }
    pub fn metrics_log_path(&self) -> PathBuf {
        self.file(METRICS_LOG)
    }
    pub fn eval_path(&self) -> PathBuf {
        self.file(EVAL)
    }
    pub fn predictions_path(&self) -> PathBuf {
        self.file(PREDICTIONS)
    }
    pub fn search_path(&self) -> PathBuf {
        self.file(SEARCH)
    }
    /// `nar rank`'s default output.
    pub fn comparison_path(&self) -> PathBuf {
        self.root.join(COMPARISON)
    }

    pub fn ranking_path(&self) -> PathBuf {
        self.file(RANKING)
    }
    /// `nar report`'s default output.
    pub fn report_path(&self) -> PathBuf {
        self.file(REPORT)
    }

    /// Where a tree model keeps itself (`model: gbdt | forest`; it has one model: both checkpoints
    /// name it).
    pub fn predictor_path(&self) -> PathBuf {
        self.file(PREDICTOR_FILE)
    }

    /// What a predictor saved outside a run says of itself (`pipeline::loaded::FittedMeta`).
    pub fn fitted_path(&self) -> PathBuf {
        self.file(FITTED)
    }

    /// Where an ensemble keeps its members' scales.
    pub fn ensemble_path(&self) -> PathBuf {
        self.file(ENSEMBLE_FILE)
    }

    /// The folder of an ensemble's member `i`, laid out as a run's predictor files are.
    pub fn member(&self, i: usize) -> RunDir {
        RunDir { root: member_dir(&self.root, i) }
    }

    /// The files of one checkpoint.
    pub fn checkpoint(&self, which: Checkpoint) -> CheckpointPaths {
        crate::ranker::checkpoint::paths(&self.root, which)
    }

    /// Both checkpoints, as the trainer saves them.
    pub fn checkpoints(&self) -> CheckpointPair {
        CheckpointPair::in_dir(&self.root)
    }

    pub fn read_config(&self) -> Result<Config> {
        Config::load(&self.config_path())
    }

    pub fn write_config(&self, cfg: &Config) -> Result<()> {
        let yaml = serde_yaml::to_string(cfg)?;
        write_atomic(&self.config_path(), |w| Ok(w.write_all(yaml.as_bytes())?))
    }

    /// The run's description, checked field by field: its task is one of its space's, and its
    /// training and validation positions are distinct and do not overlap.
    pub fn read_meta(&self) -> Result<RunMeta> {
        let meta: RunMeta = read_json(&self.meta_path(), "run description")?;
        let path = self.meta_path();
        crate::spaces::check_task(meta.space, meta.task)
            .with_context(|| format!("{}: field `network`", path.display()))?;
        let mut seen = std::collections::HashSet::new();
        for (field, positions) in [("train", &meta.train), ("val", &meta.val)] {
            if let Some(p) = positions.iter().find(|&&p| !seen.insert(p)) {
                bail!(
                    "{}: field `{field}`: position {p} appears twice in the training and validation sets",
                    path.display()
                );
            }
        }
        if meta.train.is_empty() {
            bail!("{}: field `train`: no training architecture", path.display());
        }
        Ok(meta)
    }

    pub fn write_meta(&self, meta: &RunMeta) -> Result<()> {
        write_json(&self.meta_path(), meta)
    }

    /// The dataset file a run description points to (a relative path is inside the run).
    pub fn dataset_file(&self, meta: &RunMeta) -> PathBuf {
        if meta.dataset.is_relative() { self.root.join(&meta.dataset) } else { meta.dataset.clone() }
    }

    /// Opens the run's dataset and checks it is the one the run was made with.
    pub fn open_dataset(&self, meta: &RunMeta) -> Result<AnyDataset> {
        let path = self.dataset_file(meta);
        let ds = AnyDataset::open(&path).with_context(|| format!("the dataset of run {}", self.root.display()))?;
        if ds.space() != meta.space {
            bail!("{}: the dataset holds {} but the run is of {}", path.display(), ds.space(), meta.space);
        }
        if let Some(&bad) = meta.train.iter().chain(&meta.val).find(|&&i| i >= ds.len()) {
            bail!("{}: position {bad} is past the dataset's {} architectures", self.meta_path().display(), ds.len());
        }
        // The metrics it names are its task's, in the dataset, and every training and validation
        // architecture has the one it learns from.
        let meta_path = self.meta_path();
        let candidates = crate::spaces::validation_metrics(meta.space, meta.task);
        if !candidates.contains(&meta.val_metric) {
            bail!(
                "{}: field `val_metric`: {} is not a validation accuracy of {} {} ({})",
                meta_path.display(),
                meta.val_metric,
                meta.space,
                meta.task,
                candidates.join(", ")
            );
        }
        if let Some(t) = &meta.test_metric
            && !crate::spaces::test_metrics(meta.space, meta.task).contains(t)
        {
            bail!(
                "{}: field `test_metric`: {t} is not a test accuracy of {} {}",
                meta_path.display(),
                meta.space,
                meta.task
            );
        }
        crate::with_dataset!(&ds, d => {
            let col = d.metric(&meta.val_metric).ok_or_else(|| {
                anyhow::anyhow!("{}: field `val_metric`: {} has no metric {}", meta_path.display(), path.display(), meta.val_metric)
            })?;
            if let Some(&p) = meta.train.iter().chain(&meta.val).find(|&&p| col[p].is_nan()) {
                bail!("{}: position {p} has no {} in {}", meta_path.display(), meta.val_metric, path.display());
            }
            if let Some(t) = &meta.test_metric
                && d.metric(t).is_none()
            {
                bail!("{}: field `test_metric`: {} has no metric {t}", meta_path.display(), path.display());
            }
        });
        Ok(ds)
    }

    /// Refuses `out` when it is one of the run's own files — anything in the run directory, through
    /// links, or the dataset it points to — other than `allowed`, the command's own output (`nar rank`'s
    /// `ranking.csv`, `nar report`'s `report.html`).
    pub fn refuse_output(&self, out: &Path, allowed: &Path, meta: &RunMeta) -> Result<()> {
        let mut files = vec![self.dataset_file(meta)];
        let mut dirs = vec![self.root.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
                let p = e?.path();
                if p.is_dir() { dirs.push(p) } else { files.push(p) }
            }
        }
        for f in files {
            if crate::io::same_file(out, &f) && !crate::io::same_file(&f, allowed) {
                bail!("the output {} is the run's own {}: write somewhere else", out.display(), f.display());
            }
        }
        // A name the run may write later (a checkpoint, an ensemble member, …) is the run's too.
        // The path as it will be: its nearest existing ancestor resolved, the rest appended.
        let absolute = if out.is_absolute() { out.to_path_buf() } else { std::env::current_dir()?.join(out) };
        let mut base = absolute.as_path();
        let mut rest = Vec::new();
        while !base.exists() {
            let (Some(parent), Some(name)) = (base.parent(), base.file_name()) else { break };
            rest.push(name.to_os_string());
            base = parent;
        }
        let mut resolved = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_path_buf());
        resolved.extend(rest.iter().rev());
        if let Ok(root) = std::fs::canonicalize(&self.root)
            && let Ok(rel) = resolved.strip_prefix(&root)
            && let Some(first) = rel.components().next().and_then(|c| c.as_os_str().to_str())
        {
            let reserved = [
                CONFIG,
                META,
                DATASET,
                METRICS_LOG,
                CHECKPOINTS_DIR,
                EVAL,
                PREDICTIONS,
                SEARCH,
                COMPARISON,
                RANKING,
                REPORT,
                PREDICTOR_FILE,
                ENSEMBLE_FILE,
                FITTED,
            ];
            let own = allowed.file_name().and_then(|n| n.to_str()) == Some(first) && rel.components().count() == 1;
            if !own && (reserved.contains(&first) || first.starts_with("member-")) {
                bail!("the output {} is the run's own {first}: write somewhere else", out.display());
            }
        }
        Ok(())
    }

    /// The epochs logged so far.
    pub fn read_log(&self) -> Result<Vec<EpochLog>> {
        crate::ranker::trainer::read_log(&self.metrics_log_path())
    }

    /// A checkpoint's training state, checked against the run's configuration.
    pub fn read_state(&self, which: Checkpoint) -> Result<TrainState> {
        let p = self.checkpoint(which);
        let state = load_state(&p)?;
        state.check(self.read_config()?.ranker.n_tier, &p.state)?;
        Ok(state)
    }

    /// The held-out evaluation, if `nar eval` has run.
    pub fn read_eval(&self) -> Result<Option<EvalReport>> {
        let p = self.eval_path();
        if p.exists() { read_json(&p, "evaluation").map(Some) } else { Ok(None) }
    }

    pub fn write_eval(&self, report: &EvalReport, predictions: &[Prediction]) -> Result<()> {
        write_atomic(&self.predictions_path(), |w| {
            let mut csv = csv::Writer::from_writer(w);
            for p in predictions {
                csv.serialize(p)?;
            }
            csv.flush()?;
            Ok(())
        })?;
        write_json(&self.eval_path(), report)
    }

    /// Every held-out prediction of `nar eval` (empty if it has not run).
    pub fn read_predictions(&self) -> Result<Vec<Prediction>> {
        let path = self.predictions_path();
        if !path.exists() {
            return Ok(Vec::new());
        }
        let mut r = csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
        r.deserialize()
            .enumerate()
            .map(|(i, row)| row.with_context(|| format!("{}: record {}", path.display(), i + 1)))
            .collect()
    }

    /// The search results, if `nar search` has run.
    pub fn read_search(&self) -> Result<Option<Vec<SeedResult>>> {
        let p = self.search_path();
        if p.exists() { read_json(&p, "search result").map(Some) } else { Ok(None) }
    }

    pub fn write_search(&self, results: &[SeedResult]) -> Result<()> {
        write_json(&self.search_path(), &results)
    }

    /// The budgeted comparison at the run's budget, if `nar run` has made it.
    pub fn read_comparison(&self) -> Result<Option<StudySummary>> {
        let p = self.comparison_path();
        if p.exists() { read_json(&p, "comparison").map(Some) } else { Ok(None) }
    }

    pub fn write_comparison(&self, s: &StudySummary) -> Result<()> {
        write_json(&self.comparison_path(), s)
    }

    /// The state of the `best` checkpoint, if training has saved one.
    pub fn read_best_state(&self) -> Result<Option<TrainState>> {
        let p = self.checkpoint(Checkpoint::Best);
        if p.state.exists() { self.read_state(Checkpoint::Best).map(Some) } else { Ok(None) }
    }

    /// A short name for the run's dataset, for reports (the file name, not a machine's absolute path).
    pub fn dataset_name(&self, meta: &RunMeta) -> String {
        let path = self.dataset_file(meta);
        path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
    }
}

/// A run opened for use: its directory, configuration, description and dataset, checked to agree.
pub struct OpenRun {
    pub dir: RunDir,
    pub cfg: Config,
    pub meta: RunMeta,
    pub ds: AnyDataset,
}

impl OpenRun {
    pub fn open(root: &Path) -> Result<OpenRun> {
        let dir = RunDir::open(root)?;
        let cfg = dir.read_config()?;
        let meta = dir.read_meta()?;
        if cfg.space != meta.space {
            return Err(anyhow!(
                "{}: the configuration is for {} but {} says {}",
                dir.config_path().display(),
                cfg.space,
                dir.meta_path().display(),
                meta.space
            ));
        }
        let ds = dir.open_dataset(&meta)?;
        Ok(OpenRun { dir, cfg, meta, ds })
    }
}
