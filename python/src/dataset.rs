//! `nar.Dataset`: a benchmark's architectures in a fixed order with named metrics.

use std::path::PathBuf;

use nar::spaces::{AnyDataset, DataSource, Nb101, Nb201};
use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::{PyIndexError, PyKeyError};
use pyo3::prelude::*;

use crate::arch::PySpace;
use crate::errors::value_error;

/// Architectures of one search space (NB101 in hash order, NB201 in index order) with named metrics
/// (NaN where an architecture has no value).
#[pyclass(frozen, module = "nar")]
pub struct Dataset {
    pub ds: AnyDataset,
    /// Where it came from (what `nar.train` is given).
    pub source: DataSource,
}

impl Dataset {
    fn load(py: Python<'_>, source: DataSource) -> PyResult<Dataset> {
        let src = source.clone();
        let ds = py.detach(move || src.load(&mut |_| {})).map_err(value_error)?;
        Ok(Dataset { ds, source })
    }
}

#[pymethods]
impl Dataset {
    /// Opens a `.nar` store (`nar data build`, `nar data import`, `nar data fetch`).
    #[staticmethod]
    fn open(py: Python<'_>, path: PathBuf) -> PyResult<Dataset> {
        Dataset::load(py, DataSource::Store(path))
    }

    /// Every architecture of `space` (`"nb101"`, `"nb201"` or an `nar.Space`) joined with metric files
    /// (`.csv`, NAR `.json`, NB101 `.tfrecord`; a declared space's CSV tables).
    #[staticmethod]
    #[pyo3(signature = (space, metrics = Vec::new()))]
    fn build(py: Python<'_>, space: &Bound<'_, PyAny>, metrics: Vec<PathBuf>) -> PyResult<Dataset> {
        Dataset::load(py, DataSource::Metrics { space: crate::jobs::space_kind(space)?, files: metrics })
    }

    /// The NAS-Bench-201 accuracy table built into nar (all 15,625 architectures, three image datasets).
    #[staticmethod]
    fn nb201(py: Python<'_>) -> PyResult<Dataset> {
        Dataset::load(py, DataSource::BuiltIn(nar::space::SpaceKind::Nb201))
    }

    /// `"nb101"` or `"nb201"`.
    #[getter]
    fn space(&self) -> &'static str {
        self.ds.space().name()
    }

    /// The metric names, in the dataset's order.
    #[getter]
    fn metrics(&self) -> Vec<String> {
        self.ds.metrics().iter().map(|m| m.name.clone()).collect()
    }

    /// One metric for every architecture (float64, NaN where missing).
    fn metric<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let m = self.ds.metrics().iter().find(|m| m.name == name).ok_or_else(|| {
            PyKeyError::new_err(format!("no metric {name:?}; the dataset has {}", self.metrics().join(", ")))
        })?;
        Ok(m.values.clone().into_pyarray(py))
    }

    /// The architecture at position `i` (an `Nb201Arch` or an `Nb101Cell`).
    fn arch(&self, py: Python<'_>, i: isize) -> PyResult<Py<PyAny>> {
        let n = self.ds.len();
        let j = if i < 0 { i + n as isize } else { i };
        if j < 0 || j as usize >= n {
            return Err(PyIndexError::new_err(format!("position {i} is outside the dataset's {n} architectures")));
        }
        match &self.ds {
            AnyDataset::Nb101(d) => Nb101::to_py(py, &d.archs()[j as usize]),
            AnyDataset::Nb201(d) => Nb201::to_py(py, &d.archs()[j as usize]),
            AnyDataset::Declared(d) => nar::spaces::Declared::to_py(py, &d.archs()[j as usize]),
        }
    }

    /// The identity of the architecture at position `i` (NB101 hash or NB201 index, as text).
    fn id(&self, i: usize) -> PyResult<String> {
        if i >= self.ds.len() {
            return Err(PyIndexError::new_err(format!("position {i} is outside the dataset")));
        }
        Ok(self.ds.id_string(i))
    }

    fn __len__(&self) -> usize {
        self.ds.len()
    }

    /// `ds[i]`: the architecture at position `i`, as [`Dataset::arch`].
    fn __getitem__(&self, py: Python<'_>, i: isize) -> PyResult<Py<PyAny>> {
        self.arch(py, i)
    }

    fn __repr__(&self) -> String {
        format!(
            "<nar.Dataset {} ({} architectures; metrics: {}) from {}>",
            self.space(),
            self.ds.len(),
            self.metrics().join(", "),
            self.source
        )
    }
}
