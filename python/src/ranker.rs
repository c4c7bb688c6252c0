//! `nar.SavedPredictor` (`nar.Ranker` before): a saved predictor (a `nar train` run, or a `nar.Predictor` saved with `.save`) scoring
//! the architectures a script gives it.

use std::path::PathBuf;

use nar::features::Featurize;
use nar::pipeline::loaded::LoadedPredictor as Predictor;
use nar::ranker::checkpoint::Checkpoint;
use numpy::{IntoPyArray, PyArray1, PyArrayDyn, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arch::archs_from;
use crate::errors::{PyProgress, value_error};

/// A saved predictor, whatever its model: the predictor of a `nar train` / `nar run` directory (the
/// `best` checkpoint of a transformer unless told otherwise) or a folder written by
/// `nar.Predictor.save`. Python calls it `nar.SavedPredictor` (`nar.load(path)` reads one); `nar.Ranker`
/// is its earlier name, kept for scripts.
#[pyclass(frozen, module = "nar", name = "SavedPredictor")]
pub struct SavedPredictor {
    p: Predictor,
}

fn checkpoint(name: &str) -> PyResult<Checkpoint> {
    match name {
        "best" => Ok(Checkpoint::Best),
        "last" => Ok(Checkpoint::Last),
        other => Err(PyValueError::new_err(format!("checkpoint is \"best\" or \"last\", not {other:?}"))),
    }
}

/// What a ranker computes over architectures of its space, whichever space that is.
trait Over {
    type Out: Send;
    fn run<S: Featurize>(&self, p: &Predictor, archs: &[S::Arch], progress: &PyProgress) -> anyhow::Result<Self::Out>;
}

/// The predicted scores.
struct Scores;
impl Over for Scores {
    type Out = Vec<f64>;
    fn run<S: Featurize>(&self, p: &Predictor, archs: &[S::Arch], progress: &PyProgress) -> anyhow::Result<Vec<f64>> {
        p.scores::<S>(archs, progress)
    }
}

/// The predicted tiers.
struct Tiers;
impl Over for Tiers {
    type Out = Vec<usize>;
    fn run<S: Featurize>(&self, p: &Predictor, archs: &[S::Arch], progress: &PyProgress) -> anyhow::Result<Vec<usize>> {
        p.tiers::<S>(archs, progress)
    }
}

impl SavedPredictor {
    /// Runs `what` over the architectures of the run's space without the GIL; Ctrl-C stops it.
    fn run<O: Over + Sync>(&self, py: Python<'_>, archs: &Bound<'_, PyAny>, what: O) -> PyResult<O::Out> {
        let progress = PyProgress::default();
        let r = nar::with_space!(self.p.space(), S => {
            let a = archs_from::<S>(archs)?;
            py.detach(|| what.run::<S>(&self.p, &a, &progress))
        });
        r.map_err(|e| progress.error(e))
    }
}

#[pymethods]
impl SavedPredictor {
    /// Loads the predictor saved in `run_dir` (a run directory, or a folder `Predictor.save` wrote);
    /// `checkpoint` is `"best"` or `"last"` (a transformer's checkpoints).
    #[staticmethod]
    #[pyo3(signature = (run_dir, checkpoint = "best"))]
    fn load(py: Python<'_>, run_dir: PathBuf, checkpoint: &str) -> PyResult<SavedPredictor> {
        let which = self::checkpoint(checkpoint)?;
        let p = py.detach(|| Predictor::load(&run_dir, which)).map_err(value_error)?;
        Ok(SavedPredictor { p })
    }

    /// `"nb101"` or `"nb201"`: the space of the run.
    #[getter]
    fn space(&self) -> &'static str {
        self.p.space().name()
    }

    /// The task of the run's network (the built-in spaces' tasks are image data sets: `cifar10`,
    /// `cifar100`, `imagenet16`).
    #[getter]
    fn task(&self) -> &'static str {
        self.p.task.name()
    }

    /// The old name of [`task`](Self::task).
    #[getter]
    fn dataset(&self) -> &'static str {
        self.p.task.name()
    }

    /// `"transformer"`, `"gbdt"`, `"forest"`, `"mlp"` or `"ensemble"`: the predictor's model.
    #[getter]
    fn model(&self) -> &'static str {
        self.p.cfg.model.name()
    }

    /// Predicted accuracy scores (float64; higher is better) of `archs`: architecture objects, or for
    /// NB201 strings and indices. The transformer runs its encoder and accuracy head only; all without
    /// the GIL.
    fn predict<'py>(&self, py: Python<'py>, archs: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let s = self.run(py, archs, Scores)?;
        Ok(s.into_pyarray(py))
    }

    /// Predicted quality tiers (int64; 1 = best) of `archs`: the whole model, with the run's tier
    /// embeddings (the mean encoder output of its training architectures per tier).
    fn predict_tiers<'py>(&self, py: Python<'py>, archs: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let t = self.run(py, archs, Tiers)?;
        Ok(t.into_iter().map(|t| t as i64).collect::<Vec<_>>().into_pyarray(py))
    }

    /// The weights and buffers as a dict of float32 numpy arrays under the reference PyTorch model's
    /// names and shapes, the two positional tables included, so that a strict
    /// `model.load_state_dict({k: torch.from_numpy(v) for k, v in r.state_dict().items()})` loads.
    fn state_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let model = nar::pipeline::transformer(self.p.model.as_ref(), &self.p.cfg).map_err(value_error)?;
        let d = PyDict::new(py);
        for (name, shape, values) in nar::ranker::checkpoint::state_dict(model) {
            let a: Bound<'py, PyArrayDyn<f32>> = values.to_vec().into_pyarray(py).reshape(shape)?;
            d.set_item(name, a)?;
        }
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "<nar.SavedPredictor {} {} {} from {}>",
            self.p.cfg.model.name(),
            self.space(),
            self.dataset(),
            self.p.root.display()
        )
    }
}
