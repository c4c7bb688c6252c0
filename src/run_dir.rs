//! A run directory's paths: everything one predictor's run leaves on disk, and `run.json`'s
//! [`RunMeta`]. This module is a leaf (it names files; it reads none but `run.json`). Each artifact is
//! read and written beside its type, as methods of [`RunDir`]: the configuration in `config`, the
//! checkpoints and the epoch log in `ranker::checkpoint` and `ranker::trainer`, a tree model or an
//! ensemble in `predictor`, the evaluation in `ranker::evaluate`, the reference search in
//! `search::reference`, the comparison in `search::budgeted`, the dataset in `spaces` (checked against
//! the description), and the rule that no output overwrites a run's file in `report`. A predictor's
//! files are named by the predictor that writes them, so that a predictor needs only its folder.
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

use anyhow::{Context, Result, bail};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::io::write_atomic;
use crate::space::{SpaceKind, Task};

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
/// What a predictor saved outside a run says of itself.
const FITTED: &str = "fitted.json";

/// The run's own files (a predictor's files are its own: `report::refuse_output` adds them).
pub const OWN_FILES: [&str; 10] =
    [CONFIG, META, DATASET, EVAL, PREDICTIONS, SEARCH, COMPARISON, RANKING, REPORT, FITTED];

/// Reads a run's JSON file (`what` names it in errors).
pub fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a valid {what}", path.display()))
}

/// Writes a run's JSON file, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
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

    /// The file `name` of the run (a predictor names its own files: `ranker::checkpoint`,
    /// `ranker::trainer`, `predictor`).
    pub fn file(&self, name: &str) -> PathBuf {
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

    /// What a predictor saved outside a run says of itself (`pipeline::loaded::FittedMeta`).
    pub fn fitted_path(&self) -> PathBuf {
        self.file(FITTED)
    }

    /// The run's description, checked field by field: its training and validation positions are
    /// distinct and do not overlap (its task and metrics are checked against its space and dataset
    /// where the dataset is opened, `RunDir::open_dataset`).
    pub fn read_meta(&self) -> Result<RunMeta> {
        let meta: RunMeta = read_json(&self.meta_path(), "run description")?;
        let path = self.meta_path();
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

    /// A short name for the run's dataset, for reports (the file name, not a machine's absolute path).
    pub fn dataset_name(&self, meta: &RunMeta) -> String {
        let path = self.dataset_file(meta);
        path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
    }
}
