//! `nar.Space`: a space declared in a YAML file (docs/design.md §1, "Declared spaces"), its cells as
//! their text forms — NAS-Bench-201's `|op~0|+…|` for the edges family, `nar arch`'s JSON for the
//! vertices family.

use std::path::PathBuf;

use nar::rng::Rng;
use nar::spaces::declared::DeclaredSpace;
use nar::spaces::declared::edges::Classes;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// A declared search space (`nar.Space.load("spaces/nb201.yaml")`). Cells are their text forms.
#[pyclass(frozen, module = "nar")]
pub struct Space {
    pub(crate) space: DeclaredSpace,
}

impl Space {
    fn edges(&self, what: &str) -> PyResult<&nar::spaces::declared::EdgeSpace> {
        match &self.space {
            DeclaredSpace::Edges(s) => Ok(s),
            DeclaredSpace::Vertices(_) => Err(PyValueError::new_err(format!(
                "{}: {what} is built for the edges family only so far",
                self.space.declaration().name
            ))),
        }
    }
}

#[pymethods]
impl Space {
    /// Reads and checks the declaration at `path` (`ValueError` naming the file and the key).
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Space> {
        if !path.exists() {
            return Err(pyo3::exceptions::PyFileNotFoundError::new_err(format!("{}: no such file", path.display())));
        }
        DeclaredSpace::load(&path).map(|space| Space { space }).map_err(PyValueError::new_err)
    }

    /// The declaration's name.
    #[getter]
    fn name(&self) -> String {
        self.space.declaration().name.clone()
    }

    /// `"edges"` or `"vertices"`.
    #[getter]
    fn family(&self) -> &'static str {
        match self.space {
            DeclaredSpace::Edges(_) => "edges",
            DeclaredSpace::Vertices(_) => "vertices",
        }
    }

    /// The operations, in code order.
    #[getter]
    fn ops(&self) -> Vec<String> {
        self.space.declaration().ops.clone()
    }

    /// The tasks its metrics are for.
    #[getter]
    fn tasks(&self) -> Vec<String> {
        self.space.declaration().tasks.clone()
    }

    /// The SHA-256 of the declaration file.
    #[getter]
    fn sha256(&self) -> String {
        self.space.declaration().sha256.clone()
    }

    /// The cell `text` in its checked, canonical text form (`ValueError` saying why it is not a cell
    /// of the space); a vertices-family cell is pruned.
    fn parse(&self, text: &str) -> PyResult<String> {
        match &self.space {
            DeclaredSpace::Edges(s) => s.parse(text).map(|c| s.text(&c)),
            DeclaredSpace::Vertices(s) => s.parse(text).and_then(|c| s.check(&c)).map(|c| s.text(&c)),
        }
        .map_err(PyValueError::new_err)
    }

    /// The hash of the cell's function class: one for every cell computing the same function (and for
    /// isomorphic cells).
    fn hash(&self, text: &str) -> PyResult<String> {
        match &self.space {
            DeclaredSpace::Edges(s) => s.parse(text).map(|c| s.hash(&c)),
            DeclaredSpace::Vertices(s) => s.parse(text).and_then(|c| s.check(&c)).map(|p| s.class_hash(&p)),
        }
        .map_err(PyValueError::new_err)
    }

    /// The canonical cell of the cell's function class (an enumerable edges-family space: the class's
    /// cell with the most zero edges, then the lowest index).
    fn canonical(&self, text: &str) -> PyResult<String> {
        let s = self.edges("canonical")?;
        if !s.enumerable() {
            return Err(PyValueError::new_err(s.too_large()));
        }
        let cell = s.parse(text).map_err(PyValueError::new_err)?;
        let cells = s.all();
        let classes = Classes::of(s, &cells);
        let k = classes.class[s.index(&cell) as usize] as usize;
        Ok(s.text(&cells[classes.canonical[k]]))
    }

    /// A uniformly random cell; `seed` fixes it.
    fn sample(&self, seed: &Bound<'_, PyAny>) -> PyResult<String> {
        if seed.is_instance_of::<pyo3::types::PyBool>() {
            return Err(PyTypeError::new_err("seed must be an int, not a bool"));
        }
        let seed: u64 = seed.extract().map_err(|_| PyValueError::new_err("seed must be an integer 0 … 2^64 − 1"))?;
        let mut rng = Rng::new(seed);
        match &self.space {
            DeclaredSpace::Edges(s) => Ok(s.text(&s.sample(&mut rng))),
            DeclaredSpace::Vertices(s) => s.sample(&mut rng).map(|c| s.text(&c)).ok_or_else(|| {
                PyValueError::new_err(format!("{}: 100,000 random draws found no cell of the space", s.decl.name))
            }),
        }
    }

    /// The cells one change away (edges: one op changed, or a chosen input moved; vertices: one op
    /// changed, or one edge added or removed, valid after pruning).
    fn neighbours(&self, text: &str) -> PyResult<Vec<String>> {
        match &self.space {
            DeclaredSpace::Edges(s) => {
                let cell = s.parse(text).map_err(PyValueError::new_err)?;
                Ok(s.neighbours(&cell).iter().map(|c| s.text(c)).collect())
            }
            DeclaredSpace::Vertices(s) => {
                let cell = s.check(&s.parse(text).map_err(PyValueError::new_err)?).map_err(PyValueError::new_err)?;
                Ok(s.neighbours(&cell).iter().map(|c| s.text(c)).collect())
            }
        }
    }

    /// How many cells the space holds (`ValueError` past 2^64; an enumerated vertices-family space:
    /// one per isomorphism class).
    fn __len__(&self) -> PyResult<usize> {
        match &self.space {
            DeclaredSpace::Edges(s) => s
                .size()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| PyValueError::new_err(format!("{} holds more than 2^64 cells", s.decl.name))),
            DeclaredSpace::Vertices(s) => s.enumerate().map(|e| e.len()).map_err(PyValueError::new_err),
        }
    }

    /// The `network:` block (skeleton, channels, cells, stacks, classes), or `None` where the
    /// declaration has none.
    #[getter]
    fn network<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match &self.space.declaration().network {
            None => Ok(None),
            Some(n) => {
                let text = serde_json::to_string(n).map_err(|e| PyValueError::new_err(e.to_string()))?;
                Ok(Some(py.import("json")?.call_method1("loads", (text,))?))
            }
        }
    }

    /// The op that outputs zeros, where declared.
    #[getter]
    fn zero(&self) -> Option<String> {
        let d = self.space.declaration();
        d.zero.map(|z| d.ops[z].clone())
    }

    /// Where the declaration was read from.
    #[getter]
    fn path(&self) -> String {
        self.space.declaration().source.display().to_string()
    }

    fn __repr__(&self) -> String {
        let d = self.space.declaration();
        format!("nar.Space({:?}, {} family, {} ops)", d.name, self.family(), d.ops.len())
    }
}
