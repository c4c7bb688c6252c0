//! The predictor interface: everything that learns from labelled architectures to score others.
//!
//! A [`Predictor`] fits on labelled architectures ([`Labelled`]), scores any architectures of its
//! space ([`Inputs`]), saves itself into a folder and loads from it, and says whether it also predicts
//! tiers. Each predictor chooses its own features ([`crate::features`]). `nar train`, `nar eval`,
//! `nar rank`, the predictor study and the Python package go through it.
//!
//! Adding a predictor is one file here and one registration: a [`ModelKind`] variant and its arms
//! in [`build`] and [`load`].
//!
//! - [`transformer`]: NAR's ranker (reference or improved configuration), with tiers;
//! - [`gbdt`]: gradient-boosted trees (forust-ml) on any feature sets;
//! - [`forest`]: a random forest (smartcore) on any feature sets;
//! - [`ensemble`]: members of the above, their standardised scores averaged.

pub mod ensemble;
pub mod forest;
pub mod gbdt;
pub mod transformer;

use std::ops::Range;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::features::{self, FeatureSet, Featurize, Table};
use crate::progress::Progress;
use crate::ranker::config::{Config, ModelKind};
use crate::ranker::metrics::ranks;
use crate::ranker::model::Ranker;
use crate::ranker::samples::Samples;
use crate::run_dir::{Checkpoint, RunDir};
use crate::space::SpaceKind;

/// Architectures of one space built into one network, as a predictor reads them.
pub trait Inputs: Sync {
    fn space(&self) -> SpaceKind;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The feature table of every architecture for `sets`.
    fn table(&self, sets: &[FeatureSet]) -> Table;
    /// The transformer's samples (ReNAS tensors, cost totals, shapes) of the architectures in
    /// `rows`, labelled with `y` (one value per row of `rows`; NaN when unlabelled).
    fn samples(&self, rows: Range<usize>, y: &[f64]) -> Samples;
}

/// A list of architectures of space `S` for one network.
pub struct ArchList<'a, S: Featurize> {
    pub archs: &'a [S::Arch],
    pub network: S::Network,
}

impl<S: Featurize> Inputs for ArchList<'_, S> {
    fn space(&self) -> SpaceKind {
        S::KIND
    }
    fn len(&self) -> usize {
        self.archs.len()
    }
    fn table(&self, sets: &[FeatureSet]) -> Table {
        features::table::<S>(self.archs, self.network, sets)
    }
    fn samples(&self, rows: Range<usize>, y: &[f64]) -> Samples {
        Samples::from_archs::<S>(&self.archs[rows], self.network, y)
    }
}

/// Labelled architectures to fit on: rows `0..n_train` of `x` train, the rest (if any) validate —
/// the transformer chooses its checkpoint on them; the trees fit on every row.
pub struct Labelled<'a> {
    pub x: &'a dyn Inputs,
    /// Validation accuracy of each row.
    pub y: &'a [f64],
    pub n_train: usize,
}

impl Labelled<'_> {
    /// Refuses what no predictor can fit on: fewer than two architectures, non-finite accuracies.
    pub fn check(&self) -> Result<()> {
        if self.y.len() != self.x.len() {
            bail!("{} architectures but {} accuracies", self.x.len(), self.y.len());
        }
        if self.y.len() < 2 {
            bail!("a predictor needs at least 2 labelled architectures, found {}", self.y.len());
        }
        if let Some(k) = self.y.iter().position(|v| !v.is_finite()) {
            bail!("accuracy {k} is not a finite number ({})", self.y[k]);
        }
        if self.n_train == 0 || self.n_train > self.y.len() {
            bail!("the training split must hold 1 to {} architectures, found {}", self.y.len(), self.n_train);
        }
        Ok(())
    }
}

/// What fitting may use besides the data.
pub struct FitContext<'a> {
    pub seed: u64,
    pub progress: &'a dyn Progress,
    /// A run directory to keep checkpoints and the epoch log in while fitting (the transformer);
    /// `None` fits in memory.
    pub run: Option<&'a RunDir>,
    /// Continue from the run's last checkpoint.
    pub resume: bool,
}

/// What a fit reports.
#[derive(Clone, Debug, Default)]
pub struct FitReport {
    pub epochs_done: usize,
    /// The transformer's best validation tier accuracy and its epoch.
    pub best_val_acc: Option<f64>,
    pub best_epoch: Option<usize>,
    /// Kendall τ of the scores on the architectures fitted on (how closely a tree model fits, not
    /// how well it ranks others: `nar eval` measures that).
    pub fit_kendall: Option<f64>,
}

/// A predictor of architecture quality.
pub trait Predictor: Send + Sync {
    /// The model's name in configurations (`transformer`, `gbdt`, `forest`, `ensemble`).
    fn kind(&self) -> ModelKind;
    /// Fits on labelled architectures (replacing what was fitted before).
    fn fit(&mut self, data: &Labelled<'_>, ctx: &FitContext<'_>) -> Result<FitReport>;
    /// Scores (higher = better) of every architecture of `x`.
    fn scores(&self, x: &dyn Inputs, progress: &dyn Progress) -> Result<Vec<f64>>;
    /// Scores and, where the predictor has one, their spread in the scores' units: how much its parts
    /// (an ensemble's members, a forest's trees) disagree on each architecture. For an acquisition.
    fn scores_and_spread(&self, x: &dyn Inputs, progress: &dyn Progress) -> Result<(Vec<f64>, Option<Vec<f64>>)> {
        Ok((self.scores(x, progress)?, None))
    }
    /// Writes what was fitted into `dir` (which exists).
    fn save(&self, dir: &Path) -> Result<()>;
    /// The transformer, for tiers and NAR's search (`None` for score-only predictors).
    fn transformer(&self) -> Option<&Ranker<f32>> {
        None
    }
    /// Whether it predicts tiers besides the score (what `nar eval --tiers`, `nar rank --tiers` and
    /// NAR's reference search need).
    fn has_tiers(&self) -> bool {
        self.transformer().is_some()
    }
}

/// Checks a model's feature list and blocks agree with the model (`field` prefixes the names in
/// errors: empty for a configuration, `ensemble.members[i]` for a member).
pub fn check_model_blocks(
    model: ModelKind,
    features: Option<&[FeatureSet]>,
    gbdt: &Option<gbdt::GbdtConfig>,
    forest: &Option<forest::ForestConfig>,
    field: &str,
) -> Result<()> {
    let name = |f: &str| if field.is_empty() { f.to_string() } else { format!("{field}.{f}") };
    if let Some(f) = features {
        if f.is_empty() {
            bail!("{}: give at least one feature set", name("features"));
        }
        if let Some(d) = f.iter().enumerate().find(|(i, s)| f[..*i].contains(s)) {
            bail!("{}: {} is listed twice", name("features"), d.1);
        }
        if model == ModelKind::Transformer && f != [FeatureSet::Renas] {
            bail!("{}: the transformer reads the renas tensor only", name("features"));
        }
        if model == ModelKind::Ensemble {
            bail!("{}: an ensemble's members choose their features", name("features"));
        }
    }
    match (model, gbdt) {
        (ModelKind::Gbdt, Some(g)) => g.check(&name("gbdt"))?,
        (_, Some(_)) => bail!("{}: only read with model: gbdt, found model: {}", name("gbdt"), model.name()),
        _ => {}
    }
    match (model, forest) {
        (ModelKind::Forest, Some(f)) => f.check(&name("forest"))?,
        (_, Some(_)) => bail!("{}: only read with model: forest, found model: {}", name("forest"), model.name()),
        _ => {}
    }
    Ok(())
}

/// A new, unfitted predictor of a configuration's `model`.
pub fn build(cfg: &Config) -> Result<Box<dyn Predictor>> {
    cfg.check()?;
    Ok(match cfg.model {
        ModelKind::Transformer => Box::new(transformer::Transformer::new(cfg.clone())),
        ModelKind::Gbdt => Box::new(TableModel::new(cfg.model, cfg.features(), cfg.gbdt.clone(), None)),
        ModelKind::Forest => Box::new(TableModel::new(cfg.model, cfg.features(), None, cfg.forest.clone())),
        ModelKind::Ensemble => Box::new(ensemble::Ensemble::new(cfg)?),
    })
}

/// The predictor a configuration fitted into `dir` (`which` checkpoint, for the transformer). Files of
/// another model than the configuration's are refused, naming both.
pub fn load(cfg: &Config, dir: &Path, which: Checkpoint) -> Result<Box<dyn Predictor>> {
    let run = RunDir::at(dir);
    let (table, checkpoint) = (run.predictor_path(), run.checkpoint(which).state);
    let found = if table.exists() {
        Some("a tree model (predictor.json)")
    } else if checkpoint.exists() {
        Some("a transformer's checkpoints")
    } else if run.ensemble_path().exists() {
        Some("an ensemble")
    } else {
        None
    };
    let expected = match cfg.model {
        ModelKind::Transformer => checkpoint.exists(),
        ModelKind::Gbdt | ModelKind::Forest => table.exists(),
        ModelKind::Ensemble => run.ensemble_path().exists(),
    };
    if let (false, Some(found)) = (expected, found) {
        bail!("{}: holds {found}, but its configuration says model: {}", dir.display(), cfg.model.name());
    }
    Ok(match cfg.model {
        ModelKind::Transformer => Box::new(transformer::Transformer::load(cfg, dir, which)?),
        ModelKind::Gbdt | ModelKind::Forest => Box::new(TableModel::load(cfg.model, dir)?),
        ModelKind::Ensemble => Box::new(ensemble::Ensemble::load(cfg, dir, which)?),
    })
}

/// The built-in predictors' configuration files, compiled in: `(name, NB101 text, NB201 text)`.
const NAMED: [(&str, &str, &str); 4] = [
    ("improved", include_str!("../../configs/nb101-improved.yaml"), include_str!("../../configs/nb201-improved.yaml")),
    ("gbdt", include_str!("../../configs/nb101-gbdt.yaml"), include_str!("../../configs/nb201-gbdt.yaml")),
    ("forest", include_str!("../../configs/nb101-forest.yaml"), include_str!("../../configs/nb201-forest.yaml")),
    ("best", include_str!("../../configs/nb101-best.yaml"), include_str!("../../configs/nb201-best.yaml")),
];

/// The predictors known by name: `reference`, `improved` (the transformer), `gbdt` (trees on the
/// ReNAS tensor), `forest` (a forest on the graph features), `best` (nar's recommended predictor), and
/// `forest-SET` / `gbdt-SET` (that model on one feature set).
pub fn named_list() -> Vec<String> {
    let mut v = vec!["reference".to_string()];
    v.extend(NAMED.iter().map(|(m, _, _)| m.to_string()));
    for model in ["forest", "gbdt"] {
        v.extend(FeatureSet::ALL.iter().map(|f| format!("{model}-{f}")));
    }
    v
}

/// A named predictor's configuration for a space ([`named_list`]; `None` for another name).
pub fn named(name: &str, space: SpaceKind) -> Option<Config> {
    let parse = |text: &str| Config::parse(text).expect("the configurations in configs/ are valid");
    if name == "reference" {
        return Some(Config::reference(space));
    }
    if let Some((_, t101, t201)) = NAMED.iter().find(|(m, _, _)| *m == name) {
        return Some(parse(if space == SpaceKind::Nb101 { t101 } else { t201 }));
    }
    let (model, set) = name.split_once('-')?;
    let set: FeatureSet = set.parse().ok()?;
    let mut cfg = named(model, space)?;
    if !matches!(cfg.model, ModelKind::Forest | ModelKind::Gbdt) {
        return None;
    }
    cfg.features = Some(vec![set]);
    Some(cfg)
}

/// A predictor the study trains: a name and, per space, a configuration.
///
/// Built-in names: `reference`, `improved` (the transformer), `gbdt` (trees on the ReNAS tensor, the
/// first tree baseline), `forest` (a forest on the graph features, as GRAF pairs them), `best` (nar's
/// recommended predictor), and for the feature ablation `forest-SET` / `gbdt-SET` (that model on one
/// feature set: `renas`, `onehot`, `graph`, `paths`, `cost`). Any other name comes with its own
/// configuration (`--config NAME=FILE`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mode(pub String);

impl Serialize for Mode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl Mode {
    pub fn new(name: &str) -> Mode {
        Mode(name.to_string())
    }

    pub fn name(&self) -> &str {
        &self.0
    }

    /// The names `--modes` knows without a configuration file ([`named`]).
    pub fn built_in() -> Vec<String> {
        named_list()
    }

    /// The mode's built-in configuration for a space (`None` for a name that is not built in).
    pub fn config(&self, space: SpaceKind) -> Option<Config> {
        named(&self.0, space)
    }
}

/// Normalised ranks `(rank − ½) / n` of the accuracies, in (0, 1).
pub fn rank_target(val: &[f64]) -> Vec<f64> {
    let n = val.len() as f64;
    ranks(val).into_iter().map(|r| (r - 0.5) / n).collect()
}

/// What a table model fits: the normalised rank of validation accuracy, or the accuracy itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    #[default]
    Rank,
    Accuracy,
}

pub(crate) fn target_values(t: Target, y: &[f64]) -> Vec<f64> {
    match t {
        Target::Rank => rank_target(y),
        Target::Accuracy => y.to_vec(),
    }
}

/// A fitted table model.
enum Fitted {
    Gbdt(Box<gbdt::Gbdt>),
    Forest(forest::Forest),
}

/// A tree model (gradient-boosted trees or a forest) on a list of feature sets.
pub struct TableModel {
    kind: ModelKind,
    features: Vec<FeatureSet>,
    gbdt: gbdt::GbdtConfig,
    forest: forest::ForestConfig,
    fitted: Option<Fitted>,
    /// The space it was fitted on.
    space: Option<SpaceKind>,
}

/// A table model's file: what it is, the fitted state and the state's SHA-256 (of its JSON text), so an
/// edited or damaged file is refused before any tree is read.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedTable {
    model: ModelKind,
    space: SpaceKind,
    features: Vec<FeatureSet>,
    sha256: String,
    state: serde_json::Value,
}

/// Checks the nodes of saved trees before a tree crate reads them: every node list of `value` (the
/// objects holding a `nodes` array) must split on a column below `cols` and point only to later
/// nodes of its own tree — `children` names the child fields, `leaf` says whether a node is a leaf —,
/// so that a damaged file cannot index out of range or loop inside the crate.
pub(crate) fn check_tree_nodes(
    value: &serde_json::Value,
    cols: usize,
    children: &[&str],
    leaf: &dyn Fn(&serde_json::Value) -> bool,
    path: &Path,
) -> Result<usize> {
    let mut trees = 0;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::Array(nodes)) = m.get("nodes") {
                    trees += 1;
                    if nodes.is_empty() {
                        bail!("{}: tree {trees} has no nodes", path.display());
                    }
                    for (i, n) in nodes.iter().enumerate() {
                        if leaf(n) {
                            continue;
                        }
                        let feature = n.get("split_feature").and_then(|f| f.as_u64());
                        if feature.is_none_or(|f| f as usize >= cols) {
                            bail!(
                                "{}: tree {trees}, node {i}: split_feature {} is not one of the {cols} features",
                                path.display(),
                                n.get("split_feature").map_or("(missing)".to_string(), |f| f.to_string())
                            );
                        }
                        for c in children {
                            let child = n.get(*c).and_then(|x| x.as_u64()).map(|x| x as usize);
                            if child.is_none_or(|x| x <= i || x >= nodes.len()) {
                                bail!(
                                    "{}: tree {trees}, node {i}: {c} {} is not a later node of the tree's {}",
                                    path.display(),
                                    n.get(*c).map_or("(missing)".to_string(), |f| f.to_string()),
                                    nodes.len()
                                );
                            }
                        }
                    }
                } else {
                    stack.extend(m.values().rev());
                }
            }
            // Reversed, so that trees are numbered in the file's order.
            serde_json::Value::Array(a) => stack.extend(a.iter().rev()),
            _ => {}
        }
    }
    Ok(trees)
}

impl TableModel {
    pub fn new(
        kind: ModelKind,
        features: Vec<FeatureSet>,
        gbdt: Option<gbdt::GbdtConfig>,
        forest: Option<forest::ForestConfig>,
    ) -> TableModel {
        TableModel {
            kind,
            features,
            gbdt: gbdt.unwrap_or_default(),
            forest: forest.unwrap_or_default(),
            fitted: None,
            space: None,
        }
    }

    /// A table model saved by [`Predictor::save`] into `dir`, which must be of `kind`.
    pub fn load(kind: ModelKind, dir: &Path) -> Result<TableModel> {
        let path = RunDir::at(dir).predictor_path();
        let text = crate::io::read_to_string_capped(&path, 1 << 30, "a predictor")?;
        let saved: SavedTable =
            serde_json::from_str(&text).with_context(|| format!("{}: not a nar predictor", path.display()))?;
        let sum = crate::ranker::checkpoint::sha256_hex(serde_json::to_string(&saved.state)?.as_bytes());
        if sum != saved.sha256 {
            bail!("{}: the fitted state does not match its checksum (the file was changed or damaged)", path.display());
        }
        if saved.model != kind {
            bail!(
                "{}: holds a {} predictor, but the run's configuration says model: {}",
                path.display(),
                saved.model.name(),
                kind.name()
            );
        }
        // Each model's reader checks its trees read exactly the feature sets' columns.
        let width = features::width(saved.space, &saved.features);
        let fitted = match kind {
            ModelKind::Gbdt => Fitted::Gbdt(Box::new(gbdt::Gbdt::from_json(saved.state, width, &path)?)),
            ModelKind::Forest => Fitted::Forest(forest::from_json(saved.state, width, &path)?),
            other => bail!("{}: a {} is not a table model", path.display(), other.name()),
        };
        Ok(TableModel {
            kind,
            features: saved.features,
            gbdt: Default::default(),
            forest: Default::default(),
            fitted: Some(fitted),
            space: Some(saved.space),
        })
    }
}

impl Predictor for TableModel {
    fn kind(&self) -> ModelKind {
        self.kind
    }

    fn fit(&mut self, data: &Labelled<'_>, ctx: &FitContext<'_>) -> Result<FitReport> {
        data.check()?;
        ctx.progress.log(&format!(
            "fitting {} on {} labelled architectures, features {}",
            self.kind.name(),
            data.y.len(),
            self.features.iter().map(|f| f.name()).collect::<Vec<_>>().join("+")
        ));
        let x = data.x.table(&self.features);
        self.fitted = Some(match self.kind {
            ModelKind::Forest => Fitted::Forest(forest::Forest::fit(&self.forest, &x, data.y, ctx.seed)?),
            _ => Fitted::Gbdt(Box::new(gbdt::Gbdt::fit(&self.gbdt, &x, data.y, ctx.seed)?)),
        });
        self.space = Some(data.x.space());
        let s = self.scores_table(&x)?;
        Ok(FitReport { fit_kendall: Some(crate::ranker::metrics::kendall_tau(&s, data.y)), ..FitReport::default() })
    }

    fn scores(&self, x: &dyn Inputs, progress: &dyn Progress) -> Result<Vec<f64>> {
        if let Some(space) = self.space
            && space != x.space()
        {
            bail!("this predictor was fitted on {space}, not {}", x.space());
        }
        progress.start(x.len() as u64, "scoring");
        let s = self.scores_table(&x.table(&self.features));
        progress.inc(x.len() as u64);
        progress.finish();
        s
    }

    fn scores_and_spread(&self, x: &dyn Inputs, progress: &dyn Progress) -> Result<(Vec<f64>, Option<Vec<f64>>)> {
        match self.fitted.as_ref() {
            Some(Fitted::Forest(f)) => {
                let (m, sd) = f.scores_and_spread(&x.table(&self.features))?;
                Ok((m, Some(sd)))
            }
            _ => Ok((self.scores(x, progress)?, None)),
        }
    }

    fn save(&self, dir: &Path) -> Result<()> {
        let state = match self.fitted.as_ref() {
            Some(Fitted::Gbdt(g)) => g.to_json()?,
            Some(Fitted::Forest(f)) => serde_json::to_value(f)?,
            None => bail!("the {} predictor has not been fitted", self.kind.name()),
        };
        let space = self.space.expect("a fitted model knows its space");
        let sha256 = crate::ranker::checkpoint::sha256_hex(serde_json::to_string(&state)?.as_bytes());
        let saved = SavedTable { model: self.kind, space, features: self.features.clone(), sha256, state };
        let text = serde_json::to_string(&saved)?;
        crate::io::write_atomic(&RunDir::at(dir).predictor_path(), |w| Ok(w.write_all(text.as_bytes())?))
    }
}

impl TableModel {
    fn scores_table(&self, x: &Table) -> Result<Vec<f64>> {
        match self.fitted.as_ref() {
            Some(Fitted::Gbdt(g)) => g.scores(x),
            Some(Fitted::Forest(f)) => f.scores(x),
            None => bail!("the {} predictor has not been fitted", self.kind.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_target_is_the_normalised_mean_rank() {
        assert_eq!(rank_target(&[30.0, 10.0, 20.0, 20.0]), vec![0.875, 0.125, 0.5, 0.5]);
    }
}
