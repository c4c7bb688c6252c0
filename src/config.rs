//! A run's configuration, read from YAML: NAR's own `config.yml` / `config201.yml` load unchanged
//! (unknown keys are ignored); `configs/nb101.yaml` and `configs/nb201.yaml` hold the reference values.
//! It holds the space, the seed, the image dataset and the split, which predictor to fit (`model:`)
//! and each predictor's own block: the transformer's settings ([`crate::ranker::config`]), a tree
//! model's features and `gbdt:` / `forest:` block, an `ensemble:`'s members. [`Config::predictor`]
//! gives the predictor's own settings ([`PredictorSpec`]); the predictors never read the run's
//! configuration. The predictors known by name (`configs/*.yaml`, compiled in) are here too.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::features::FeatureSet;
use crate::predictor::ensemble::{EnsembleConfig, MemberConfig};
use crate::predictor::forest::ForestConfig;
use crate::predictor::gbdt::GbdtConfig;
use crate::predictor::{ModelKind, PredictorSpec};
use crate::ranker::config::{LrConfig, ModelConfig, OptimizerConfig, SamplerConfig, TransformerConfig};
use crate::space::{SpaceKind, Task};

fn yes() -> bool {
    true
}

/// A whole run's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// The search space, written as NAR does: `nasbench` (NB101) or `nasbench201` (`nb101` and
    /// `nb201` are read too).
    #[serde(with = "nar_space_name")]
    pub space: SpaceKind,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The task whose accuracies and network are used (NAR's key; the built-in spaces' tasks are image
    /// data sets — NB201: `cifar10`, `cifar100` or `imagenet16`; NB101: `cifar10` only); absent means
    /// the space's first task.
    #[serde(default)]
    pub network_type: Option<Task>,
    pub train_size: usize,
    pub val_size: usize,
    /// NB101 configs call it `batch_size`, NB201 ones `train_batch_size`.
    #[serde(alias = "batch_size")]
    pub train_batch_size: usize,
    #[serde(default)]
    pub val_batch_size: Option<usize>,
    pub ranker_epochs: usize,
    #[serde(default)]
    pub sampler_epochs: Option<usize>,
    pub bins: usize,
    pub ranker: ModelConfig,
    #[serde(default = "yes")]
    pub aux_loss: bool,
    pub loss_factor: f64,
    pub optimizer: OptimizerConfig,
    pub lr_scheduler: LrConfig,
    #[serde(default)]
    pub sampler: Option<SamplerConfig>,
    /// nar's addition: which predictor `nar train` fits (`crate::predictor`) — NAR's transformer (the
    /// default), gradient-boosted trees (`gbdt`), a random forest (`forest`) or an `ensemble`.
    #[serde(default)]
    pub model: ModelKind,
    /// The feature sets a tree model reads, concatenated (`crate::features`); the transformer reads
    /// the ReNAS tensor only. Default: `[renas]` for `gbdt`, `[graph]` for `forest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<FeatureSet>>,
    /// The trees' settings (`model: gbdt`); defaults where absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gbdt: Option<GbdtConfig>,
    /// The forest's settings (`model: forest`); defaults where absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forest: Option<ForestConfig>,
    /// The ranking network's settings (`model: mlp`); defaults where absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlp: Option<crate::predictor::mlp::MlpConfig>,
    /// The members (`model: ensemble`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<EnsembleConfig>,
}

fn default_seed() -> u64 {
    77_777_777
}

/// The text of a space's reference configuration, as compiled into the binary.
fn reference_text(space: SpaceKind) -> &'static str {
    crate::with_space!(space, S => <S as crate::benchmark::Benchmark>::REFERENCE_CONFIG)
}

/// NAR's names of the spaces in its configuration files.
mod nar_space_name {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::space::SpaceKind;

    pub fn serialize<S: Serializer>(space: &SpaceKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(crate::with_space!(*space, S => <S as crate::benchmark::Benchmark>::NAR_NAME))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SpaceKind, D::Error> {
        let name = String::deserialize(d)?;
        // NAR's name, or nar's own.
        let nar_name = |k: SpaceKind| crate::with_space!(k, S => <S as crate::benchmark::Benchmark>::NAR_NAME);
        SpaceKind::EVERY.into_iter().find(|&k| nar_name(k) == name || k.name() == name).ok_or_else(|| {
            let expected: Vec<String> = SpaceKind::ALL.iter().map(|&k| format!("{:?} ({k})", nar_name(k))).collect();
            D::Error::custom(format!(
                "unknown space {name:?}: expected {} or \"declared\" (a space declared in a file)",
                expected.join(", ")
            ))
        })
    }
}

impl Config {
    /// Reads a YAML configuration, naming the file and the field in errors.
    pub fn load(path: &Path) -> Result<Config> {
        let text = crate::io::read_to_string_capped(path, 1 << 20, "a configuration")?;
        Config::parse(&text).with_context(|| format!("{}", path.display()))
    }

    /// Parses YAML text and checks the sizes fit together.
    ///
    /// A configuration of a model other than the transformer needs only the keys that model uses
    /// (space, seed, network, split sizes, its block): the transformer's keys it leaves out are taken
    /// from the space's reference configuration, so that the run directory's configuration stays
    /// complete. A key already present under one of its names (`batch_size` / `train_batch_size`) is
    /// not added again.
    pub fn parse(text: &str) -> Result<Config> {
        let mut value: serde_yaml::Value = serde_yaml::from_str(text).context("invalid configuration")?;
        let mut merged = None;
        if let Some(map) = value.as_mapping_mut()
            && map.get("model").and_then(|m| m.as_str()).is_some_and(|m| m != "transformer")
        {
            let space: SpaceKind = match map.get("space") {
                Some(s) => nar_space_name::deserialize(s.clone()).context("invalid configuration: space")?,
                None => bail!("invalid configuration: missing field `space`"),
            };
            let reference: serde_yaml::Value = serde_yaml::from_str(reference_text(space))?;
            let aliases: &[&[&str]] = &[&["batch_size", "train_batch_size"]];
            for (k, v) in reference.as_mapping().expect("the reference configurations are mappings") {
                let names: &[&str] = match k.as_str() {
                    Some(name) => aliases.iter().copied().find(|a| a.contains(&name)).unwrap_or(&[]),
                    None => &[],
                };
                let present = map.contains_key(k) || names.iter().any(|n| map.contains_key(*n));
                if !present {
                    map.insert(k.clone(), v.clone());
                }
            }
            merged = Some(serde_yaml::to_string(&value)?);
        }
        // From text, so that errors name the field (`train_batch_size: invalid type: …`).
        let mut c: Config = serde_yaml::from_str(merged.as_deref().unwrap_or(text)).context("invalid configuration")?;
        c.fit_to_space();
        c.check()?;
        Ok(c)
    }

    /// Checks that the sizes fit together and the space and network agree.
    pub fn check(&self) -> Result<()> {
        let r = &self.ranker;
        if r.d_model != r.d_patch_vec {
            bail!("ranker.d_model ({}) must equal ranker.d_patch_vec ({})", r.d_model, r.d_patch_vec);
        }
        if r.n_tier < 2 || r.n_head == 0 || r.n_layers == 0 || r.n_arch_patch == 0 {
            bail!("ranker: n_tier ≥ 2, n_head ≥ 1, n_layers ≥ 1 and n_arch_patch ≥ 1 are required");
        }
        if r.n_arch_patch > r.n_position {
            bail!("ranker.n_arch_patch ({}) exceeds n_position ({})", r.n_arch_patch, r.n_position);
        }
        if !(0.0..1.0).contains(&r.dropout) {
            bail!("ranker.dropout must be in [0, 1), found {}", r.dropout);
        }
        // The transformer chooses its checkpoint by validation tier accuracy: it needs a validation set
        // of at least one architecture per tier (a tree model fits on both splits and needs none).
        if self.model.holds_out_validation() && self.val_size < r.n_tier {
            bail!(
                "val_size must be at least n_tier ({}) for the transformer, which chooses its checkpoint on the validation architectures; found {}",
                r.n_tier,
                self.val_size
            );
        }
        if self.model.holds_out_validation() && self.val_batch() > self.val_size {
            bail!(
                "val_batch_size ({}) is larger than val_size ({}): no validation batch would run",
                self.val_batch(),
                self.val_size
            );
        }
        if self.train_batch_size < r.n_tier {
            bail!("the batch size ({}) must be at least n_tier ({})", self.train_batch_size, r.n_tier);
        }
        // The space must have the task (read in its own spelling: NB201's `cifar10-valid` is `cifar10`).
        // (A declared space's tasks are known once its declaration is: from --space, a dataset or a run's.)
        if let Some(task) = self.network_type
            && crate::spaces::is_known(self.space)
            && let Err(e) = crate::spaces::task(self.space, task.name())
        {
            bail!("invalid configuration: network_type: {e}");
        }
        // A space without a cost model (a declared one) has no ReNAS tensor: no transformer, no `renas`
        // or `cost` columns.
        if !crate::with_space!(self.space, S => <S as crate::space::SearchSpace>::has_cost_model()) {
            self.check_without_cost_model()?;
        }
        // The feature tensor of the space fixes the patches (docs/design.md §4).
        let known = crate::spaces::is_known(self.space);
        let (patches, dim) = match known {
            true => crate::with_space!(self.space, S => <S as crate::benchmark::Benchmark>::feature_shape()),
            false => (r.n_arch_patch, r.d_patch),
        };
        if self.uses_transformer() && (r.n_arch_patch, r.d_patch) != (patches, dim) {
            bail!(
                "ranker.n_arch_patch and ranker.d_patch must be {patches} and {dim} for {} (its feature tensor is {patches}×{dim}×{dim}), found {} and {}",
                self.space,
                r.n_arch_patch,
                r.d_patch
            );
        }
        // Sizes that allocate: at least 1, and bounded so that a typo cannot ask for tens of gigabytes.
        for (name, v, max) in [
            ("ranker.d_model", r.d_model, 4096),
            ("ranker.d_ffn_inner", r.d_ffn_inner, 16_384),
            ("ranker.d_tier_prj_inner", r.d_tier_prj_inner, 16_384),
            ("ranker.d_val_acc_prj_inner", r.d_val_acc_prj_inner, 16_384),
            ("ranker.n_layers", r.n_layers, 64),
            ("ranker.n_head", r.n_head, 64),
            ("ranker.d_k", r.d_k, 1024),
            ("ranker.d_v", r.d_v, 1024),
            ("ranker.n_position", r.n_position, 4096),
            ("train_batch_size", self.train_batch_size, 65_536),
            ("val_batch_size", self.val_batch(), 65_536),
            ("bins", self.bins, 1024),
            ("ranker_epochs", self.ranker_epochs, 100_000),
        ] {
            if v == 0 || v > max {
                bail!("{name} must be between 1 and {max}, found {v}");
            }
        }
        let o = &self.optimizer;
        for (name, v, ok) in [
            ("optimizer.beta1", o.beta1, (0.0..1.0).contains(&o.beta1)),
            ("optimizer.beta2", o.beta2, (0.0..1.0).contains(&o.beta2)),
            ("optimizer.eps", o.eps, o.eps.is_finite() && o.eps > 0.0),
            ("optimizer.weight_decay", o.weight_decay, o.weight_decay.is_finite() && o.weight_decay >= 0.0),
            (
                "lr_scheduler.lr_mul",
                self.lr_scheduler.lr_mul,
                self.lr_scheduler.lr_mul.is_finite() && self.lr_scheduler.lr_mul > 0.0,
            ),
            ("loss_factor", self.loss_factor, self.loss_factor.is_finite() && self.loss_factor >= 0.0),
        ] {
            if !ok {
                bail!("{name} is out of range: {v}");
            }
        }
        crate::predictor::check_model_blocks(
            self.model,
            self.features.as_deref(),
            &self.gbdt,
            &self.forest,
            &self.mlp,
            "",
        )?;
        match (self.model, &self.ensemble) {
            (ModelKind::Ensemble, Some(e)) => e.check()?,
            (ModelKind::Ensemble, None) => bail!("model: ensemble needs an `ensemble:` block with its members"),
            (_, Some(_)) => bail!("ensemble: only read with model: ensemble, found model: {}", self.model.name()),
            (_, None) => {}
        }
        if self.lr_scheduler.n_warmup_steps == 0 {
            bail!("lr_scheduler.n_warmup_steps must be at least 1");
        }
        Ok(())
    }

    /// Sets what the space fixes where the file cannot know it: a declared space's generic tensor is
    /// its declaration's (its ops and largest graph), so the transformer's patches are set from it,
    /// whatever the file says (once the declaration is known: `nar train` calls this again after it
    /// opens a declared space's dataset).
    pub fn fit_to_space(&mut self) {
        if !crate::with_space!(self.space, S => <S as crate::space::SearchSpace>::has_cost_model())
            && crate::spaces::is_known(self.space)
        {
            let (patches, dim) =
                crate::with_space!(self.space, S => <S as crate::benchmark::Benchmark>::feature_shape());
            self.ranker.n_arch_patch = patches;
            self.ranker.d_patch = dim;
        }
    }

    /// Whether the predictor is or holds NAR's transformer.
    fn uses_transformer(&self) -> bool {
        match (&self.model, &self.ensemble) {
            (ModelKind::Ensemble, Some(e)) => e.members.iter().any(|m| m.model == ModelKind::Transformer),
            (m, _) => *m == ModelKind::Transformer,
        }
    }

    /// The feature sets the predictor's tree models read (their defaults where unnamed).
    fn feature_sets(&self) -> Vec<FeatureSet> {
        let own = |model: ModelKind, features: &Option<Vec<FeatureSet>>| match model {
            ModelKind::Transformer | ModelKind::Ensemble => Vec::new(),
            _ => features.clone().unwrap_or_else(|| model.default_features()),
        };
        match (&self.model, &self.ensemble) {
            (ModelKind::Ensemble, Some(e)) => e.members.iter().flat_map(|m| own(m.model, &m.features)).collect(),
            (m, _) => own(*m, &self.features),
        }
    }

    /// Refuses what reads a cost model on a space that has none (a declared space: the `cost` feature
    /// set), and what reads the operation graph (`graph`, `paths`, and the generic tensor: `renas`, the
    /// transformer) where its graphs are larger than it takes.
    fn check_without_cost_model(&self) -> Result<()> {
        let sets = self.feature_sets();
        if sets.contains(&FeatureSet::Cost) {
            bail!(
                "features: cost reads the cost model, which a declared space does not have (its feature sets: onehot, graph, paths, renas — its generic tensor)"
            );
        }
        if sets.contains(&FeatureSet::Proxies) {
            bail!(
                "features: proxies reads the zero-cost proxy table nar ships for nb201 and nb101; a declared space has none (its feature sets: onehot, graph, paths, renas — its generic tensor)"
            );
        }
        if (self.uses_transformer()
            || sets.iter().any(|s| matches!(s, FeatureSet::Graph | FeatureSet::Paths | FeatureSet::Renas)))
            && crate::spaces::declared::plugin::active().is_some()
            && let Err(e) = crate::spaces::declared::plugin::graph_features_fit()
        {
            bail!("features: {e}");
        }
        Ok(())
    }

    /// Sets the query budget: `budget` labelled architectures for training and validation together,
    /// split in the configuration's train/validation proportion (batch sizes shrink to fit).
    pub fn set_budget(&mut self, budget: usize) -> Result<()> {
        let n_tier = self.ranker.n_tier;
        if budget < 2 * n_tier {
            bail!(
                "a budget of {budget} is too small: training and validation need at least {} architectures",
                2 * n_tier
            );
        }
        let total = self.train_size + self.val_size;
        let train = ((budget as f64) * self.train_size as f64 / total as f64).round() as usize;
        self.train_size = train.clamp(n_tier, budget - n_tier);
        self.val_size = budget - self.train_size;
        self.train_batch_size = self.train_batch_size.min(self.train_size);
        self.val_batch_size = Some(self.val_batch().min(self.val_size));
        Ok(())
    }

    /// The task of the run (`network_type` in the space's own spelling; the space's first task when
    /// absent).
    pub fn task(&self) -> Task {
        match self.network_type {
            Some(t) => crate::spaces::task(self.space, t.name()).unwrap_or(t),
            None => crate::spaces::tasks(self.space)[0],
        }
    }

    /// The reference configuration of a space (`configs/nb101.yaml`, `configs/nb201.yaml`), as
    /// compiled into the binary.
    pub fn reference(space: SpaceKind) -> Config {
        Config::parse(reference_text(space)).expect("the reference configurations are valid")
    }

    /// The feature sets of a tree model (`features:`, or the model's default).
    pub fn features(&self) -> Vec<FeatureSet> {
        self.features.clone().unwrap_or_else(|| self.model.default_features())
    }

    pub fn val_batch(&self) -> usize {
        self.val_batch_size.unwrap_or(self.train_batch_size)
    }

    /// What the transformer's training reads of this configuration.
    pub fn transformer(&self) -> TransformerConfig {
        TransformerConfig {
            ranker: self.ranker.clone(),
            optimizer: self.optimizer.clone(),
            lr_scheduler: self.lr_scheduler.clone(),
            train_batch_size: self.train_batch_size,
            val_batch_size: self.val_batch(),
            ranker_epochs: self.ranker_epochs,
            bins: self.bins,
            aux_loss: self.aux_loss,
            loss_factor: self.loss_factor,
        }
    }

    /// The predictor this configuration fits, with its own settings (checked first).
    pub fn predictor(&self) -> Result<PredictorSpec> {
        self.check()?;
        Ok(self.spec())
    }

    fn spec(&self) -> PredictorSpec {
        match self.model {
            ModelKind::Transformer => PredictorSpec::Transformer { settings: self.transformer(), seed: self.seed },
            ModelKind::Gbdt | ModelKind::Forest | ModelKind::Mlp => PredictorSpec::Table {
                kind: self.model,
                features: self.features(),
                gbdt: self.gbdt.clone(),
                forest: self.forest.clone(),
                mlp: self.mlp.clone(),
            },
            ModelKind::Ensemble => PredictorSpec::Ensemble {
                members: self
                    .ensemble
                    .iter()
                    .flat_map(|e| &e.members)
                    .map(|m| (member_config(self, m).spec(), m.weight))
                    .collect(),
            },
        }
    }
}

/// An ensemble member's own configuration: the ensemble's, with the member's model, features and block
/// (a transformer member takes the configuration's transformer settings).
fn member_config(cfg: &Config, m: &MemberConfig) -> Config {
    Config {
        model: m.model,
        features: m.features.clone(),
        gbdt: m.gbdt.clone(),
        forest: m.forest.clone(),
        mlp: m.mlp.clone(),
        ensemble: None,
        ..cfg.clone()
    }
}

/// The predictors known by name: `reference`, `improved` (the transformer), `gbdt` (trees on the
/// ReNAS tensor), `forest` (a forest on the graph features), `mlp` (one ranking network), `best` (nar's
/// recommended predictor), and `forest-SET` / `gbdt-SET` / `mlp-SET` (that model on one feature set).
pub fn named_list() -> Vec<String> {
    let mut v = vec!["reference".to_string()];
    for space in SpaceKind::ALL {
        for (name, _) in crate::with_space!(space, S => <S as crate::benchmark::Benchmark>::NAMED_CONFIGS) {
            if !v.iter().any(|n| n == name) {
                v.push(name.to_string());
            }
        }
    }
    for model in ["forest", "gbdt", "mlp"] {
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
    let own = crate::with_space!(space, S => <S as crate::benchmark::Benchmark>::NAMED_CONFIGS);
    if let Some((_, text)) = own.iter().find(|(m, _)| *m == name) {
        return Some(parse(text));
    }
    let (model, set) = name.split_once('-')?;
    let set: FeatureSet = set.parse().ok()?;
    let mut cfg = named(model, space)?;
    if !matches!(cfg.model, ModelKind::Forest | ModelKind::Gbdt | ModelKind::Mlp) {
        return None;
    }
    cfg.features = Some(vec![set]);
    Some(cfg)
}

/// A predictor the study trains: a name and, per space, a configuration.
///
/// Built-in names: `reference`, `improved` (the transformer), `gbdt` (trees on the ReNAS tensor, the
/// first tree baseline), `forest` (a forest on the graph features, as GRAF pairs them), `mlp` (one ranking
/// network), `best` (nar's recommended predictor), and for the feature ablation `forest-SET` / `gbdt-SET` /
/// `mlp-SET` (that model on one feature set: `renas`, `onehot`, `graph`, `paths`, `cost`, `proxies`). Any
/// other name comes with its own configuration (`--config NAME=FILE`).
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

/// A run's configuration (`config.yaml`).
impl crate::run_dir::RunDir {
    pub fn read_config(&self) -> Result<Config> {
        Config::load(&self.config_path())
    }

    pub fn write_config(&self, cfg: &Config) -> Result<()> {
        let yaml = serde_yaml::to_string(cfg)?;
        crate::io::write_atomic(&self.config_path(), |w| Ok(std::io::Write::write_all(w, yaml.as_bytes())?))
    }
}
