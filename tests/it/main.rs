//! nar's integration tests, one crate (one build and one link instead of one per file): each module
//! tests one part on the real data in `data/`; `common` holds the shared helpers.

mod common;

mod bad_input;
mod budgeted;
mod cli;
mod cli_run;
mod cost;
mod data;
mod declared;
mod declared_pipeline;
mod encode;
mod features;
mod fetch;
mod infer;
mod mutations;
mod nb101;
mod nb201;
mod predictor_study;
mod predictors;
mod ranker_grad;
mod report;
mod search;
mod train;
