//! The oracle of `nar.search`: the user's Python callable, called in this thread one query at a time,
//! or submitted to a `concurrent.futures.Executor` (a `ThreadPoolExecutor`, a `ProcessPoolExecutor`,
//! Dask's `Client.get_executor()`, a `submitit` executor) up to `parallel` at once and consumed as the
//! calls complete. The same journal, retries and failure rules as `nar search --oracle-cmd`
//! (`nar::search::journal`, `nar::search::command`): a call that raises an `Exception` (a lost Dask
//! worker's `KilledWorker` included), returns no number, a `bool` or a number off [0, 100], or runs past
//! `timeout` seconds (counted from its start, as the executor reports it; the future is cancelled) fails, is journaled with its
//! reason and retried up to `retries` times. Ctrl-C stops submitting and cancels the running calls, or
//! (`on_interrupt="wait"`) waits for them, journaling their answers; then `KeyboardInterrupt` is raised.

use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

use nar::data::Dataset as SpaceData;
use nar::search::journal::arch_text;
use nar::search::journal::{ANSWER_RANGE, Header, Journal};
use nar::search::oracle::{Answer, Evaluator};
use pyo3::exceptions::{PyException, PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;

use crate::arch::PySpace;

/// How `nar.search` calls the oracle.
pub struct CallOptions {
    pub parallel: usize,
    /// The user's executor; `None`: this thread, or `parallel` daemon threads of nar's where
    /// `parallel` > 1 or a `timeout` is set.
    pub executor: Option<Py<PyAny>>,
    pub timeout: Option<Duration>,
    pub retries: usize,
    pub wait_on_interrupt: bool,
}

/// A call submitted to the executor.
struct Running {
    position: usize,
    future: Py<PyAny>,
    submitted: Instant,
    /// When the executor was first seen running it (its time limit counts from there: a call queued
    /// behind a busy executor has not started).
    started: Option<Instant>,
    failed_before: usize,
}

impl Running {
    /// Time since the call started (since its submission where its start was not seen).
    fn elapsed(&self) -> Duration {
        self.started.unwrap_or(self.submitted).elapsed()
    }
}

/// An [`Evaluator`] over the user's Python callable.
pub struct PyOracle<'a, S: PySpace> {
    ds: &'a SpaceData<S>,
    oracle: &'a Py<PyAny>,
    options: CallOptions,
    /// Whether the executor is ours (shut down when the search ends).
    own_executor: bool,
    journal: Option<Journal>,
    ready: VecDeque<(usize, Answer)>,
    /// Started, waiting to be called or submitted: `(position, attempts failed before)`.
    queued: VecDeque<(usize, usize)>,
    running: Vec<Running>,
    interrupted: bool,
    /// The exception that stopped the search (Ctrl-C, an executor that broke), raised again.
    pub raised: Option<PyErr>,
}

/// The oracle's name in the journal's header (`nar._calls.oracle_name`: `python:` and what identifies
/// it — a lambda's file and line, a partial's function and arguments).
fn oracle_name(py: Python<'_>, oracle: &Py<PyAny>) -> PyResult<String> {
    py.import("nar._calls")?.getattr("oracle_name")?.call1((oracle.clone_ref(py),))?.extract()
}

/// nar's own executor: `parallel` daemon threads (`nar._calls.DaemonThreadExecutor`), so that a call
/// that never returns cannot keep the interpreter from exiting.
fn daemon_executor(py: Python<'_>, parallel: usize) -> PyResult<Py<PyAny>> {
    Ok(py.import("nar._calls")?.getattr("DaemonThreadExecutor")?.call1((parallel.max(1),))?.unbind())
}

impl<'a, S: PySpace> PyOracle<'a, S> {
    /// `journal`: the journal's path (opened, locked and checked now); `dataset`: the image dataset's name.
    pub fn new(
        py: Python<'_>,
        ds: &'a SpaceData<S>,
        oracle: &'a Py<PyAny>,
        mut options: CallOptions,
        journal: Option<(&Path, bool)>,
        dataset: &str,
    ) -> PyResult<PyOracle<'a, S>> {
        let journal = journal
            .map(|(path, reuse)| {
                let header = Header::new::<S>(dataset, &oracle_name(py, oracle)?);
                Journal::open(ds, path, &header, reuse, "journal_reuse=True").map_err(crate::errors::value_error)
            })
            .transpose()?;
        let own_executor = options.executor.is_none() && (options.parallel > 1 || options.timeout.is_some());
        if own_executor {
            options.executor = Some(daemon_executor(py, options.parallel)?);
        }
        Ok(PyOracle {
            ds,
            oracle,
            options,
            own_executor,
            journal,
            ready: VecDeque::new(),
            queued: VecDeque::new(),
            running: Vec::new(),
            interrupted: false,
            raised: None,
        })
    }

    fn id(&self, position: usize) -> String {
        self.ds.ids()[position].to_string()
    }

    /// Journals a call's end (when there is a journal).
    fn journal(&mut self, position: usize, result: &Result<f64, String>, wall_s: f64) -> anyhow::Result<()> {
        let (id, arch) = (self.id(position), arch_text::<S>(&self.ds.archs()[position]));
        match (&mut self.journal, result) {
            (None, _) => Ok(()),
            (Some(j), Ok(v)) => j.answer(&id, &arch, *v, wall_s),
            (Some(j), Err(why)) => j.failure(&id, &arch, why, wall_s),
        }
    }

    /// What a call's end means: its answer, `None` when it is to run again (a failure with retries
    /// left), journaled either way.
    fn settle(
        &mut self,
        position: usize,
        result: Result<f64, String>,
        failed_before: usize,
        wall_s: f64,
    ) -> anyhow::Result<Option<Answer>> {
        self.journal(position, &result, wall_s)?;
        Ok(match result {
            Ok(v) => Some(Answer::Accuracy(v)),
            Err(why) if failed_before >= self.options.retries => Some(Answer::Failed(why)),
            Err(why) => {
                eprintln!("warning: {why}; trying again (retry {} of {})", failed_before + 1, self.options.retries);
                None
            }
        })
    }

    /// Stops the search with `e` (raised again when the search returns).
    fn stop(&mut self, e: PyErr) -> anyhow::Error {
        let msg = Python::attach(|py| e.value(py).to_string());
        self.raised = Some(e);
        anyhow::anyhow!("the search was stopped: {msg}")
    }

    /// Calls the oracle in this thread for the first queued architecture, until it answers or its
    /// retries are used up.
    fn call_here(&mut self) -> anyhow::Result<Option<(usize, Answer)>> {
        let Some((position, mut failed_before)) = self.queued.pop_front() else { return Ok(None) };
        loop {
            let begun = Instant::now();
            let arch = self.ds.archs()[position];
            let result = Python::attach(|py| -> PyResult<Result<f64, String>> {
                py.check_signals()?;
                let value = self.oracle.call1(py, (S::to_py(py, &arch)?,));
                judge::<S>(py, value.map(|v| v.into_bound(py)), &arch)
            });
            let result = match result {
                Ok(r) => r,
                Err(e) => return Err(self.stop(e)),
            };
            if let Some(answer) = self.settle(position, result, failed_before, begun.elapsed().as_secs_f64())? {
                return Ok(Some((position, answer)));
            }
            failed_before += 1;
        }
    }

    /// Submits queued architectures while fewer than `parallel` run (none once interrupted).
    fn launch(&mut self, py: Python<'_>) -> PyResult<()> {
        let executor = self.options.executor.as_ref().expect("an executor").bind(py).clone();
        while self.running.len() < self.options.parallel.max(1) && !self.interrupted {
            let Some((position, failed_before)) = self.queued.pop_front() else { break };
            let arch = S::to_py(py, &self.ds.archs()[position])?;
            let future = executor.call_method1("submit", (self.oracle.clone_ref(py), arch))?.unbind();
            self.running.push(Running { position, future, submitted: Instant::now(), started: None, failed_before });
        }
        Ok(())
    }

    /// Waits (a fifth of a second at most, to notice Ctrl-C) for a running call to complete or pass its
    /// time limit; returns it with its result.
    fn completed(&mut self, py: Python<'_>) -> PyResult<Option<(Running, Result<f64, String>)>> {
        let now = Instant::now();
        for r in &mut self.running {
            let f = r.future.bind(py);
            if r.started.is_none()
                && (f.call_method0("running")?.is_truthy()? || f.call_method0("done")?.is_truthy()?)
            {
                r.started = Some(now);
            }
        }
        let mut wait_s: f64 = 0.2;
        if let Some(limit) = self.options.timeout {
            for r in self.running.iter().filter_map(|r| r.started) {
                wait_s = wait_s.min((r + limit).saturating_duration_since(now).as_secs_f64());
            }
        }
        let futures: Vec<Py<PyAny>> = self.running.iter().map(|r| r.future.clone_ref(py)).collect();
        let cf = py.import("concurrent.futures")?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("timeout", wait_s)?;
        kwargs.set_item("return_when", cf.getattr("FIRST_COMPLETED")?)?;
        cf.getattr("wait")?.call((futures,), Some(&kwargs))?;
        for i in 0..self.running.len() {
            let future = self.running[i].future.bind(py).clone();
            if future.call_method0("done")?.is_truthy()? {
                let r = self.running.remove(i);
                let arch = self.ds.archs()[r.position];
                let result = judge::<S>(py, future.call_method0("result"), &arch)?;
                return Ok(Some((r, result)));
            }
            if let Some(limit) = self.options.timeout
                && self.running[i].started.is_some_and(|s| s.elapsed() >= limit)
            {
                // A call already running in a thread cannot be stopped: our own pool is replaced, so
                // that the call does not hold one of its `parallel` threads (it ends in the background).
                if !future.call_method0("cancel")?.is_truthy()? && self.own_executor {
                    let fresh = daemon_executor(py, self.options.parallel)?;
                    let old = self.options.executor.replace(fresh).expect("an executor");
                    let kwargs = pyo3::types::PyDict::new(py);
                    kwargs.set_item("wait", false)?;
                    old.bind(py).call_method("shutdown", (), Some(&kwargs))?;
                }
                let r = self.running.remove(i);
                let why = format!(
                    "the oracle ran past timeout={} s for {} and was cancelled",
                    limit.as_secs_f64(),
                    S::id(&self.ds.archs()[r.position])
                );
                return Ok(Some((r, Err(why))));
            }
        }
        Ok(None)
    }

    /// Ctrl-C with calls running: cancel them, or (`on_interrupt="wait"`) let them finish, journaled; a
    /// second Ctrl-C while waiting cancels the rest.
    fn interrupt(&mut self, py: Python<'_>, e: PyErr) -> anyhow::Error {
        self.interrupted = true;
        if self.options.wait_on_interrupt && !self.running.is_empty() {
            eprintln!(
                "\ninterrupted: no new oracle call starts; waiting for the {} running (again to cancel them)",
                self.running.len()
            );
            while !self.running.is_empty() {
                match self.completed(py).and_then(|c| py.check_signals().map(|_| c)) {
                    Ok(Some((r, result))) => {
                        let wall_s = r.elapsed().as_secs_f64();
                        if let Err(j) = self.journal(r.position, &result, wall_s) {
                            return j;
                        }
                    }
                    Ok(None) => {}
                    Err(_) => break,
                }
            }
        }
        self.cancel_running(py);
        self.stop(e)
    }

    fn cancel_running(&mut self, py: Python<'_>) {
        for r in self.running.drain(..) {
            let _ = r.future.bind(py).call_method0("cancel");
        }
    }

    /// The next answer from the executor.
    fn next_submitted(&mut self) -> anyhow::Result<Option<(usize, Answer)>> {
        loop {
            let step = Python::attach(|py| -> PyResult<Option<(Running, Result<f64, String>)>> {
                self.launch(py)?;
                if self.running.is_empty() {
                    return Ok(None);
                }
                py.check_signals()?;
                self.completed(py)
            });
            let step = match step {
                Ok(s) => s,
                Err(e) => {
                    let is_interrupt = Python::attach(|py| e.is_instance_of::<PyKeyboardInterrupt>(py));
                    return Err(if is_interrupt { Python::attach(|py| self.interrupt(py, e)) } else { self.stop(e) });
                }
            };
            let Some((r, result)) = step else {
                if self.running.is_empty() {
                    return Ok(None);
                }
                continue;
            };
            let wall_s = r.elapsed().as_secs_f64();
            match self.settle(r.position, result, r.failed_before, wall_s)? {
                Some(answer) => return Ok(Some((r.position, answer))),
                None => self.queued.push_front((r.position, r.failed_before + 1)),
            }
        }
    }
}

/// The accuracy of an oracle's return value, or why it is none. An `Exception` raised is a failed call;
/// any other (`KeyboardInterrupt`, `SystemExit`) is the error, and stops the search.
fn judge<S: PySpace>(
    py: Python<'_>,
    value: PyResult<Bound<'_, PyAny>>,
    arch: &S::Arch,
) -> PyResult<Result<f64, String>> {
    let value = match value {
        Ok(v) => v,
        Err(e) if e.is_instance_of::<PyException>(py) => {
            let kind = e.get_type(py).name().map_or("Exception".to_string(), |n| n.to_string());
            return Ok(Err(format!("the oracle raised {kind} for {}: {}", S::id(arch), e.value(py))));
        }
        Err(e) => return Err(e),
    };
    let repr = || crate::errors::cut(value.repr().map_or("?".into(), |r| r.to_string()));
    if crate::errors::is_bool(&value) {
        return Ok(Err(format!(
            "the oracle returned {} for {}, not an accuracy (a bool is not a number here)",
            repr(),
            S::id(arch)
        )));
    }
    let Ok(acc) = value.extract::<f64>() else {
        return Ok(Err(format!("the oracle returned {} for {}, not a number", repr(), S::id(arch))));
    };
    if !(acc.is_finite() && ANSWER_RANGE.contains(&acc)) {
        return Ok(Err(format!(
            "the oracle returned {acc} for {}: an accuracy is a number from 0 to 100",
            S::id(arch)
        )));
    }
    Ok(Ok(acc))
}

impl<S: PySpace> Evaluator for PyOracle<'_, S> {
    fn start(&mut self, position: usize) -> anyhow::Result<()> {
        let id = self.id(position);
        let journaled = self.journal.as_ref().and_then(|j| j.get(&id)).cloned();
        match journaled.as_ref().and_then(|j| j.settled(self.options.retries)) {
            Some(answer) => self.ready.push_back((position, answer)),
            None => self.queued.push_back((position, journaled.map_or(0, |j| j.failures.len()))),
        }
        Ok(())
    }

    fn next(&mut self) -> anyhow::Result<Option<(usize, Answer)>> {
        if let Some(known) = self.ready.pop_front() {
            return Ok(Some(known));
        }
        if self.options.executor.is_some() { self.next_submitted() } else { self.call_here() }
    }
}

impl<S: PySpace> Drop for PyOracle<'_, S> {
    /// Calls still running are cancelled; an executor of ours is shut down.
    fn drop(&mut self) {
        Python::attach(|py| {
            self.cancel_running(py);
            if self.own_executor
                && let Some(ex) = &self.options.executor
            {
                let kwargs = pyo3::types::PyDict::new(py);
                let _ = kwargs.set_item("wait", false).and_then(|_| kwargs.set_item("cancel_futures", true));
                let _ = ex.bind(py).call_method("shutdown", (), Some(&kwargs));
            }
        });
    }
}

/// A `timeout` argument: seconds, more than 0.
pub fn seconds(value: f64) -> PyResult<Duration> {
    if !(value.is_finite() && value > 0.0 && value <= 365.0 * 86400.0) {
        return Err(PyValueError::new_err(format!(
            "timeout must be more than 0 seconds (at most a year), got {value}"
        )));
    }
    Ok(Duration::from_secs_f64(value))
}
