//! `nar.train` and `nar.search`: the library's training run and budgeted search, without the GIL.

use std::path::PathBuf;

use nar::data::{DataSource, Dataset as SpaceData, default_data_dir};
use nar::features::Featurize;
use nar::pipeline::train::{TrainOptions, train as train_run};
use nar::ranker::config::Config;
use nar::sampler::Propose;
use nar::search::budgeted::{Method, Setup, run_method};
use nar::search::domain::{Constraint, Domain, Equivalence};
use nar::search::guided::GuidedSettings;
use nar::search::inputs::FeatureCache;
use nar::search::oracle::Evaluator;
use nar::space::{Enumerable, Nb101, Nb201, SpaceKind};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::arch::{PySpace, image_dataset};
use crate::dataset::Dataset;
use crate::errors::PyProgress;

/// Trains the ranker into a new run directory `out` and returns a summary dict.
///
/// `config` is a YAML file (NAR's config files load as they are) or `"nb101"` / `"nb201"` for the
/// reference configurations; `dataset` a `nar.Dataset`, a `.nar` path or a space name. The keywords
/// override the configuration: `image_dataset` (`cifar10`, `cifar100`, `imagenet16`), `epochs`, and
/// `budget` (labelled architectures training and validation see together); `force` replaces a run
/// already in `out` (a non-empty `out` is refused otherwise). Progress goes to standard
/// error; Ctrl-C stops after the current epoch (its checkpoint is kept: `nar train --resume`).
#[pyfunction]
#[pyo3(signature = (config, dataset, out, *, image_dataset = None, epochs = None, budget = None, force = false))]
#[allow(clippy::too_many_arguments)] // the Python signature
pub fn train<'py>(
    py: Python<'py>,
    config: &str,
    dataset: &Bound<'py, PyAny>,
    out: PathBuf,
    image_dataset: Option<&str>,
    epochs: Option<&Bound<'py, PyAny>>,
    budget: Option<&Bound<'py, PyAny>>,
    force: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let epochs: Option<usize> = epochs.map(|e| crate::errors::natural(e, "epochs")).transpose()?;
    let budget: Option<usize> = budget.map(|b| crate::errors::natural(b, "budget")).transpose()?;
    let config = match SpaceKind::from_name(config) {
        Some(space) => Config::reference(space),
        None => Config::load(std::path::Path::new(config)).map_err(crate::errors::value_error)?,
    };
    let data = match dataset.extract::<PyRef<'_, Dataset>>() {
        Ok(d) => d.source.clone(),
        Err(_) => {
            let arg: String = dataset
                .extract()
                .map_err(|_| PyValueError::new_err("dataset is a nar.Dataset, a .nar path or a space name"))?;
            DataSource::from_arg(&arg, &default_data_dir()).map_err(crate::errors::value_error)?
        }
    };
    let network = image_dataset.map(self::image_dataset).transpose()?;
    let opts = TrainOptions { config, data, out, network, epochs, budget, replace: force };
    let progress = PyProgress::default();
    let s = py.detach(|| train_run(&opts, &progress)).map_err(|e| progress.error(e))?;
    let d = PyDict::new(py);
    d.set_item("run_dir", s.run.root().to_path_buf())?;
    d.set_item("epochs", s.fit.epochs_done)?;
    d.set_item("best_epoch", s.fit.best_epoch)?;
    d.set_item("best_val_tier_acc", s.fit.best_val_acc.unwrap_or(f64::NAN))?;
    d.set_item("fit_kendall", s.fit.fit_kendall)?;
    d.set_item("seconds", s.seconds)?;
    Ok(d)
}

/// Answers a search's queries by calling the user's Python function on the architecture.
struct PyOracle<'a, S: PySpace> {
    ds: &'a SpaceData<S>,
    oracle: &'a Py<PyAny>,
    /// The Python exception the oracle raised (or Ctrl-C), raised again when the search returns.
    raised: Option<PyErr>,
}

impl<S: PySpace> Evaluator for PyOracle<'_, S> {
    fn evaluate(&mut self, position: usize) -> anyhow::Result<f64> {
        let arch = self.ds.archs()[position];
        let r = Python::attach(|py| -> PyResult<f64> {
            py.check_signals()?;
            let v = self.oracle.call1(py, (S::to_py(py, &arch)?,))?;
            if v.bind(py).is_instance_of::<pyo3::types::PyBool>() {
                return Err(PyValueError::new_err(format!(
                    "the oracle returned {} for {}, not an accuracy (a bool is not a number here)",
                    v.bind(py).repr().map_or("?".into(), |r| r.to_string()),
                    S::id(&arch)
                )));
            }
            let acc: f64 = v.extract(py).map_err(|_| {
                PyValueError::new_err(format!(
                    "the oracle returned {} for {}, not a number",
                    v.bind(py).repr().map_or("?".into(), |r| r.to_string()),
                    S::id(&arch)
                ))
            })?;
            if !(acc.is_finite() && (0.0..=100.0).contains(&acc)) {
                return Err(PyValueError::new_err(format!(
                    "the oracle returned {acc} for {}: an accuracy is a number from 0 to 100",
                    S::id(&arch)
                )));
            }
            Ok(acc)
        });
        r.map_err(|e| {
            let msg = Python::attach(|py| e.value(py).to_string());
            self.raised = Some(e);
            anyhow::anyhow!("the oracle failed: {msg}")
        })
    }
}

/// What `nar.search` was asked for, besides the space and the oracle.
struct SearchArgs {
    budget: usize,
    method: Method,
    seed: u64,
    image: nar::space::nb201::ImageDataset,
    batch: Option<usize>,
    constraint: Constraint,
    equivalence: Equivalence,
    predictor: Option<String>,
}

fn search_in<'py, S: PySpace + Propose + Featurize + Enumerable>(
    py: Python<'py>,
    oracle: &Py<PyAny>,
    a: &SearchArgs,
) -> PyResult<Bound<'py, PyDict>> {
    let (budget, method, seed) = (a.budget, a.method, a.seed);
    let network = S::network(a.image).map_err(PyValueError::new_err)?;
    let ds = py.detach(SpaceData::<S>::full);
    let domain = Domain::all(&ds)
        .constrained(a.constraint, network)
        .map_err(crate::errors::value_error)?
        .with_equivalence(a.equivalence);
    let mut settings = GuidedSettings::for_space(S::KIND);
    if let Some(p) = &a.predictor {
        settings.apply(&format!("predictor={p}")).map_err(crate::errors::value_error)?;
    }
    let features = FeatureCache::new(ds.archs(), network);
    let setup = Setup { domain: &domain, features: &features, network, budget, batch: a.batch, guided: &settings };
    let mut eval = PyOracle { ds: &ds, oracle, raised: None };
    let history = py.detach(|| run_method(method, &setup, &mut eval, seed));
    let history = match (history, eval.raised.take()) {
        (_, Some(e)) => return Err(e),
        (Err(e), None) => return Err(crate::errors::value_error(e)),
        (Ok(h), None) => h,
    };
    let list = PyList::empty(py);
    for &(p, v) in &history {
        list.append((S::to_py(py, &ds.archs()[p])?, v))?;
    }
    let best = history.iter().copied().fold(None, |b: Option<(usize, f64)>, (p, v)| match b {
        Some((_, bv)) if v <= bv => b,
        _ => Some((p, v)),
    });
    let d = PyDict::new(py);
    d.set_item("space", S::KIND.name())?;
    d.set_item("method", method.name())?;
    d.set_item("seed", seed)?;
    d.set_item("budget", budget)?;
    d.set_item("queries", history.len())?;
    d.set_item("pick", best.map(|(p, _)| S::to_py(py, &ds.archs()[p])).transpose()?)?;
    d.set_item("accuracy", best.map(|(_, v)| v))?;
    d.set_item("history", list)?;
    Ok(d)
}

/// Searches `space` (`"nb201"` or `"nb101"`) for the architecture with the best validation accuracy,
/// asking `oracle(arch) -> float` (your own training, or a benchmark lookup) for at most `budget`
/// distinct architectures.
///
/// `method`: `"nar"` (nar's guided search: a predictor — `predictor`, nar's `"best"` by default —
/// refitted on the answers so far picks the next queries), `"random"`, `"rea"` (regularized evolution)
/// or `"ls"` (local search). `seed` fixes every random choice; `dataset` is the image dataset whose
/// network the features and the cost model describe (NB201: `cifar10`, `cifar100`, `imagenet16`).
/// `batch` architectures are proposed at a time (default: one for the baselines, five for `nar`);
/// `max_params` / `max_flops` keep the search to networks within those bounds (nar's cost model);
/// `equivalence="canonical"` (the default) makes NB201 cells computing the same function one query,
/// `"none"` queries each cell on its own. The oracle is the only source of accuracies: it is called
/// once per distinct query (asking again is free) and never more than `budget` times.
///
/// Returns a dict: `pick` (the queried architecture with the best answer, the earliest on ties),
/// `accuracy` (its answer), `history` (every `(architecture, answer)` in query order), `queries`,
/// `space`, `method`, `seed`, `budget`. An exception raised by the oracle (Ctrl-C included) stops the
/// search and is raised again.
#[pyfunction]
#[pyo3(signature = (space, oracle, budget, method = "nar", seed = None, dataset = "cifar10", *, batch = None,
    max_params = None, max_flops = None, equivalence = "canonical", predictor = None))]
#[allow(clippy::too_many_arguments)] // the Python signature
pub fn search<'py>(
    py: Python<'py>,
    space: &str,
    oracle: Py<PyAny>,
    budget: &Bound<'py, PyAny>,
    method: &str,
    seed: Option<&Bound<'py, PyAny>>,
    dataset: &str,
    batch: Option<&Bound<'py, PyAny>>,
    max_params: Option<&Bound<'py, PyAny>>,
    max_flops: Option<&Bound<'py, PyAny>>,
    equivalence: &str,
    predictor: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let budget: usize = crate::errors::natural(budget, "budget")?;
    let seed: u64 = seed.map(|s| crate::errors::natural(s, "seed")).transpose()?.unwrap_or(0);
    let batch: Option<usize> = batch.map(|b| crate::errors::natural(b, "batch")).transpose()?;
    let max_params: Option<u64> = max_params.map(|b| crate::errors::natural(b, "max_params")).transpose()?;
    let max_flops: Option<u64> = max_flops.map(|b| crate::errors::natural(b, "max_flops")).transpose()?;
    if !oracle.bind(py).is_callable() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "oracle must be callable: oracle(arch) -> validation accuracy",
        ));
    }
    if budget == 0 {
        return Err(PyValueError::new_err("budget must be at least 1"));
    }
    if let Some(b) = batch
        && (b == 0 || b > budget)
    {
        return Err(PyValueError::new_err(format!("batch must be 1 to {budget} (the budget), got {b}")));
    }
    let equivalence = match equivalence {
        "canonical" => Equivalence::Canonical,
        "none" => Equivalence::None,
        other => return Err(PyValueError::new_err(format!("equivalence is \"canonical\" or \"none\", got {other:?}"))),
    };
    let m = Method::from_name(method)
        .ok_or_else(|| PyValueError::new_err(format!("unknown method {method:?} (expected nar, random, rea or ls)")))?;
    let image = image_dataset(dataset)?;
    let args = SearchArgs {
        budget,
        method: m,
        seed,
        image,
        batch,
        constraint: Constraint { max_params, max_flops },
        equivalence,
        predictor,
    };
    match SpaceKind::from_name(space) {
        Some(SpaceKind::Nb201) => search_in::<Nb201>(py, &oracle, &args),
        Some(SpaceKind::Nb101) => search_in::<Nb101>(py, &oracle, &args),
        None => Err(PyValueError::new_err(format!("unknown space {space:?} (expected nb101 or nb201)"))),
    }
}
