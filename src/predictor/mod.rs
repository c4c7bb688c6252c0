//! The predictor interface: everything that learns from labelled architectures to score others.
//!
//! A [`Predictor`] fits on labelled architectures ([`Labelled`]), scores any architectures of its
//! space ([`Inputs`]), saves itself into a folder and loads from it, and says whether it also predicts
//! tiers. Each predictor chooses its own features ([`crate::features`]). `nar train`, `nar eval`,
//! `nar rank`, the predictor study and the Python package go through it.
//!
//! A predictor is built from its own settings ([`PredictorSpec`], which the run configuration makes:
//! `crate::config::Config::predictor`) and keeps its files in a folder it is given, naming them
//! itself; it never reads the run's configuration or its directory. Adding one is a file here, a
//! [`ModelKind`] and [`PredictorSpec`] variant with their arms in [`build`] and [`load`], and its
//! block in the run configuration.
//!
//! - [`transformer`]: NAR's ranker (reference or improved configuration), with tiers;
//! - [`gbdt`]: gradient-boosted trees (forust-ml) on any feature sets;
//! - [`forest`]: a random forest (smartcore) on any feature sets;
//! - [`ensemble`]: members of the above, their standardised scores averaged.

pub mod ensemble;
pub mod forest;
pub mod gbdt;
pub mod mlp;
pub mod transformer;

use std::ops::Range;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::features::{self, FeatureSet, Featurize, Table};
use crate::progress::Progress;
use crate::ranker::checkpoint::Checkpoint;
use crate::ranker::config::TransformerConfig;
use crate::ranker::metrics::ranks;
use crate::ranker::model::Ranker;
use crate::ranker::samples::Samples;
use crate::space::SpaceKind;

/// Which predictor: the run configuration's `model:`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// NAR's transformer ranker (`ranker:`), with tiers and the accuracy score.
    #[default]
    Transformer,
    /// Gradient-boosted trees on feature sets ([`gbdt::GbdtConfig`]): a score only.
    Gbdt,
    /// A random forest on feature sets ([`forest::ForestConfig`]): a score only.
    Forest,
    /// A small ranking network on feature sets, trained with a pairwise loss ([`mlp::MlpConfig`]): a
    /// score only.
    Mlp,
    /// Members of the others, their standardised scores averaged ([`ensemble::EnsembleConfig`]).
    Ensemble,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Transformer => "transformer",
            ModelKind::Gbdt => "gbdt",
            ModelKind::Forest => "forest",
            ModelKind::Mlp => "mlp",
            ModelKind::Ensemble => "ensemble",
        }
    }

    /// Whether the model predicts tiers (NAR's transformer): `nar eval --tiers`, `nar rank --tiers` and
    /// NAR's reference search need them; the other models predict a score only.
    pub fn has_tiers(self) -> bool {
        self == ModelKind::Transformer
    }

    /// Whether fitting holds out the validation architectures to choose a checkpoint on (the
    /// transformer); the tree models and the ensemble fit on every labelled architecture.
    pub fn holds_out_validation(self) -> bool {
        self == ModelKind::Transformer
    }

    /// The feature sets the model reads when a configuration names none.
    pub fn default_features(self) -> Vec<FeatureSet> {
        match self {
            ModelKind::Forest | ModelKind::Mlp => vec![FeatureSet::Graph],
            _ => vec![FeatureSet::Renas],
        }
    }
}

/// Where a tree model (`model: gbdt | forest`) keeps itself in its folder; it has one model, which both
/// checkpoints name.
pub const PREDICTOR_FILE: &str = "predictor.json";

/// A predictor with its own settings: what [`build`] makes and [`load`] reads back.
#[derive(Clone, Debug, PartialEq)]
pub enum PredictorSpec {
    /// NAR's transformer: its sizes and training, and the seed it starts from.
    Transformer { settings: TransformerConfig, seed: u64 },
    /// Gradient-boosted trees or a forest on feature sets, with their block (defaults where `None`).
    Table {
        kind: ModelKind,
        features: Vec<FeatureSet>,
        gbdt: Option<gbdt::GbdtConfig>,
        forest: Option<forest::ForestConfig>,
        mlp: Option<mlp::MlpConfig>,
    },
    /// Members and their weights.
    Ensemble { members: Vec<(PredictorSpec, f64)> },
}

impl PredictorSpec {
    pub fn kind(&self) -> ModelKind {
        match self {
            PredictorSpec::Transformer { .. } => ModelKind::Transformer,
            PredictorSpec::Table { kind, .. } => *kind,
            PredictorSpec::Ensemble { .. } => ModelKind::Ensemble,
        }
    }
}

/// Architectures of one space built into one network, as a predictor reads them.
pub trait Inputs: Sync {
    fn space(&self) -> SpaceKind;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The feature table of every architecture for `sets` (an error where a set has no data for one).
    fn table(&self, sets: &[FeatureSet]) -> Result<Table>;
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
    fn table(&self, sets: &[FeatureSet]) -> Result<Table> {
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
    /// The folder to keep the predictor's files in while fitting (the transformer's checkpoints and
    /// epoch log; an ensemble's members' folders); `None` fits in memory.
    pub run: Option<&'a Path>,
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
    mlp: &Option<mlp::MlpConfig>,
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
    match (model, mlp) {
        (ModelKind::Mlp, Some(m)) => m.check(&name("mlp"))?,
        (_, Some(_)) => bail!("{}: only read with model: mlp, found model: {}", name("mlp"), model.name()),
        _ => {}
    }
    Ok(())
}

/// A new, unfitted predictor of `spec`.
pub fn build(spec: &PredictorSpec) -> Result<Box<dyn Predictor>> {
    Ok(match spec {
        PredictorSpec::Transformer { settings, seed } => {
            Box::new(transformer::Transformer::new(settings.clone(), *seed))
        }
        PredictorSpec::Table { kind, features, gbdt, forest, mlp } => {
            Box::new(TableModel::new(*kind, features.clone(), gbdt.clone(), forest.clone(), mlp.clone()))
        }
        PredictorSpec::Ensemble { members } => Box::new(ensemble::Ensemble::new(members)?),
    })
}

/// The predictor `spec` fitted into `dir` (`which` checkpoint, for the transformer). Files of another
/// model than `spec`'s are refused, naming both.
pub fn load(spec: &PredictorSpec, dir: &Path, which: Checkpoint) -> Result<Box<dyn Predictor>> {
    let kind = spec.kind();
    let (table, checkpoint, ensemble) = (
        dir.join(PREDICTOR_FILE),
        crate::ranker::checkpoint::paths(dir, which).state,
        dir.join(ensemble::ENSEMBLE_FILE),
    );
    let found = if table.exists() {
        Some("a tree model (predictor.json)")
    } else if checkpoint.exists() {
        Some("a transformer's checkpoints")
    } else if ensemble.exists() {
        Some("an ensemble")
    } else {
        None
    };
    let expected = match kind {
        ModelKind::Transformer => checkpoint.exists(),
        ModelKind::Gbdt | ModelKind::Forest | ModelKind::Mlp => table.exists(),
        ModelKind::Ensemble => ensemble.exists(),
    };
    if let (false, Some(found)) = (expected, found) {
        bail!("{}: holds {found}, but its configuration says model: {}", dir.display(), kind.name());
    }
    Ok(match spec {
        PredictorSpec::Transformer { settings, seed } => {
            Box::new(transformer::Transformer::load(settings, *seed, dir, which)?)
        }
        PredictorSpec::Table { kind, features, .. } => Box::new(TableModel::load(*kind, features, dir)?),
        PredictorSpec::Ensemble { members } => Box::new(ensemble::Ensemble::load(members, dir, which)?),
    })
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
    Mlp(mlp::Mlp),
}

/// A tree model (gradient-boosted trees or a forest) on a list of feature sets.
pub struct TableModel {
    kind: ModelKind,
    features: Vec<FeatureSet>,
    gbdt: gbdt::GbdtConfig,
    forest: forest::ForestConfig,
    mlp: mlp::MlpConfig,
    fitted: Option<Fitted>,
    /// The space it was fitted on.
    space: Option<SpaceKind>,
}

/// A table model's file: what it is, the fitted state and the state's SHA-256 (of its JSON text), so an
/// edited or damaged file is refused before any tree is read.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedTable {
    /// 2: `sha256` covers the model, space, feature sets and state; absent (the first files): the
    /// state only, the feature sets then checked against the configuration alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    format: Option<u32>,
    model: ModelKind,
    space: SpaceKind,
    features: Vec<FeatureSet>,
    sha256: String,
    state: serde_json::Value,
}

impl SavedTable {
    /// The checksum a file of `format` carries: of everything it holds (2), or of the state (1).
    fn checksum(&self, format: u32) -> Result<String> {
        let covered = if format >= 2 {
            serde_json::to_string(&serde_json::json!({
                "model": self.model, "space": self.space, "features": self.features, "state": self.state
            }))?
        } else {
            serde_json::to_string(&self.state)?
        };
        Ok(crate::ranker::checkpoint::sha256_hex(covered.as_bytes()))
    }
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
        mlp: Option<mlp::MlpConfig>,
    ) -> TableModel {
        TableModel {
            kind,
            features,
            gbdt: gbdt.unwrap_or_default(),
            forest: forest.unwrap_or_default(),
            mlp: mlp.unwrap_or_default(),
            fitted: None,
            space: None,
        }
    }

    /// A table model saved by [`Predictor::save`] into `dir`, which must be of `kind` and read the
    /// feature sets `features` (the configuration's), in that order.
    pub fn load(kind: ModelKind, features: &[FeatureSet], dir: &Path) -> Result<TableModel> {
        let path = dir.join(PREDICTOR_FILE);
        let text = crate::io::read_to_string_capped(&path, 1 << 30, "a predictor")?;
        let saved: SavedTable =
            serde_json::from_str(&text).with_context(|| format!("{}: not a nar predictor", path.display()))?;
        let format = saved.format.unwrap_or(1);
        if !(1..=2).contains(&format) {
            bail!("{}: a predictor file of format {format}; this nar reads formats 1 and 2", path.display());
        }
        if saved.checksum(format)? != saved.sha256 {
            bail!("{}: the fitted state does not match its checksum (the file was changed or damaged)", path.display());
        }
        if saved.features != features {
            let names = |f: &[FeatureSet]| f.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ");
            bail!(
                "{}: the trees read the feature sets [{}], but the configuration says features: [{}]",
                path.display(),
                names(&saved.features),
                names(features)
            );
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
        let width = crate::with_space!(saved.space, S => features::width::<S>(&saved.features));
        let fitted = match kind {
            ModelKind::Gbdt => Fitted::Gbdt(Box::new(gbdt::Gbdt::from_json(saved.state, width, &path)?)),
            ModelKind::Forest => Fitted::Forest(forest::from_json(saved.state, width, &path)?),
            ModelKind::Mlp => Fitted::Mlp(mlp::Mlp::from_json(saved.state, width, &path)?),
            other => bail!("{}: a {} is not a table model", path.display(), other.name()),
        };
        Ok(TableModel {
            kind,
            features: saved.features,
            gbdt: Default::default(),
            forest: Default::default(),
            mlp: Default::default(),
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
        let x = data.x.table(&self.features)?;
        self.fitted = Some(match self.kind {
            ModelKind::Forest => Fitted::Forest(forest::Forest::fit(&self.forest, &x, data.y, ctx.seed)?),
            ModelKind::Mlp => Fitted::Mlp(mlp::Mlp::fit(&self.mlp, &x, data.y, ctx.seed)?),
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
        let s = self.scores_table(&x.table(&self.features)?);
        progress.inc(x.len() as u64);
        progress.finish();
        s
    }

    fn scores_and_spread(&self, x: &dyn Inputs, progress: &dyn Progress) -> Result<(Vec<f64>, Option<Vec<f64>>)> {
        match self.fitted.as_ref() {
            Some(Fitted::Forest(f)) => {
                let (m, sd) = f.scores_and_spread(&x.table(&self.features)?)?;
                Ok((m, Some(sd)))
            }
            _ => Ok((self.scores(x, progress)?, None)),
        }
    }

    fn save(&self, dir: &Path) -> Result<()> {
        let state = match self.fitted.as_ref() {
            Some(Fitted::Gbdt(g)) => g.to_json()?,
            Some(Fitted::Forest(f)) => serde_json::to_value(f)?,
            Some(Fitted::Mlp(m)) => serde_json::to_value(m)?,
            None => bail!("the {} predictor has not been fitted", self.kind.name()),
        };
        let space = self.space.expect("a fitted model knows its space");
        let mut saved = SavedTable {
            format: Some(2),
            model: self.kind,
            space,
            features: self.features.clone(),
            sha256: String::new(),
            state,
        };
        saved.sha256 = saved.checksum(2)?;
        let text = serde_json::to_string(&saved)?;
        crate::io::write_atomic(&dir.join(PREDICTOR_FILE), |w| Ok(w.write_all(text.as_bytes())?))
    }
}

impl TableModel {
    fn scores_table(&self, x: &Table) -> Result<Vec<f64>> {
        match self.fitted.as_ref() {
            Some(Fitted::Gbdt(g)) => g.scores(x),
            Some(Fitted::Forest(f)) => f.scores(x),
            Some(Fitted::Mlp(m)) => m.scores(x),
            None => bail!("the {} predictor has not been fitted", self.kind.name()),
        }
    }
}

/// A run's or a folder's predictor files.
impl crate::run_dir::RunDir {
    /// Where a tree model keeps itself (`model: gbdt | forest`; it has one model: both checkpoints
    /// name it).
    pub fn predictor_path(&self) -> std::path::PathBuf {
        self.file(PREDICTOR_FILE)
    }

    /// Where an ensemble keeps its members' scales.
    pub fn ensemble_path(&self) -> std::path::PathBuf {
        self.file(ensemble::ENSEMBLE_FILE)
    }

    /// The folder of an ensemble's member `i`, laid out as a run's predictor files are.
    pub fn member(&self, i: usize) -> crate::run_dir::RunDir {
        crate::run_dir::RunDir::at(&ensemble::member_dir(self.root(), i))
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
