//! Searching a space for its best architecture.
//!
//! - [`reference`]: NAR's reference search with a trained ranker (`nar reference-search RUN_DIR`), reported with
//!   the honest pick and random search at the same budget;
//! - [`oracle`]: the only way a budgeted method reads an accuracy — validation accuracy, counted,
//!   capped by the budget; test accuracy lives in [`oracle::Scorecard`], which only reporting code holds;
//! - [`domain`]: where a method may go — the pool of architectures it may query and their neighbours;
//! - [`baselines`]: random search, regularized evolution and local search;
//! - [`command`]: the user's own oracle, a command per architecture with a journal;
//! - [`guided`]: nar's own method, a budgeted loop with the ranker in it; [`guided_front`], the same
//!   loop for the Pareto front of accuracy against costs;
//! - [`method`]: the methods by name and what one run queried;
//! - [`budgeted`]: the budgeted comparison of methods — methods × seeds × budgets, the incumbent curves
//!   and their table;
//! - [`pareto`], [`front`], [`multi`]: several objectives — Pareto fronts, hypervolume, how close each
//!   run's queries come to the true front, and the multi-objective methods.

pub mod baselines;
pub mod budgeted;
pub mod command;
pub mod domain;
pub mod front;
pub mod guided;
pub mod guided_front;
pub mod inputs;
pub mod journal;
pub mod method;
pub mod multi;
pub mod oracle;
pub mod pareto;
pub mod reference;
