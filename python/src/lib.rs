//! `nar` for Python: a thin PyO3 layer over the `nar` library crate. Every computation is the
//! library's; this crate converts arguments and results (numpy arrays through the `numpy` crate),
//! releases the GIL around long calls and turns errors into Python exceptions.
//!
//! - [`arch`]: `nar.nb201`, `nar.nb101`, the `Nb201Arch` / `Nb101Cell` classes (identity, cost, encoding);
//! - [`dataset`]: `nar.Dataset` (open, build, the embedded NB201 table; metrics as numpy arrays);
//! - [`ranker`]: `nar.SavedPredictor` (`nar.Ranker`) (load a run, predict scores and tiers, the PyTorch `state_dict`);
//! - [`jobs`]: `nar.train` and `nar.search` (a search whose oracle is a Python callable);
//! - [`oracle`]: that callable as the search's evaluator — in this thread or through an executor,
//!   journaled, timed, retried;
//! - [`space`]: `nar.Space` (a space declared in a YAML file: parse, hash, canonical, sample,
//!   neighbours, size);
//! - [`errors`]: error conversion and the progress reporter that notices Ctrl-C.

use pyo3::prelude::*;

mod arch;
mod dataset;
mod errors;
mod jobs;
mod oracle;
mod predictor;
mod ranker;
mod space;

#[pymodule]
fn _nar(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<arch::Nb201Arch>()?;
    m.add_class::<arch::Nb101Cell>()?;
    m.add_class::<dataset::Dataset>()?;
    m.add_class::<ranker::SavedPredictor>()?;
    m.add_class::<predictor::Predictor>()?;
    m.add_class::<space::Space>()?;
    m.add_function(wrap_pyfunction!(arch::nb201, m)?)?;
    m.add_function(wrap_pyfunction!(arch::nb101, m)?)?;
    m.add_function(wrap_pyfunction!(jobs::train, m)?)?;
    m.add_function(wrap_pyfunction!(jobs::search, m)?)?;
    Ok(())
}
