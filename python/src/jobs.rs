//! `nar.train` and `nar.search`: the library's training run and budgeted search, without the GIL.

use std::path::PathBuf;

use nar::config::Config;
use nar::data::{Dataset as SpaceData, default_data_dir};
use nar::features::Featurize;
use nar::pipeline::train::{TrainOptions, train as train_run};
use nar::sampler::Propose;
use nar::search::budgeted::{Method, Setup, run_method};
use nar::search::domain::{Constraint, Domain, Equivalence};
use nar::search::front;
use nar::search::guided::GuidedSettings;
use nar::search::inputs::FeatureCache;
use nar::space::{Enumerable, SpaceKind};
use nar::spaces::DataSource;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::arch::{PySpace, task_keyword};
use crate::dataset::Dataset;
use crate::errors::PyProgress;
use crate::oracle::{CallOptions, PyOracle};

/// Trains the ranker into a new run directory `out` and returns a summary dict.
///
/// `config` is a YAML file (NAR's config files load as they are) or `"nb101"` / `"nb201"` for the
/// reference configurations; `dataset` a `nar.Dataset`, a `.nar` path or a space name. The keywords
/// override the configuration: `task` (the built-in spaces' tasks are image data sets: NB201
/// `cifar10`, `cifar100`, `imagenet16`; `image_dataset=` is its old name), `epochs`, and
/// `budget` (labelled architectures training and validation see together); `force` replaces a run
/// already in `out` (a non-empty `out` is refused otherwise). Progress goes to standard
/// error; Ctrl-C stops after the current epoch (its checkpoint is kept: `nar train --resume`).
#[pyfunction]
#[pyo3(signature = (config, dataset, out, *, task = None, image_dataset = None, epochs = None, budget = None,
    force = false))]
#[allow(clippy::too_many_arguments)] // the Python signature
pub fn train<'py>(
    py: Python<'py>,
    config: &str,
    dataset: &Bound<'py, PyAny>,
    out: PathBuf,
    task: Option<&str>,
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
    let task = task_keyword(config.space, task, image_dataset.map(|d| ("image_dataset", d)))?;
    let opts = TrainOptions { config, data, out, task, epochs, budget, replace: force };
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

/// What `nar.search` was asked for, besides the space and the oracle.
struct SearchArgs {
    budget: usize,
    method: Method,
    seed: u64,
    /// The task, as given under its name and its old name (`None`: the space's first).
    task: Option<String>,
    dataset: Option<String>,
    batch: Option<usize>,
    constraint: Constraint,
    equivalence: Equivalence,
    predictor: Option<String>,
    journal: Option<(PathBuf, bool)>,
    /// `val` and the costs to weigh it against (empty: validation accuracy alone).
    objectives: Vec<String>,
}

fn search_in<'py, S: PySpace + Propose + Featurize + Enumerable>(
    py: Python<'py>,
    oracle: &Py<PyAny>,
    a: &SearchArgs,
    calls: CallOptions,
) -> PyResult<Bound<'py, PyDict>> {
    let (budget, method, seed) = (a.budget, a.method, a.seed);
    let alias = a.dataset.as_deref().map(|d| ("dataset", d));
    let task = task_keyword(S::KIND, a.task.as_deref(), alias)?.unwrap_or(S::tasks()[0]);
    let network = S::network(task).map_err(PyValueError::new_err)?;
    let ds = py.detach(SpaceData::<S>::full);
    let domain = Domain::all(&ds)
        .constrained(&a.constraint, network, None)
        .map_err(crate::errors::value_error)?
        .with_equivalence(a.equivalence);
    let mut settings = GuidedSettings::for_space(S::KIND);
    if let Some(p) = &a.predictor {
        settings.apply(&format!("predictor={p}")).map_err(crate::errors::value_error)?;
    }
    let features = FeatureCache::new(ds.archs(), network);
    let costs = match a.objectives.is_empty() {
        true => None,
        false => Some(
            front::objective_costs(&ds, &a.objectives, network, domain.positions()).map_err(PyValueError::new_err)?,
        ),
    };
    let setup = Setup {
        domain: &domain,
        features: &features,
        network,
        budget,
        batch: a.batch,
        guided: &settings,
        costs: costs.as_deref(),
    };
    let journal = a.journal.as_ref().map(|(p, reuse)| (p.as_path(), *reuse));
    let mut eval = PyOracle::new(py, &ds, oracle, calls, journal, task.name())?;
    let run = py.detach(|| run_method(method, &setup, &mut eval, seed));
    let raised = eval.raised.take();
    drop(eval);
    let run = match (run, raised) {
        (_, Some(e)) => return Err(e),
        (Err(e), None) => return Err(crate::errors::value_error(e)),
        (Ok(h), None) => h,
    };
    let list = PyList::empty(py);
    for &(p, v) in &run.answered {
        list.append((S::to_py(py, &ds.archs()[p])?, v))?;
    }
    let failed = PyList::empty(py);
    for (p, why) in &run.failed {
        failed.append((S::to_py(py, &ds.archs()[*p])?, why))?;
    }
    let best = run.answered.iter().copied().fold(None, |b: Option<(usize, f64)>, (p, v)| match b {
        Some((_, bv)) if v <= bv => b,
        _ => Some((p, v)),
    });
    let d = PyDict::new(py);
    d.set_item("space", S::KIND.name())?;
    d.set_item("method", method.name())?;
    d.set_item("seed", seed)?;
    d.set_item("budget", budget)?;
    d.set_item("queries", run.answered.len() + run.failed.len())?;
    d.set_item("pick", best.map(|(p, _)| S::to_py(py, &ds.archs()[p])).transpose()?)?;
    d.set_item("accuracy", best.map(|(_, v)| v))?;
    d.set_item("history", list)?;
    d.set_item("failed", failed)?;
    if let Some(c) = costs.as_deref() {
        // The front of the answers (each member's architecture, answer and costs by name) and the
        // hypervolume after each answer, in raw units against `reference`.
        let reference = front::raw_reference(c, domain.positions());
        let members = PyList::empty(py);
        for (p, v) in front::run_front(&run, c) {
            let named = PyDict::new(py);
            for (name, value) in a.objectives[1..].iter().zip(&c[p]) {
                named.set_item(name, value)?;
            }
            let m = PyDict::new(py);
            m.set_item("arch", S::to_py(py, &ds.archs()[p])?)?;
            m.set_item("accuracy", v)?;
            m.set_item("costs", named)?;
            members.append(m)?;
        }
        let hv: Vec<f64> = front::raw_measures(&run, c, &reference).iter().map(|m| m.hypervolume).collect();
        d.set_item("objectives", a.objectives.clone())?;
        d.set_item("front", members)?;
        d.set_item("hypervolume", hv)?;
        d.set_item("reference", reference)?;
    }
    Ok(d)
}

/// Searches `space` (`"nb201"` or `"nb101"`) for the architecture with the best validation accuracy,
/// asking `oracle(arch) -> float` (your own training, or a benchmark lookup) for at most `budget`
/// distinct architectures.
///
/// `method`: `"nar"` (nar's guided search: a predictor — `predictor`, nar's `"trees"` by default —
/// refitted on the answers so far picks the next queries), `"random"`, `"rea"` (regularized evolution)
/// or `"ls"` (local search). `seed` fixes every random choice; `task` is the task whose network the
/// features and the cost model describe (NB201: `cifar10`, `cifar100`, `imagenet16`; default the
/// space's first; `dataset=` is its old name).
/// `batch` architectures are proposed at a time (default: `parallel`; with one call at a time, one for
/// the baselines and rounds of 2 to 10 for `nar`); `max_params` / `max_flops` keep the search to networks
/// within those bounds (nar's cost model); `equivalence="canonical"` (the default) makes NB201 cells
/// computing the same function one query, `"none"` queries each cell on its own. The oracle is the only
/// source of accuracies: it is called once per distinct query (asking again is free) and never more
/// than `budget` times.
///
/// Many calls at once: `parallel=K` runs up to K calls at a time through `executor` (any
/// `concurrent.futures.Executor`: a `ThreadPoolExecutor`, a `ProcessPoolExecutor`, Dask's
/// `distributed.Client(...).get_executor()`, a `submitit.AutoExecutor` for Slurm; default K daemon
/// threads, `nar._calls.DaemonThreadExecutor`, so that a hung call cannot keep Python from exiting),
/// consumed as they complete. Random search, LS and `nar` wait for
/// each batch, so their queries depend only on the answers; REA keeps K children running (its queries
/// depend on which call ends first). `journal=PATH` appends every answer and failure as it arrives
/// (the format of `nar search --journal`; a rerun answers from it and calls only what is missing;
/// `journal_reuse=True` takes a journal of another oracle; the journal names the oracle by its module
/// and qualified name, a lambda by its file and line too, a `functools.partial` by its function and
/// arguments); `timeout=S` fails a call running longer (counted from the call's start, not its
/// submission; the future is cancelled, and a call already running in a thread goes on in the
/// background: a thread cannot be interrupted); `retries=R` calls a failed architecture
/// again up to R times. A call that raises an `Exception` (a lost Dask worker's `KilledWorker`
/// included), returns a `bool`, no number or one off [0, 100] fails: its query is spent, it is never
/// picked, and it is listed in `failed`; five failures before any answer stop the search
/// (`ValueError`). Ctrl-C stops submitting and cancels the running calls, or with
/// `on_interrupt="wait"` waits for them (journaling their answers; a second Ctrl-C cancels), then
/// raises `KeyboardInterrupt`.
///
/// Several objectives: `objectives=["val", "flops"]` (validation accuracy, maximised, then one or
/// more of nar's cost model's `flops` and `params`, minimised) weighs accuracy against cost; the
/// methods `"mo-nar"` (nar's guided search for the Pareto front), `"mo-rea"` (NSGA-II's selection in
/// regularized evolution) and `"mo-ls"` (Pareto local search) need it, the others search for
/// accuracy and their queries' front is reported as well.
///
/// Returns a dict: `pick` (the answered architecture with the best answer, the earliest on ties),
/// `accuracy` (its answer), `history` (every `(architecture, answer)` in query order), `failed` (every
/// `(architecture, reason)`), `queries` (answered and failed), `space`, `method`, `seed`, `budget`;
/// with objectives also `objectives`, `front` (the non-dominated answers: `{"arch", "accuracy",
/// "costs": {name: value}}`), `hypervolume` (the front's hypervolume after each answer, in raw units:
/// accuracy from 0, each cost from the space's largest) and `reference` (that point: 0, then each cost's
/// largest, as minimised).
#[pyfunction]
#[pyo3(signature = (space, oracle, budget, method = "nar", seed = None, task = None, *, dataset = None, batch = None,
    max_params = None, max_flops = None, equivalence = "canonical", predictor = None, parallel = None,
    executor = None, journal = None, journal_reuse = false, timeout = None, retries = None,
    on_interrupt = "cancel", objectives = None))]
#[allow(clippy::too_many_arguments)] // the Python signature
pub fn search<'py>(
    py: Python<'py>,
    space: &Bound<'py, PyAny>,
    oracle: Py<PyAny>,
    budget: &Bound<'py, PyAny>,
    method: &str,
    seed: Option<&Bound<'py, PyAny>>,
    task: Option<String>,
    dataset: Option<String>,
    batch: Option<&Bound<'py, PyAny>>,
    max_params: Option<&Bound<'py, PyAny>>,
    max_flops: Option<&Bound<'py, PyAny>>,
    equivalence: &str,
    predictor: Option<String>,
    parallel: Option<&Bound<'py, PyAny>>,
    executor: Option<Py<PyAny>>,
    journal: Option<PathBuf>,
    journal_reuse: bool,
    timeout: Option<f64>,
    retries: Option<&Bound<'py, PyAny>>,
    on_interrupt: &str,
    objectives: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let budget: usize = crate::errors::natural(budget, "budget")?;
    let seed: u64 = seed.map(|s| crate::errors::natural(s, "seed")).transpose()?.unwrap_or(0);
    let parallel: Option<usize> = parallel.map(|k| crate::errors::natural(k, "parallel")).transpose()?;
    // K calls at once propose K at a time by default, never more than the budget.
    let batch: Option<usize> =
        batch.map(|b| crate::errors::natural(b, "batch")).transpose()?.or(parallel.map(|k| k.min(budget.max(1))));
    let max_params: Option<u64> = max_params.map(|b| crate::errors::natural(b, "max_params")).transpose()?;
    let max_flops: Option<u64> = max_flops.map(|b| crate::errors::natural(b, "max_flops")).transpose()?;
    let retries: usize = retries.map(|r| crate::errors::natural(r, "retries")).transpose()?.unwrap_or(0);
    if !oracle.bind(py).is_callable() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "oracle must be callable: oracle(arch) -> validation accuracy",
        ));
    }
    if budget == 0 {
        return Err(PyValueError::new_err("budget must be at least 1"));
    }
    if parallel == Some(0) {
        return Err(PyValueError::new_err("parallel must be at least 1"));
    }
    if let Some(b) = batch
        && (b == 0 || b > budget)
    {
        return Err(PyValueError::new_err(format!("batch must be 1 to {budget} (the budget), got {b}")));
    }
    if let Some(ex) = &executor
        && !ex.bind(py).hasattr("submit")?
    {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "executor must be a concurrent.futures.Executor (it has no submit method)",
        ));
    }
    let wait_on_interrupt = match on_interrupt {
        "cancel" => false,
        "wait" => true,
        other => return Err(PyValueError::new_err(format!("on_interrupt is \"cancel\" or \"wait\", got {other:?}"))),
    };
    let timeout = timeout.map(crate::oracle::seconds).transpose()?;
    let equivalence = match equivalence {
        "canonical" => Equivalence::Canonical,
        "none" => Equivalence::None,
        other => return Err(PyValueError::new_err(format!("equivalence is \"canonical\" or \"none\", got {other:?}"))),
    };
    let m = Method::from_name(method).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown method {method:?} (expected nar, random, rea or ls; with objectives also mo-nar, mo-rea or mo-ls)"
        ))
    })?;
    let objectives: Vec<String> = match objectives {
        None => Vec::new(),
        Some(o) => {
            if o.is_instance_of::<pyo3::types::PyString>() {
                return Err(PyValueError::new_err(
                    "objectives is a list of names, validation accuracy first: [\"val\", \"flops\"]",
                ));
            }
            o.try_iter()?.map(|x| x?.extract::<String>()).collect::<PyResult<_>>()?
        }
    };
    if m.is_multi_objective() && objectives.is_empty() {
        return Err(PyValueError::new_err(format!(
            "{m} weighs accuracy against costs: give objectives=[\"val\", \"flops\"] (or params)"
        )));
    }
    let args = SearchArgs {
        budget,
        method: m,
        seed,
        task,
        dataset,
        batch,
        constraint: Constraint::model(max_params, max_flops),
        equivalence,
        predictor,
        journal: journal.map(|j| (j, journal_reuse)),
        objectives,
    };
    let calls = CallOptions { parallel: parallel.unwrap_or(1), executor, timeout, retries, wait_on_interrupt };
    nar::with_space!(space_kind(space)?, S => search_in::<S>(py, &oracle, &args, calls))
}

/// A `space` argument: a built-in space's name, or an `nar.Space` (its declaration becomes the
/// process's declared space; another one already in use is a `ValueError` naming both).
pub fn space_kind(space: &Bound<'_, PyAny>) -> PyResult<SpaceKind> {
    if let Ok(declared) = space.extract::<PyRef<'_, crate::space::Space>>() {
        nar::spaces::declared::plugin::activate(declared.space.clone()).map_err(PyValueError::new_err)?;
        return Ok(SpaceKind::Declared);
    }
    let name: String = space.extract().map_err(|_| {
        PyValueError::new_err(format!("space must be nb101, nb201 or an nar.Space, not {}", space.get_type()))
    })?;
    SpaceKind::from_name(&name)
        .ok_or_else(|| PyValueError::new_err(format!("unknown space {name:?} (expected nb101, nb201 or an nar.Space)")))
}
