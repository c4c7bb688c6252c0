//! The oracle: the only way a budgeted search method reads an accuracy.
//!
//! A method holds an [`Oracle`] and nothing else that knows accuracies. The oracle returns validation
//! accuracy only, counts *distinct* queries (asking again for an architecture already queried — or,
//! with classes, for one equivalent to it — is free and answers the same), and refuses a new one once
//! the budget is spent. Test accuracy is not reachable from it: the benchmark's test column lives in a
//! [`Scorecard`], which the study code uses after a method has finished, to score the pick and the
//! incumbent curve.
//!
//! Queries are started ([`Oracle::submit`]) and their answers waited for ([`Oracle::wait`]), so that an
//! evaluator that trains several networks at once (the user's command with `--parallel K`, a Python
//! executor) can: a synchronous method submits a batch and waits for all of it ([`Oracle::ask_all`]),
//! the asynchronous REA keeps K running. A query that fails (its command exits non-zero, prints no
//! accuracy, runs past its time limit, or the worker running it dies) is an [`Answer::Failed`]: it
//! spent its query, has no accuracy, is never asked for again and never picked.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::fmt;

use anyhow::{Result, bail};

/// What one query gave.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// The validation accuracy.
    Accuracy(f64),
    /// The call failed, for this reason (after its retries).
    Failed(String),
}

impl Answer {
    pub fn accuracy(&self) -> Option<f64> {
        match self {
            Answer::Accuracy(v) => Some(*v),
            Answer::Failed(_) => None,
        }
    }
}

/// Where validation accuracies come from: a benchmark table or the user's own training.
pub trait Evaluator {
    /// Starts evaluating the architecture at dataset position `position`. Any number may be started:
    /// an evaluator that runs K calls at a time queues the rest, in order; one that answers at once
    /// answers in [`Evaluator::next`].
    fn start(&mut self, position: usize) -> Result<()>;

    /// Waits until a started evaluation ends and returns its position and answer; `None` when none is
    /// started. A failed call is an [`Answer::Failed`]; an error is the evaluator's own (its journal
    /// cannot be written, the user interrupted the search) and stops the search.
    fn next(&mut self) -> Result<Option<(usize, Answer)>>;
}

/// After this many failed queries and no answer, the oracle gives up: the oracle is broken, not the
/// architectures.
pub const FAIL_FAST: usize = 5;

/// A benchmark's validation column (NaN = unlabelled), answering in the order asked.
pub struct TableEvaluator {
    val: Vec<f64>,
    started: VecDeque<usize>,
}

impl TableEvaluator {
    pub fn new(val: Vec<f64>) -> TableEvaluator {
        TableEvaluator { val, started: VecDeque::new() }
    }
}

impl Evaluator for TableEvaluator {
    fn start(&mut self, position: usize) -> Result<()> {
        if position >= self.val.len() {
            bail!("position {position} is past the dataset");
        }
        self.started.push_back(position);
        Ok(())
    }

    fn next(&mut self) -> Result<Option<(usize, Answer)>> {
        Ok(self.started.pop_front().map(|p| {
            let v = self.val[p];
            let answer = if v.is_finite() {
                Answer::Accuracy(v)
            } else {
                Answer::Failed(format!("the architecture at position {p} has no validation accuracy"))
            };
            (p, answer)
        }))
    }
}

/// Why a query was refused.
#[derive(Debug)]
pub enum QueryError {
    /// The budget is spent: no new architecture can be queried.
    BudgetSpent { budget: usize },
    /// The call failed (the reason): the query is spent.
    Failed(String),
    /// The evaluator itself failed (its journal, an interrupt).
    Evaluator(anyhow::Error),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::BudgetSpent { budget } => write!(f, "the query budget of {budget} is spent"),
            QueryError::Failed(reason) => write!(f, "the query failed: {reason}"),
            QueryError::Evaluator(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for QueryError {}

/// What [`Oracle::submit`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Submitted {
    /// A new query, started: its answer comes from [`Oracle::wait`].
    Started,
    /// Asked before (or an equivalent one): its answer, free.
    Known(Answer),
    /// Asked before and still running.
    Running,
    /// A new query, and the budget is spent.
    Spent,
}

enum State {
    Running,
    Done(Answer),
}

/// Validation accuracies, counted and capped.
pub struct Oracle<'a> {
    eval: &'a mut dyn Evaluator,
    budget: usize,
    /// The query each position is ([`super::domain::Domain::classes`]) and the position each query
    /// evaluates ([`super::domain::Domain::stand_ins`]); `None`: its own.
    classes: Option<(&'a [u32], &'a [usize])>,
    /// Each query's state, by query.
    state: HashMap<usize, State>,
    /// Every query spent, in the order submitted (the position asked).
    order: Vec<usize>,
    running: usize,
    failures: Vec<(usize, String)>,
}

impl<'a> Oracle<'a> {
    /// Every position its own query.
    pub fn new(eval: &'a mut dyn Evaluator, budget: usize) -> Oracle<'a> {
        Oracle {
            eval,
            budget,
            classes: None,
            state: HashMap::new(),
            order: Vec::new(),
            running: 0,
            failures: Vec::new(),
        }
    }

    /// Positions with one class number are one query: whichever member is asked, the class's stand-in
    /// (`stand_in[class]`: its canonical form, as a method that scores the whole pool asks for it) is
    /// evaluated, once, and every member answers its accuracy — so an answer does not depend on which
    /// member a method happened to ask for first.
    pub fn with_classes(
        eval: &'a mut dyn Evaluator,
        budget: usize,
        classes: &'a [u32],
        stand_in: &'a [usize],
    ) -> Oracle<'a> {
        Oracle { classes: Some((classes, stand_in)), ..Oracle::new(eval, budget) }
    }

    fn key(&self, position: usize) -> usize {
        self.classes.and_then(|(c, _)| c.get(position)).map_or(position, |&c| c as usize)
    }

    /// The position a query of `position` evaluates: its class's stand-in, where it has one.
    fn evaluated(&self, position: usize) -> usize {
        match self.classes {
            Some((c, s)) => c.get(position).and_then(|&k| s.get(k as usize)).copied().filter(|&p| p != usize::MAX),
            None => None,
        }
        .unwrap_or(position)
    }

    /// Starts the query of the architecture at `position` if it is new and the budget allows (it spends
    /// one of the budget now); answers a known one at once.
    pub fn submit(&mut self, position: usize) -> Result<Submitted> {
        let key = self.key(position);
        match self.state.get(&key) {
            Some(State::Done(a)) => return Ok(Submitted::Known(a.clone())),
            Some(State::Running) => return Ok(Submitted::Running),
            None if self.order.len() >= self.budget => return Ok(Submitted::Spent),
            None => {}
        }
        let position = self.evaluated(position);
        self.eval.start(position)?;
        self.state.insert(key, State::Running);
        self.order.push(position);
        self.running += 1;
        Ok(Submitted::Started)
    }

    /// Waits for a running query to end: its position and answer (`None` when none is running).
    pub fn wait(&mut self) -> Result<Option<(usize, Answer)>> {
        if self.running == 0 {
            return Ok(None);
        }
        let Some((position, answer)) = self.eval.next()? else {
            bail!("the evaluator lost {} running queries", self.running)
        };
        self.running -= 1;
        let key = self.key(position);
        if let Answer::Failed(reason) = &answer {
            self.failures.push((position, reason.clone()));
            if self.failures.len() >= FAIL_FAST && self.answered() == 0 {
                bail!("the oracle's first {} queries all failed; the last one: {reason}", self.failures.len());
            }
        }
        self.state.insert(key, State::Done(answer.clone()));
        Ok(Some((position, answer)))
    }

    /// Submits every architecture of a batch, in order, and waits for them all; returns the accuracies
    /// answered (failed queries left out), in the batch's order, and whether the budget allowed the
    /// whole batch. The answers, and so a method's next proposals, do not depend on the order in which
    /// the calls end.
    pub fn ask_all(&mut self, batch: &[usize]) -> Result<(Vec<(usize, f64)>, bool)> {
        let mut asked = batch.len();
        for (i, &p) in batch.iter().enumerate() {
            if self.submit(p)? == Submitted::Spent {
                asked = i;
                break;
            }
        }
        while self.wait()?.is_some() {}
        let answers = batch[..asked].iter().filter_map(|&p| self.known(p).map(|v| (p, v))).collect();
        Ok((answers, asked == batch.len()))
    }

    /// The validation accuracy of the architecture at `position` (one query, waited for).
    pub fn query(&mut self, position: usize) -> Result<f64, QueryError> {
        match self.submit(position).map_err(QueryError::Evaluator)? {
            Submitted::Spent => return Err(QueryError::BudgetSpent { budget: self.budget }),
            Submitted::Known(a) => return answer_of(a),
            Submitted::Started | Submitted::Running => {}
        }
        loop {
            match self.wait().map_err(QueryError::Evaluator)? {
                Some((p, a)) if self.key(p) == self.key(position) => return answer_of(a),
                Some(_) => {}
                None => return Err(QueryError::Evaluator(anyhow::anyhow!("the query of {position} was lost"))),
            }
        }
    }

    /// The accuracy already paid for, if any (free); `None` for a query not asked, running or failed.
    pub fn known(&self, position: usize) -> Option<f64> {
        match self.state.get(&self.key(position)) {
            Some(State::Done(a)) => a.accuracy(),
            _ => None,
        }
    }

    /// Whether the architecture (or one equivalent to it) has been queried (answered, failed or running).
    pub fn is_queried(&self, position: usize) -> bool {
        self.state.contains_key(&self.key(position))
    }

    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Distinct architectures queried so far (answered, failed or running).
    pub fn spent(&self) -> usize {
        self.order.len()
    }

    pub fn left(&self) -> usize {
        self.budget - self.order.len()
    }

    /// Queries started and not yet answered.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Queries answered with an accuracy.
    pub fn answered(&self) -> usize {
        self.order.len() - self.running - self.failures.len()
    }

    /// Every answered query in the order it was submitted: `(position, validation accuracy)`.
    pub fn history(&self) -> Vec<(usize, f64)> {
        self.order.iter().filter_map(|&p| self.known(p).map(|v| (p, v))).collect()
    }

    /// The query number (1-based, in the order submitted, failed ones counted) of each query of
    /// [`Oracle::history`].
    pub fn history_numbers(&self) -> Vec<usize> {
        (1..=self.order.len()).filter(|&n| self.known(self.order[n - 1]).is_some()).collect()
    }

    /// The failed queries, in the order they ended: `(position, reason)`.
    pub fn failures(&self) -> &[(usize, String)] {
        &self.failures
    }

    /// The answered architecture with the best validation accuracy (the earliest on ties): the pick.
    pub fn best(&self) -> Option<(usize, f64)> {
        self.history().into_iter().fold(None, |best, (p, v)| match best {
            Some((_, bv)) if v <= bv => best,
            _ => Some((p, v)),
        })
    }
}

fn answer_of(a: Answer) -> Result<f64, QueryError> {
    match a {
        Answer::Accuracy(v) => Ok(v),
        Answer::Failed(reason) => Err(QueryError::Failed(reason)),
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
