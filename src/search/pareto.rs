//! Pareto fronts of several objectives, and how close a set of queried architectures comes to the
//! true front (docs/design.md §6, "Several objectives"). Every objective is minimised here: validation
//! accuracy enters as its negative, costs (the cost model's FLOPs and parameters, any cost column) as
//! they are.
//!
//! - [`dominates`], [`non_dominated`], [`fronts`] (Deb's fast non-dominated sorting) and
//!   [`crowding_distance`]: NSGA-II's survival;
//! - [`hypervolume`]: the exact dominated volume up to a reference point (a sweep in two dimensions,
//!   slicing by the last objective above);
//! - [`Normalizer`]: EvoXBench's normalisation by the true front's ideal and nadir points,
//!   `(f − ideal) / (nadir − ideal)`, with the reference point 1 in every objective;
//! - [`igd`]: the inverted generational distance, the mean distance of the true front's points to
//!   the nearest point found.

/// Whether `a` dominates `b`: no worse in every objective, better in one (all minimised).
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut better = false;
    for (x, y) in a.iter().zip(b) {
        if x > y {
            return false;
        }
        better |= x < y;
    }
    better
}

/// The indices of `points` that no other point dominates (equal points all stay), in their order.
pub fn non_dominated(points: &[Vec<f64>]) -> Vec<usize> {
    (0..points.len()).filter(|&i| !points.iter().any(|q| dominates(q, &points[i]))).collect()
}

/// Deb's fast non-dominated sorting: the first front, then the front of what is left, and so on; each
/// front's indices in increasing order.
pub fn fronts(points: &[Vec<f64>]) -> Vec<Vec<usize>> {
    let n = points.len();
    let mut dominated_by = vec![0usize; n];
    let mut dominates_list: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in 0..n {
            if dominates(&points[i], &points[j]) {
                dominates_list[i].push(j);
            } else if dominates(&points[j], &points[i]) {
                dominated_by[i] += 1;
            }
        }
    }
    let mut out = Vec::new();
    let mut current: Vec<usize> = (0..n).filter(|&i| dominated_by[i] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            for &j in &dominates_list[i] {
                dominated_by[j] -= 1;
                if dominated_by[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        out.push(std::mem::take(&mut current));
        current = next;
    }
    out
}

/// NSGA-II's crowding distance of each member of `front` (indices into `points`), in `front`'s order:
/// per objective, the two extremes get infinity and the others the gap between their neighbours,
/// divided by the objective's range on the front.
pub fn crowding_distance(points: &[Vec<f64>], front: &[usize]) -> Vec<f64> {
    let n = front.len();
    let mut d = vec![0.0; n];
    if n <= 2 {
        return vec![f64::INFINITY; n];
    }
    let dims = points[front[0]].len();
    for k in 0..dims {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| points[front[a]][k].total_cmp(&points[front[b]][k]).then(a.cmp(&b)));
        let (lo, hi) = (points[front[order[0]]][k], points[front[order[n - 1]]][k]);
        d[order[0]] = f64::INFINITY;
        d[order[n - 1]] = f64::INFINITY;
        if hi > lo {
            for w in 1..n - 1 {
                let gap = points[front[order[w + 1]]][k] - points[front[order[w - 1]]][k];
                d[order[w]] += gap / (hi - lo);
            }
        }
    }
    d
}

/// The exact hypervolume dominated by `points` up to `reference` (all minimised): the measure of the
/// points that some point of the set weakly dominates and that weakly dominate the reference. Points
/// not strictly better than the reference in every objective add nothing.
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let inside: Vec<Vec<f64>> =
        points.iter().filter(|p| p.iter().zip(reference).all(|(x, r)| x < r)).cloned().collect();
    hv(inside, reference)
}

fn hv(mut points: Vec<Vec<f64>>, reference: &[f64]) -> f64 {
    let d = reference.len();
    if points.is_empty() {
        return 0.0;
    }
    if d == 1 {
        let best = points.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min);
        return reference[0] - best;
    }
    if d == 2 {
        points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
        let mut volume = 0.0;
        let mut y = reference[1];
        for p in &points {
            if p[1] < y {
                volume += (reference[0] - p[0]) * (y - p[1]);
                y = p[1];
            }
        }
        return volume;
    }
    // Slices along the last objective: between consecutive values, the volume is the (d−1)-volume of
    // the points at or below the slice times its height.
    points.sort_by(|a, b| a[d - 1].total_cmp(&b[d - 1]));
    let mut volume = 0.0;
    for i in 0..points.len() {
        let top = if i + 1 < points.len() { points[i + 1][d - 1] } else { reference[d - 1] };
        let height = top - points[i][d - 1];
        if height <= 0.0 {
            continue;
        }
        let below: Vec<Vec<f64>> = points[..=i].iter().map(|p| p[..d - 1].to_vec()).collect();
        let keep = non_dominated(&below);
        volume += hv(keep.into_iter().map(|k| below[k].clone()).collect(), &reference[..d - 1]) * height;
    }
    volume
}

/// EvoXBench's normalisation: each objective by the true front's ideal (best) and nadir (worst on the
/// front) values, so the true front spans [0, 1] in each and the reference point is 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalizer {
    pub ideal: Vec<f64>,
    pub nadir: Vec<f64>,
}

impl Normalizer {
    /// From the points of a true front (at least one).
    pub fn of_front(front: &[Vec<f64>]) -> Normalizer {
        let dims = front[0].len();
        let ideal = (0..dims).map(|k| front.iter().map(|p| p[k]).fold(f64::INFINITY, f64::min)).collect();
        let nadir = (0..dims).map(|k| front.iter().map(|p| p[k]).fold(f64::NEG_INFINITY, f64::max)).collect();
        Normalizer { ideal, nadir }
    }

    /// `(f − ideal) / (nadir − ideal)` per objective (an objective the front does not spread keeps its
    /// offset unscaled).
    pub fn apply(&self, p: &[f64]) -> Vec<f64> {
        p.iter()
            .zip(self.ideal.iter().zip(&self.nadir))
            .map(|(x, (lo, hi))| if hi > lo { (x - lo) / (hi - lo) } else { x - lo })
            .collect()
    }

    /// The normalised hypervolume of `points` with the reference point 1 in every objective.
    pub fn hypervolume(&self, points: &[Vec<f64>]) -> f64 {
        let normed: Vec<Vec<f64>> = points.iter().map(|p| self.apply(p)).collect();
        hypervolume(&normed, &vec![1.0; self.ideal.len()])
    }
}

/// The inverted generational distance of `found` to `truth` (both already normalised): the mean, over
/// the true front's points, of the Euclidean distance to the nearest point found (infinity when nothing
/// was found).
pub fn igd(found: &[Vec<f64>], truth: &[Vec<f64>]) -> f64 {
    if truth.is_empty() {
        return 0.0;
    }
    let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt();
    truth.iter().map(|t| found.iter().map(|f| dist(t, f)).fold(f64::INFINITY, f64::min)).sum::<f64>()
        / truth.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[&[f64]]) -> Vec<Vec<f64>> {
        v.iter().map(|p| p.to_vec()).collect()
    }

    #[test]
    fn dominance_and_sorting_by_hand() {
        let p = pts(&[&[1.0, 4.0], &[2.0, 2.0], &[3.0, 3.0], &[4.0, 1.0], &[2.0, 2.0], &[5.0, 5.0]]);
        assert!(dominates(&p[1], &p[2]) && !dominates(&p[1], &p[4]) && !dominates(&p[0], &p[3]));
        assert_eq!(non_dominated(&p), vec![0, 1, 3, 4]);
        assert_eq!(fronts(&p), vec![vec![0, 1, 3, 4], vec![2], vec![5]]);
        // Crowding on (1,4), (2,2), (4,1): the extremes infinite; (2,2)'s neighbours are 3 apart in
        // each objective, whose range on the front is 3: 1 + 1.
        let d = crowding_distance(&p, &[0, 1, 3]);
        assert_eq!(d[0], f64::INFINITY);
        assert_eq!(d[2], f64::INFINITY);
        assert!((d[1] - (3.0 / 3.0 + 3.0 / 3.0)).abs() < 1e-12, "{d:?}");
    }

    #[test]
    fn hypervolume_by_hand_in_two_and_three_dimensions() {
        // Two dimensions: the staircase of (1,3), (2,2), (3,1) up to (4,4): 3 + 2 + 1 = 6.
        let p = pts(&[&[1.0, 3.0], &[2.0, 2.0], &[3.0, 1.0]]);
        assert_eq!(hypervolume(&p, &[4.0, 4.0]), 6.0);
        // A dominated point and one outside the reference change nothing.
        let q = pts(&[&[1.0, 3.0], &[2.0, 2.0], &[3.0, 1.0], &[3.0, 3.0], &[5.0, 0.5]]);
        assert_eq!(hypervolume(&q, &[4.0, 4.0]), 6.0);
        // Three dimensions: two boxes [0,2]×[0,1]×[0,1] and [0,1]×[0,2]×[0,1] up to (2,2,1) from the
        // points (0,1,0) and (1,0,0): union = 2 + 2 − 1 = 3.
        let r = pts(&[&[0.0, 1.0, 0.0], &[1.0, 0.0, 0.0]]);
        assert_eq!(hypervolume(&r, &[2.0, 2.0, 1.0]), 3.0);
        // A point at a third height adds its slab: (0,0,0.5) dominates all of [0,2]×[0,2]×[0.5,1].
        let s = pts(&[&[0.0, 1.0, 0.0], &[1.0, 0.0, 0.0], &[0.0, 0.0, 0.5]]);
        assert_eq!(hypervolume(&s, &[2.0, 2.0, 1.0]), 3.0 * 0.5 + 4.0 * 0.5);
    }

    #[test]
    fn normalised_measures_of_the_true_front_itself() {
        let truth = pts(&[&[-90.0, 100.0], &[-80.0, 50.0], &[-70.0, 10.0]]);
        let n = Normalizer::of_front(&truth);
        assert_eq!((n.ideal.clone(), n.nadir.clone()), (vec![-90.0, 10.0], vec![-70.0, 100.0]));
        assert_eq!(n.apply(&truth[1]), vec![0.5, 40.0 / 90.0]);
        // The true front's own IGD is 0; one point of it leaves the others at their distances.
        let normed: Vec<Vec<f64>> = truth.iter().map(|p| n.apply(p)).collect();
        assert_eq!(igd(&normed, &normed), 0.0);
        let one = vec![normed[0].clone()];
        let want = (0.0 + (0.25f64 + (40.0f64 / 90.0 - 1.0).powi(2)).sqrt() + 2f64.sqrt()) / 3.0;
        assert!((igd(&one, &normed) - want).abs() < 1e-12);
        assert!(n.hypervolume(&truth) > n.hypervolume(&truth[..1]));
    }
}
