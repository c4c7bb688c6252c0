//! A named metric over a dataset, what kind of quantity it is (decided once, from its name, when it is
//! read), and the checks every loader applies to its values (`docs/design.md` §3, "What each format must
//! satisfy").
//!
//! Scales belong to the space ([`AccuracyScale`]): NAS-Bench-101 writes accuracies as fractions in every
//! one of its formats (NAR's JSON, the tfrecord, the sample table), NAS-Bench-201 as percentages. A value
//! on the other scale is refused where it is read, naming the file, the record and the field:
//! - a fraction field holding 93.0 is out of [0, 1];
//! - a percentage field of a known image dataset holding less than half of chance (CIFAR-10: 5 %,
//!   CIFAR-100: 0.5 %, ImageNet16-120: 0.42 %) cannot be a trained network's accuracy on a balanced test
//!   set — a constant classifier scores chance — and is taken for a fraction;
//! - a percentage column whose median is below 90 % of chance (below 1 where the image dataset is not
//!   known) holds fractions, whatever a few of its values look like.

use crate::space::{AccuracyScale, SearchSpace, Task};

/// What a metric measures, which decides its checks and which way is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// An accuracy (a name holding `acc`): higher is better, on the space's [`AccuracyScale`].
    Accuracy,
    /// A duration (`time`, `latency`): lower is better, never negative.
    Time,
    /// Anything else: lower is better, any finite value.
    Other,
}

impl MetricKind {
    /// The kind of the metric called `name`.
    pub fn of(name: &str) -> MetricKind {
        if name.contains("acc") {
            MetricKind::Accuracy
        } else if name.contains("time") || name.contains("latency") {
            MetricKind::Time
        } else {
            MetricKind::Other
        }
    }
}

/// One named metric over the whole dataset; `NaN` marks an architecture without a value.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    pub name: String,
    pub kind: MetricKind,
    pub values: Vec<f64>,
}

impl Metric {
    /// A metric whose kind follows from its name.
    pub fn new(name: impl Into<String>, values: Vec<f64>) -> Metric {
        let name = name.into();
        Metric { kind: MetricKind::of(&name), name, values }
    }

    /// Number of architectures with a value.
    pub fn labelled(&self) -> usize {
        self.values.iter().filter(|v| !v.is_nan()).count()
    }

    /// Whether larger is better (accuracies) or smaller (times, latencies, anything else).
    pub fn higher_is_better(&self) -> bool {
        self.kind == MetricKind::Accuracy
    }

    /// Position and value of the best architecture, if any has a value.
    pub fn best(&self) -> Option<(usize, f64)> {
        let better = |a: f64, b: f64| if self.higher_is_better() { a > b } else { a < b };
        self.values.iter().enumerate().filter(|(_, v)| !v.is_nan()).fold(None, |best, (i, &v)| match best {
            Some((_, b)) if !better(v, b) => best,
            _ => Some((i, v)),
        })
    }
}

/// The task of space `S` a metric name is about (`cifar10_val_acc` → `cifar10`; `cifar100_…` is not
/// `cifar10`), if its name starts with one.
fn task_of<S: SearchSpace>(name: &str) -> Option<Task> {
    S::tasks().iter().copied().find(|t| name.strip_prefix(t.name()).is_some_and(|rest| rest.starts_with('_')))
}

/// Chance accuracy in percent of the task a metric is about, where the space knows its classes.
fn chance_percent<S: SearchSpace>(name: &str) -> Option<f64> {
    task_of::<S>(name).and_then(S::classes).map(|c| 100.0 / c as f64)
}

/// Checks one value of metric `name` as it is read, for space `S` (its accuracy scale, its tasks'
/// chance accuracy).
pub fn check_value<S: SearchSpace>(name: &str, v: f64) -> Result<(), String> {
    let scale = S::accuracy_scale();
    if !v.is_finite() {
        return Err(format!("{v} is not a finite number"));
    }
    match MetricKind::of(name) {
        MetricKind::Accuracy => {
            if !(0.0..=scale.top()).contains(&v) {
                let hint = if scale == AccuracyScale::Fraction && v > 1.0 && v <= 100.0 {
                    "; a percentage in a fraction field?"
                } else {
                    ""
                };
                return Err(format!("{v} is not an accuracy: {}{hint}", scale.rule()));
            }
            if scale == AccuracyScale::Percent
                && let Some(chance) = chance_percent::<S>(name)
                && v < chance / 2.0
            {
                return Err(format!(
                    "{v} is below half of chance ({chance:.3} %): {}; a fraction in a percentage field?",
                    scale.rule()
                ));
            }
        }
        MetricKind::Time if v < 0.0 => return Err(format!("{v} is a negative time")),
        _ => {}
    }
    Ok(())
}

/// Checks a whole column of metric `name` once it is read (`NaN`s are missing values): a percentage
/// column whose median is below 90 % of chance (below 1 where the task is unknown) holds fractions.
/// Returns the position of the first value on the wrong scale with the reason.
pub fn check_column<S: SearchSpace>(name: &str, values: &[f64]) -> Result<(), (usize, String)> {
    let scale = S::accuracy_scale();
    if scale != AccuracyScale::Percent || MetricKind::of(name) != MetricKind::Accuracy {
        return Ok(());
    }
    let mut present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if present.is_empty() {
        return Ok(());
    }
    present.sort_by(f64::total_cmp);
    let median = present[present.len() / 2];
    let floor = chance_percent::<S>(name).map_or(1.0, |c| 0.9 * c);
    if median >= floor {
        return Ok(());
    }
    let first = values.iter().position(|&v| v < floor).expect("the median is below the floor");
    Err((
        first,
        format!(
            "{} is a fraction: the column's median is {median}, below {floor:.3}, so it holds fractions; {}",
            values[first],
            scale.rule()
        ),
    ))
}
