//! The budgeted search methods by name, and what one run of a method queried.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// A budgeted search method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// nar's ranker-guided search ([`guided`]).
    Nar,
    Random,
    /// Regularized evolution.
    Rea,
    /// Local search.
    Ls,
    /// Multi-objective regularized evolution: NSGA-II's survival and tournaments ([`super::multi`]).
    #[serde(rename = "mo-rea")]
    MoRea,
    /// Pareto local search: the neighbours of the queried front ([`super::multi`]).
    #[serde(rename = "mo-ls")]
    MoLs,
    /// nar's guided search for the front ([`super::guided_front`]).
    #[serde(rename = "mo-nar")]
    MoNar,
}

impl Method {
    /// The methods of one objective (what `--method all` runs).
    pub const ALL: [Method; 4] = [Method::Nar, Method::Random, Method::Rea, Method::Ls];
    /// The methods of several objectives (`--objectives`; `--method all` adds them there).
    pub const MULTI_OBJECTIVE: [Method; 3] = [Method::MoNar, Method::MoRea, Method::MoLs];
    /// Every method, in the tables' order.
    pub const EVERY: [Method; 7] =
        [Method::Nar, Method::Random, Method::Rea, Method::Ls, Method::MoNar, Method::MoRea, Method::MoLs];

    pub fn name(self) -> &'static str {
        match self {
            Method::Nar => "nar",
            Method::Random => "random",
            Method::Rea => "rea",
            Method::Ls => "ls",
            Method::MoRea => "mo-rea",
            Method::MoLs => "mo-ls",
            Method::MoNar => "mo-nar",
        }
    }

    pub fn from_name(name: &str) -> Option<Method> {
        Method::EVERY.into_iter().find(|m| m.name() == name)
    }

    /// Whether the method needs several objectives (the costs it weighs against accuracy).
    pub fn is_multi_objective(self) -> bool {
        Method::MULTI_OBJECTIVE.contains(&self)
    }

    /// A seed of its own per method, so that methods do not share random draws.
    pub(super) fn rng(self, seed: u64) -> Rng {
        Rng::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (self as u64 + 1).wrapping_mul(0xc2b2_ae3d_27d4_eb4f))
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one run queried.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunHistory {
    /// Every answered query `(position, validation accuracy)`, in the order submitted.
    pub answered: Vec<(usize, f64)>,
    /// Every failed query `(position, reason)`: each spent one of the budget, none is picked.
    pub failed: Vec<(usize, String)>,
    /// The query number (1-based, in the order submitted, failed ones counted) of each answered query.
    pub numbers: Vec<usize>,
}

impl RunHistory {
    /// Answered queries with no failure among them (numbered 1, 2, …).
    pub fn answered(answered: Vec<(usize, f64)>) -> RunHistory {
        let numbers = (1..=answered.len()).collect();
        RunHistory { answered, failed: Vec::new(), numbers }
    }
}
