//! `nar.Predictor`: any of nar's predictors, fitted on architectures and accuracies a script gives it
//! (for researchers who run their own loop), scored, and saved for `nar.load`.

use std::path::PathBuf;
use std::sync::Mutex;

use nar::config::Config;
use nar::config::Mode;
use nar::features::Featurize;
use nar::pipeline::loaded::{FittedMeta, save_fitted};
use nar::predictor::{ArchList, FitContext, Labelled, build};
use nar::space::{SpaceKind, Task};
use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::arch::{PySpace, archs_from, task_keyword};
use crate::errors::{PyProgress, value_error};

/// A predictor to fit and use in your own loop: a mode name (`"best"`, `"trees"`, `"mlp"`, `"forest"`, `"gbdt"`,
/// `"improved"`, `"reference"`, `"forest-graph"`, …) or a configuration file.
#[pyclass(frozen, module = "nar")]
pub struct Predictor {
    cfg: Config,
    task: Task,
    model: Mutex<Box<dyn nar::predictor::Predictor>>,
    /// How many labelled architectures the last fit used (`None` before the first).
    fitted: Mutex<Option<usize>>,
}

impl Predictor {
    fn fit_space<S: PySpace + Featurize>(
        &self,
        py: Python<'_>,
        archs: &Bound<'_, PyAny>,
        y: Vec<f64>,
        seed: u64,
    ) -> PyResult<()> {
        let a = archs_from::<S>(archs)?;
        let network = S::network(self.task).map_err(PyValueError::new_err)?;
        let mut cfg = self.cfg.clone();
        // The transformer's training / validation split in its configured proportion.
        let n_train = if cfg.model.holds_out_validation() {
            cfg.set_budget(y.len()).map_err(value_error)?;
            cfg.train_size
        } else {
            y.len()
        };
        let progress = PyProgress::default();
        let mut guard = self.model.lock().expect("the predictor's lock");
        let model: &mut dyn nar::predictor::Predictor = &mut **guard;
        let r = py.detach(|| {
            let x = ArchList::<S> { archs: &a, network };
            let ctx = FitContext { seed, progress: &progress, run: None, resume: false };
            model.fit(&Labelled { x: &x, y: &y, n_train }, &ctx)
        });
        r.map_err(|e| progress.error(e))?;
        *self.fitted.lock().expect("the predictor's lock") = Some(y.len());
        Ok(())
    }

    fn predict_space<S: PySpace + Featurize>(&self, py: Python<'_>, archs: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
        let a = archs_from::<S>(archs)?;
        let network = S::network(self.task).map_err(PyValueError::new_err)?;
        let progress = PyProgress::default();
        let guard = self.model.lock().expect("the predictor's lock");
        let model: &dyn nar::predictor::Predictor = &**guard;
        if self.fitted.lock().expect("the predictor's lock").is_none() {
            return Err(PyValueError::new_err("fit the predictor first (Predictor.fit(archs, accuracies))"));
        }
        let r = py.detach(|| model.scores(&ArchList::<S> { archs: &a, network }, &progress));
        r.map_err(|e| progress.error(e))
    }
}

#[pymethods]
impl Predictor {
    /// `mode` is a study mode (`"best"`, `"trees"`, `"mlp"`, `"forest"`, `"gbdt"`, `"improved"`, `"reference"`,
    /// `"forest-graph"`, …) or the path of a configuration file; `space` `"nb201"` or `"nb101"`;
    /// `task` the task whose network the cost features describe (the built-in spaces' tasks are image
    /// data sets: NB201 `cifar10`, `cifar100`, `imagenet16`; NB101 `cifar10`; default the space's
    /// first); `dataset=` is its old name.
    #[new]
    #[pyo3(signature = (mode = "best", *, space = None, task = None, dataset = None))]
    fn new(
        mode: &str,
        space: Option<&Bound<'_, PyAny>>,
        task: Option<&str>,
        dataset: Option<&str>,
    ) -> PyResult<Predictor> {
        let space = space.map_or(Ok(SpaceKind::Nb201), crate::jobs::space_kind)?;
        let task =
            task_keyword(space, task, dataset.map(|d| ("dataset", d)))?.unwrap_or_else(|| nar::spaces::tasks(space)[0]);
        let cfg = match Mode::new(mode).config(space) {
            Some(c) => c,
            None if std::path::Path::new(mode).is_file() => {
                Config::load(std::path::Path::new(mode)).map_err(value_error)?
            }
            // A path (it names a folder or a YAML file) that does not exist is a missing file.
            None if mode.contains(std::path::MAIN_SEPARATOR) || mode.ends_with(".yaml") || mode.ends_with(".yml") => {
                return Err(pyo3::exceptions::PyFileNotFoundError::new_err(format!(
                    "{mode}: no such configuration file"
                )));
            }
            None => {
                return Err(PyValueError::new_err(format!(
                    "unknown mode {mode:?}: give one of {} or a configuration file",
                    Mode::built_in().join(", ")
                )));
            }
        };
        if cfg.space != space {
            return Err(PyValueError::new_err(format!("{mode} is a configuration for {}, not {space}", cfg.space)));
        }
        let mut cfg = cfg;
        cfg.network_type = Some(task);
        let model = cfg.predictor().and_then(|spec| build(&spec)).map_err(value_error)?;
        Ok(Predictor { cfg, task, model: Mutex::new(model), fitted: Mutex::new(None) })
    }

    /// Fits on `archs` (architecture objects, or NB201 strings and indices) and their validation
    /// `accuracies` (floats, one each); `seed` defaults to the configuration's. Replaces an earlier fit.
    #[pyo3(signature = (archs, accuracies, *, seed = None))]
    fn fit(
        &self,
        py: Python<'_>,
        archs: &Bound<'_, PyAny>,
        accuracies: &Bound<'_, PyAny>,
        seed: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let seed = match seed {
            Some(s) => crate::errors::natural(s, "seed")?,
            None => self.cfg.seed,
        };
        let accuracies = crate::errors::accuracies(accuracies)?;
        nar::with_space!(self.cfg.space, S => self.fit_space::<S>(py, archs, accuracies, seed))
    }

    /// Predicted scores (float64, higher is better) of `archs`.
    fn predict<'py>(&self, py: Python<'py>, archs: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let s = nar::with_space!(self.cfg.space, S => self.predict_space::<S>(py, archs)?);
        Ok(s.into_pyarray(py))
    }

    /// Writes the fitted predictor into `dir` (new or empty): `nar.load(dir)` reads it back.
    fn save(&self, py: Python<'_>, dir: PathBuf) -> PyResult<()> {
        let Some(labelled) = *self.fitted.lock().expect("the predictor's lock") else {
            return Err(PyValueError::new_err("fit the predictor first: there is nothing to save"));
        };
        let meta = FittedMeta { space: self.cfg.space, task: self.task, labelled };
        let guard = self.model.lock().expect("the predictor's lock");
        let model: &dyn nar::predictor::Predictor = &**guard;
        py.detach(|| save_fitted(&dir, &self.cfg, &meta, model)).map_err(value_error)
    }

    /// `"transformer"`, `"gbdt"`, `"forest"`, `"mlp"` or `"ensemble"`.
    #[getter]
    fn model(&self) -> &'static str {
        self.cfg.model.name()
    }

    #[getter]
    fn space(&self) -> &'static str {
        self.cfg.space.name()
    }

    fn __repr__(&self) -> String {
        let state = match *self.fitted.lock().expect("the predictor's lock") {
            Some(n) => format!("fitted on {n}"),
            None => "not fitted".to_string(),
        };
        format!("<nar.Predictor {} {} {}, {state}>", self.cfg.model.name(), self.cfg.space, self.task)
    }
}
