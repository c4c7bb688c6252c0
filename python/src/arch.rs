//! Architectures: `nar.nb201(arch)`, `nar.nb101(matrix, ops)` and their classes. Identity, cost and
//! encoding come from the library (`nar::space`, `nar::cost`, `nar::encode`), the same numbers as
//! `nar arch --json`.

use nar::cost::NetworkCost;
use nar::encode::FeatureTensor;
use nar::space::{SearchSpace, SpaceKind, Task};
use nar::spaces::nb101::Cell;
use nar::spaces::nb201::{Arch, ImageDataset};
use nar::spaces::{Nb101, Nb201};
use numpy::{IntoPyArray, PyArray3, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// An image dataset by name (`cifar10`, `cifar100`, `imagenet16`, or NAS-Bench-201's spelling).
pub fn image_dataset(name: &str) -> PyResult<ImageDataset> {
    ImageDataset::from_name(name).ok_or_else(|| {
        PyValueError::new_err(format!("unknown image dataset {name:?} (expected cifar10, cifar100 or imagenet16)"))
    })
}

/// The task `task` of `space`, or under its old keyword `alias` (`dataset`, `image_dataset`); giving both
/// is an error. `None` when neither is given.
pub fn task_keyword(space: SpaceKind, task: Option<&str>, alias: Option<(&str, &str)>) -> PyResult<Option<Task>> {
    let name = match (task, alias) {
        (Some(_), Some((keyword, _))) => {
            return Err(PyValueError::new_err(format!("give task= or its old name {keyword}=, not both")));
        }
        (Some(t), None) => t,
        (None, Some((_, a))) => a,
        (None, None) => return Ok(None),
    };
    nar::spaces::task(space, name).map(Some).map_err(PyValueError::new_err)
}

/// `{"flops", "params", "vertex_or_edge_flops": {cell: [...]}, "vertex_or_edge_params": {cell: [...]}}`.
/// The cost as a dict with the keys of `nar arch --json` (both from [`NetworkCost::summary`]), read by
/// Python's own `json.loads` from the same JSON text.
fn cost_dict<'py>(py: Python<'py>, c: &NetworkCost) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(&c.summary()).map_err(|e| PyValueError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (text,))
}

fn tensor<'py>(py: Python<'py>, t: FeatureTensor) -> PyResult<Bound<'py, PyArray3<f32>>> {
    let (c, n) = (t.channels, t.dim);
    t.data.into_pyarray(py).reshape([c, n, n])
}

/// A NAS-Bench-201 architecture (a cell of six edges, each one of five operations).
#[pyclass(frozen, eq, hash, skip_from_py_object, module = "nar")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Nb201Arch {
    pub arch: Arch,
}

#[pymethods]
impl Nb201Arch {
    /// Index in NAS-Bench-201's order (0 … 15624).
    #[getter]
    fn index(&self) -> usize {
        self.arch.index()
    }

    /// NAS-Bench-201's string, e.g. `|nor_conv_3x3~0|+|none~0|skip_connect~1|+|…|`.
    #[getter]
    fn arch_str(&self) -> String {
        self.arch.to_string()
    }

    /// Per-edge FLOPs and parameters of every cell of the network trained on `dataset`, and the totals.
    #[pyo3(signature = (dataset = "cifar10"))]
    fn cost<'py>(&self, py: Python<'py>, dataset: &str) -> PyResult<Bound<'py, PyAny>> {
        cost_dict(py, &nar::spaces::nb201::cost::network_cost(&self.arch, image_dataset(dataset)?))
    }

    /// The function the cell computes, as an expression of its input `x` (`""`: none reaches the
    /// output). Cells with one function are equivalent.
    #[getter]
    fn function(&self) -> String {
        self.arch.function()
    }

    /// The representative of the cells computing this cell's function (the one with the most `none`
    /// edges, then the lowest index).
    fn canonical(&self) -> Nb201Arch {
        Nb201Arch { arch: self.arch.canonical() }
    }

    /// The ranker's input tensor for the network trained on `dataset`: float32, shape (31, 4, 4).
    #[pyo3(signature = (dataset = "cifar10"))]
    fn encode<'py>(&self, py: Python<'py>, dataset: &str) -> PyResult<Bound<'py, PyArray3<f32>>> {
        let c = nar::spaces::nb201::cost::network_cost(&self.arch, image_dataset(dataset)?);
        tensor(py, nar::spaces::nb201::encode::tensor(&self.arch, &c))
    }

    /// Pickles as `nar.nb201(index)`: an architecture crosses to worker processes (a
    /// `ProcessPoolExecutor`, Dask) as its index.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (usize,))> {
        Ok((py.import("nar")?.getattr("nb201")?, (self.arch.index(),)))
    }

    fn __repr__(&self) -> String {
        format!("nar.nb201({:?})  # index {}", self.arch.to_string(), self.arch.index())
    }

    fn __str__(&self) -> String {
        self.arch.to_string()
    }
}

/// A NAS-Bench-101 cell, pruned to the vertices on an input → output path.
#[pyclass(frozen, eq, hash, skip_from_py_object, module = "nar")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Nb101Cell {
    pub cell: Cell,
}

#[pymethods]
impl Nb101Cell {
    /// NAS-Bench-101's hash (md5 of the graph's canonical form), 32 hex digits.
    #[getter]
    fn hash(&self) -> String {
        self.cell.hash()
    }

    /// The pruned adjacency matrix (upper triangular, 0/1 rows).
    #[getter]
    fn matrix(&self) -> Vec<Vec<u32>> {
        self.cell.matrix().into_iter().map(|row| row.into_iter().map(u32::from).collect()).collect()
    }

    /// The pruned operations, `input` first and `output` last.
    #[getter]
    fn ops(&self) -> Vec<&'static str> {
        self.cell.op_names()
    }

    /// Per-vertex FLOPs and parameters of every cell of the CIFAR-10 network, and the totals.
    #[pyo3(signature = (dataset = "cifar10"))]
    fn cost<'py>(&self, py: Python<'py>, dataset: &str) -> PyResult<Bound<'py, PyAny>> {
        Nb101::task(dataset).map_err(PyValueError::new_err)?;
        cost_dict(py, &nar::spaces::nb101::cost::network_cost(&self.cell))
    }

    /// The ranker's input tensor: float32, shape (19, 7, 7).
    #[pyo3(signature = (dataset = "cifar10"))]
    fn encode<'py>(&self, py: Python<'py>, dataset: &str) -> PyResult<Bound<'py, PyArray3<f32>>> {
        Nb101::task(dataset).map_err(PyValueError::new_err)?;
        tensor(py, nar::spaces::nb101::encode::tensor(&self.cell, &nar::spaces::nb101::cost::network_cost(&self.cell)))
    }

    /// Pickles as `nar.nb101(matrix, ops)`.
    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (Vec<Vec<u32>>, Vec<&'static str>))> {
        Ok((py.import("nar")?.getattr("nb101")?, (self.matrix(), self.ops())))
    }

    fn __repr__(&self) -> String {
        format!("nar.nb101({:?}, {:?})  # hash {}", self.cell.matrix(), self.cell.op_names(), self.cell.hash())
    }
}

/// A NAS-Bench-201 architecture from its string (`|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`) or its index.
/// Raises ValueError for anything else.
#[pyfunction]
pub fn nb201(arch: &Bound<'_, PyAny>) -> PyResult<Nb201Arch> {
    use pyo3::types::{PyBool, PyInt};
    let parsed = if let Ok(text) = arch.extract::<String>() {
        text.trim().parse::<Arch>().map_err(|e| PyValueError::new_err(crate::errors::cut(e.to_string())))
    } else if arch.is_instance_of::<PyBool>() {
        Err(PyValueError::new_err("an NB201 architecture is a string or an index, not a bool"))
    } else if arch.is_instance_of::<PyInt>() || arch.extract::<i64>().is_ok() {
        match arch.extract::<i64>() {
            Ok(index) => usize::try_from(index)
                .map_err(|_| format!("NB201 index {index} is negative"))
                .and_then(|i| Arch::from_index(i).map_err(|e| e.to_string()))
                .map_err(PyValueError::new_err),
            Err(_) => Err(PyValueError::new_err(format!(
                "NB201 index {} is out of range (0..{})",
                crate::errors::cut(arch.str().map(|s| s.to_string()).unwrap_or_default()),
                nar::spaces::nb201::SPACE_SIZE
            ))),
        }
    } else {
        Err(PyValueError::new_err(format!("an NB201 architecture is a string or an index, not {}", arch.get_type())))
    };
    parsed.map(|arch| Nb201Arch { arch })
}

/// A NAS-Bench-101 cell from its adjacency matrix (lists or a numpy array of 0/1, at most 7×7, upper
/// triangular) and its operations (`input`, `conv3x3-bn-relu`, `conv1x1-bn-relu`, `maxpool3x3`, `output`).
/// Vertices not on an input → output path are pruned, as NAS-Bench-101 does. Raises ValueError with the
/// reason when they do not make a valid cell.
#[pyfunction]
pub fn nb101(matrix: &Bound<'_, PyAny>, ops: &Bound<'_, PyAny>) -> PyResult<Nb101Cell> {
    let m: Vec<Vec<i64>> = matrix
        .extract()
        .map_err(|_| PyValueError::new_err("matrix must be a square list of lists (or a 2-D array) of 0/1 integers"))?;
    let o: Vec<String> = ops.extract().map_err(|_| PyValueError::new_err("ops must be a list of operation names"))?;
    Cell::new(&m, &o).map(|cell| Nb101Cell { cell }).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The spaces the bindings pass architectures of: to and from their Python classes.
pub trait PySpace: SearchSpace {
    fn to_py(py: Python<'_>, arch: &Self::Arch) -> PyResult<Py<PyAny>>;
    fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Self::Arch>;
}

impl PySpace for Nb201 {
    fn to_py(py: Python<'_>, arch: &Arch) -> PyResult<Py<PyAny>> {
        Ok(Bound::new(py, Nb201Arch { arch: *arch })?.into_any().unbind())
    }
    fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Arch> {
        match obj.extract::<PyRef<'_, Nb201Arch>>() {
            Ok(a) => Ok(a.arch),
            Err(_) if obj.extract::<PyRef<'_, Nb101Cell>>().is_ok() => {
                Err(PyValueError::new_err("an NB101 cell given where NB201 architectures are expected"))
            }
            Err(_) => nb201(obj).map(|a| a.arch),
        }
    }
}

impl PySpace for Nb101 {
    fn to_py(py: Python<'_>, cell: &Cell) -> PyResult<Py<PyAny>> {
        Ok(Bound::new(py, Nb101Cell { cell: *cell })?.into_any().unbind())
    }
    fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Cell> {
        obj.extract::<PyRef<'_, Nb101Cell>>().map(|c| c.cell).map_err(|_| {
            PyValueError::new_err(format!(
                "expected an nar.Nb101Cell (from nar.nb101(matrix, ops)), not {}",
                obj.get_type()
            ))
        })
    }
}

/// A declared space's architectures are their text form (a `str`), read against the declaration in use
/// (`nar.Space.load`, a dataset or a run of it).
impl PySpace for nar::spaces::Declared {
    fn to_py(py: Python<'_>, arch: &nar::spaces::declared::plugin::DArch) -> PyResult<Py<PyAny>> {
        let text = <nar::spaces::Declared as SearchSpace>::arch_columns(arch).remove(0);
        Ok(pyo3::types::PyString::new(py, &text).into_any().unbind())
    }
    fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<nar::spaces::declared::plugin::DArch> {
        let text: String = obj.extract().map_err(|_| {
            PyValueError::new_err(format!(
                "a declared space's architecture is its text form (a str), not {}",
                obj.get_type()
            ))
        })?;
        let space = nar::spaces::declared::plugin::active()
            .ok_or_else(|| PyValueError::new_err("no declared space is in use (nar.Space.load(path) first)"))?;
        space.parse(&text).map_err(PyValueError::new_err)
    }
}

/// Architectures of space `S` from a Python iterable.
pub fn archs_from<S: PySpace>(archs: &Bound<'_, PyAny>) -> PyResult<Vec<S::Arch>> {
    archs
        .try_iter()?
        .enumerate()
        .map(|(i, a)| S::from_py(&a?).map_err(|e| PyValueError::new_err(format!("architecture {i}: {}", e))))
        .collect()
}
