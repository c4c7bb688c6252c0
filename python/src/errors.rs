//! Errors into Python exceptions, and the progress reporter of long calls.

use std::sync::Mutex;

use nar::progress::{Cancelled, Progress, Terminal};
use pyo3::exceptions::{PyFileNotFoundError, PyKeyboardInterrupt, PyTypeError, PyValueError};
use pyo3::prelude::*;

/// A library error as a Python exception carrying the whole chain of causes: `FileNotFoundError` when a
/// file the call needs does not exist, `ValueError` for everything else it refuses.
pub fn value_error(e: anyhow::Error) -> PyErr {
    let missing = e
        .chain()
        .any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound));
    let msg = cut(format!("{e:#}"));
    if missing { PyFileNotFoundError::new_err(msg) } else { PyValueError::new_err(msg) }
}

/// The most characters of an error message (a message quoting a huge input is cut, saying so).
const MAX_MESSAGE: usize = 2000;

/// `msg`, cut to [`MAX_MESSAGE`] characters with a note of how long it was.
pub fn cut(msg: String) -> String {
    let n = msg.chars().count();
    if n <= MAX_MESSAGE {
        return msg;
    }
    let head: String = msg.chars().take(MAX_MESSAGE).collect();
    format!("{head}… (message cut: {n} characters)")
}

/// A non-negative integer argument `name`: anything but an integer — Python's `bool` included (it is an
/// int to Python) — raises TypeError naming the argument, and a negative or too large value ValueError
/// (not OverflowError).
pub fn natural<T: TryFrom<u64>>(obj: &pyo3::Bound<'_, pyo3::PyAny>, name: &str) -> pyo3::PyResult<T> {
    use pyo3::types::{PyAnyMethods, PyBool, PyInt};
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() && obj.getattr("__index__").is_err() {
        return Err(PyTypeError::new_err(format!(
            "{name} must be an integer, not {}",
            cut(obj.get_type().to_string())
        )));
    }
    let text = obj.str().map(|s| s.to_string()).unwrap_or_default();
    let v: Option<u64> = obj.extract::<u64>().ok();
    v.and_then(|v| T::try_from(v).ok()).ok_or_else(|| {
        PyValueError::new_err(format!(
            "{name} must be a non-negative integer that fits the machine, found {}",
            cut(text)
        ))
    })
}

/// Whether `obj` is a truth value — Python's `bool` or numpy's `bool_` (which is not a `bool` to
/// Python, but is one to whoever wrote it): never taken for a number.
pub fn is_bool(obj: &pyo3::Bound<'_, pyo3::PyAny>) -> bool {
    is_bool_of(obj, numpy_bool(obj.py()).as_ref())
}

/// numpy's `bool_` type, where numpy imports.
fn numpy_bool(py: pyo3::Python<'_>) -> Option<pyo3::Bound<'_, pyo3::PyAny>> {
    use pyo3::types::PyAnyMethods;
    py.import("numpy").and_then(|np| np.getattr("bool_")).ok()
}

/// [`is_bool`] with numpy's `bool_` looked up once by the caller.
fn is_bool_of(obj: &pyo3::Bound<'_, pyo3::PyAny>, numpy_bool: Option<&pyo3::Bound<'_, pyo3::PyAny>>) -> bool {
    use pyo3::types::{PyAnyMethods, PyBool};
    obj.is_instance_of::<PyBool>() || numpy_bool.is_some_and(|t| obj.is_instance(t).unwrap_or(false))
}

/// The accuracies of `Predictor.fit`: any iterable of real numbers (a list, a numpy array, a
/// generator); a bool or anything else that is not a number raises TypeError naming its position.
pub fn accuracies(obj: &pyo3::Bound<'_, pyo3::PyAny>) -> pyo3::PyResult<Vec<f64>> {
    use pyo3::types::PyAnyMethods;
    let items = obj.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "accuracies must be an iterable of numbers, not {}",
            cut(obj.get_type().to_string())
        ))
    })?;
    let numpy_bool = numpy_bool(obj.py());
    let mut out = Vec::new();
    for (i, item) in items.enumerate() {
        let item = item?;
        let v = if is_bool_of(&item, numpy_bool.as_ref()) { None } else { item.extract::<f64>().ok() };
        let Some(v) = v else {
            return Err(PyTypeError::new_err(format!(
                "accuracies[{i}] is {}, not a number",
                cut(item.repr().map_or("?".into(), |r| r.to_string()))
            )));
        };
        out.push(v);
    }
    Ok(out)
}

/// A progress bar on standard error (when it is a terminal) that checks for Ctrl-C between units of
/// work: a pending `KeyboardInterrupt` is kept and the library step stops with [`Cancelled`].
#[derive(Default)]
pub struct PyProgress {
    bar: Terminal,
    interrupt: Mutex<Option<PyErr>>,
}

impl PyProgress {
    /// The exception to raise for a failed call: the pending interrupt, or the error itself.
    pub fn error(&self, e: anyhow::Error) -> PyErr {
        let pending = self.interrupt.lock().expect("interrupt lock").take();
        let interrupt = |err: Option<PyErr>| {
            Python::attach(|py| match err {
                // Ctrl-C: KeyboardInterrupt saying where the step stopped and how to resume.
                Some(err) if !err.is_instance_of::<PyKeyboardInterrupt>(py) => err,
                _ => PyKeyboardInterrupt::new_err(format!("{e:#}")),
            })
        };
        match pending {
            Some(err) => interrupt(Some(err)),
            None if e.downcast_ref::<Cancelled>().is_some() => interrupt(None),
            None => value_error(e),
        }
    }
}

impl Progress for PyProgress {
    fn start(&self, len: u64, what: &'static str) {
        self.bar.start(len, what)
    }
    fn set(&self, pos: u64) {
        self.bar.set(pos)
    }
    fn inc(&self, n: u64) {
        self.bar.inc(n)
    }
    fn finish(&self) {
        self.bar.finish()
    }
    fn log(&self, line: &str) {
        self.bar.log(line)
    }
    fn cancelled(&self) -> bool {
        let mut slot = self.interrupt.lock().expect("interrupt lock");
        if slot.is_none()
            && let Err(e) = Python::attach(|py| py.check_signals())
        {
            *slot = Some(e);
        }
        slot.is_some()
    }
}
