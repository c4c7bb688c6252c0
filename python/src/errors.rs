//! Errors into Python exceptions, and the progress reporter of long calls.

use std::sync::Mutex;

use nar::progress::{Cancelled, Progress, Terminal};
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;

/// A library error as a Python `ValueError` carrying the whole chain of causes.
pub fn value_error(e: anyhow::Error) -> PyErr {
    PyValueError::new_err(format!("{e:#}"))
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
