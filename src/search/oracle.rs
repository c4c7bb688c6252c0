//! The oracle: the only way a budgeted search method reads an accuracy.
//!
//! A method holds an [`Oracle`] and nothing else that knows accuracies. The oracle returns validation
//! accuracy only, counts *distinct* queries (asking again for an architecture already queried — or,
//! with classes, for one equivalent to it — is free and answers the same), and refuses a new one once
//! the budget is spent. Test accuracy is not
//! reachable from it: the benchmark's test column lives in a [`Scorecard`], which the study code uses
//! after a method has finished, to score the pick and the incumbent curve.

use std::collections::HashMap;
use std::fmt;

use anyhow::Result;

/// Where validation accuracies come from: a benchmark table or the user's own training.
pub trait Evaluator {
    /// The validation accuracy of the architecture at dataset position `position`.
    fn evaluate(&mut self, position: usize) -> Result<f64>;

    /// The methods are about to ask for all of `positions`, in this order, each a new query: an
    /// evaluator that can answer several at once (the user's command with `--parallel K`) may compute
    /// them now, so that the `evaluate` calls that follow answer at once. The answers, and so the
    /// methods' proposals, are the same either way. The default does nothing.
    fn prefetch(&mut self, positions: &[usize]) -> Result<()> {
        let _ = positions;
        Ok(())
    }
}

/// A benchmark's validation column (NaN = unlabelled).
pub struct TableEvaluator {
    val: Vec<f64>,
}

impl TableEvaluator {
    pub fn new(val: Vec<f64>) -> TableEvaluator {
        TableEvaluator { val }
    }
}

impl Evaluator for TableEvaluator {
    fn evaluate(&mut self, position: usize) -> Result<f64> {
        match self.val.get(position) {
            Some(v) if v.is_finite() => Ok(*v),
            Some(_) => anyhow::bail!("architecture at position {position} has no validation accuracy"),
            None => anyhow::bail!("position {position} is past the dataset"),
        }
    }
}

/// Why a query was refused.
#[derive(Debug)]
pub enum QueryError {
    /// The budget is spent: no new architecture can be queried.
    BudgetSpent { budget: usize },
    /// The evaluator failed (the user's command, an unlabelled architecture).
    Failed(anyhow::Error),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::BudgetSpent { budget } => write!(f, "the query budget of {budget} is spent"),
            QueryError::Failed(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for QueryError {}

/// Validation accuracies, counted and capped.
pub struct Oracle<'a> {
    eval: &'a mut dyn Evaluator,
    budget: usize,
    /// The query each position is ([`super::domain::Domain::classes`]); `None`: its own.
    classes: Option<&'a [u32]>,
    /// Answers by query.
    known: HashMap<usize, f64>,
    history: Vec<(usize, f64)>,
}

impl<'a> Oracle<'a> {
    /// Every position its own query.
    pub fn new(eval: &'a mut dyn Evaluator, budget: usize) -> Oracle<'a> {
        Oracle { eval, budget, classes: None, known: HashMap::new(), history: Vec::new() }
    }

    /// Positions with one class number are one query: the first one asked is evaluated, the others
    /// answer its accuracy, free.
    pub fn with_classes(eval: &'a mut dyn Evaluator, budget: usize, classes: &'a [u32]) -> Oracle<'a> {
        Oracle { classes: Some(classes), ..Oracle::new(eval, budget) }
    }

    fn key(&self, position: usize) -> usize {
        self.classes.and_then(|c| c.get(position)).map_or(position, |&c| c as usize)
    }

    /// The validation accuracy of the architecture at `position`; a new query spends one of the budget.
    pub fn query(&mut self, position: usize) -> Result<f64, QueryError> {
        let key = self.key(position);
        if let Some(&v) = self.known.get(&key) {
            return Ok(v);
        }
        if self.history.len() >= self.budget {
            return Err(QueryError::BudgetSpent { budget: self.budget });
        }
        let v = self.eval.evaluate(position).map_err(QueryError::Failed)?;
        self.known.insert(key, v);
        self.history.push((position, v));
        Ok(v)
    }

    /// Tells the evaluator the queries that asking for `batch` in order will make (the new distinct
    /// ones, as many as the budget has left), so that it may evaluate them at once.
    pub fn prefetch(&mut self, batch: &[usize]) -> Result<()> {
        let mut keys = std::collections::HashSet::new();
        let new: Vec<usize> = batch
            .iter()
            .copied()
            .filter(|&p| !self.known.contains_key(&self.key(p)) && keys.insert(self.key(p)))
            .take(self.left())
            .collect();
        if new.len() > 1 {
            self.eval.prefetch(&new)?;
        }
        Ok(())
    }

    /// The answer already paid for, if any (free).
    pub fn known(&self, position: usize) -> Option<f64> {
        self.known.get(&self.key(position)).copied()
    }

    /// Whether the architecture (or one equivalent to it) has been queried.
    pub fn is_queried(&self, position: usize) -> bool {
        self.known.contains_key(&self.key(position))
    }

    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Distinct architectures queried so far.
    pub fn spent(&self) -> usize {
        self.history.len()
    }

    pub fn left(&self) -> usize {
        self.budget - self.history.len()
    }

    /// Every query in order: `(position, validation accuracy)`.
    pub fn history(&self) -> &[(usize, f64)] {
        &self.history
    }

    /// The queried architecture with the best validation accuracy (the earliest on ties): the pick.
    pub fn best(&self) -> Option<(usize, f64)> {
        self.history.iter().copied().fold(None, |best, (p, v)| match best {
            Some((_, bv)) if v <= bv => best,
            _ => Some((p, v)),
        })
    }
}

/// What reporting code knows and search methods do not: the accuracy a pick is judged by (test accuracy
/// where the benchmark has it) and its rank among the labelled architectures.
pub struct Scorecard {
    report: Vec<f64>,
    rank: Vec<usize>,
    /// The ranked positions, best first.
    order: Vec<usize>,
    pub metric: String,
}

impl Scorecard {
    /// From the reporting column (NaN = unlabelled): every architecture with a finite value is ranked,
    /// rank 1 = best.
    pub fn new(report: Vec<f64>, metric: &str) -> Scorecard {
        let positions: Vec<usize> = (0..report.len()).filter(|&i| report[i].is_finite()).collect();
        Scorecard::over(report, positions, metric)
    }

    /// Ranks only `positions` (rank 0 elsewhere), by the reporting column; ties go to the lower position.
    pub fn over(report: Vec<f64>, positions: Vec<usize>, metric: &str) -> Scorecard {
        let mut order = positions;
        order.sort_by(|&a, &b| report[b].total_cmp(&report[a]).then(a.cmp(&b)));
        let mut rank = vec![0; report.len()];
        order.iter().enumerate().for_each(|(r, &i)| rank[i] = r + 1);
        Scorecard { report, rank, order, metric: metric.to_string() }
    }

    pub fn accuracy(&self, position: usize) -> f64 {
        self.report[position]
    }

    pub fn rank(&self, position: usize) -> usize {
        self.rank[position]
    }

    /// How many architectures are ranked.
    pub fn labelled(&self) -> usize {
        self.order.len()
    }

    /// The best reporting accuracy among the ranked architectures.
    pub fn optimum(&self) -> f64 {
        self.order.first().map_or(f64::NEG_INFINITY, |&p| self.report[p])
    }
}
