"""pymoo's NSGA-II on nar's multi-objective problem, beside nar's methods in one run: NAS-Bench-201 on
CIFAR-10, validation accuracy (maximised) against the network's FLOPs (minimised), the same budget of
distinct architectures, measured the same way — the normalised hypervolume of each run's front against the
true front (EvoXBench's normalisation by the true front's ideal and nadir, reference point 1), the
fraction of the true front queried and IGD, mean ± std over seeds (docs/design.md §6).

    python bench/pymoo_nsga2.py [--nar target/release/nar] [--budget 100] [--seeds 20]
        [--dataset cifar10|cifar100|imagenet16] [--cost flops|params] [--methods all|mo-nar|…]

    python bench/pymoo_nsga2.py --equivalence none     # every cell its own query

The cell is pymoo's integer encoding: six variables in 0…4, one op per edge (NB201's edge order);
duplicates are eliminated within a population (`eliminate_duplicates=True`), and an architecture asked
for again later is answered from a cache, free: only distinct queries count, and a run stops at the
budget-th. Under nar's equivalence rule (`--equivalence canonical`, the default, as nar's own runs): a
cell is answered by its function class's canonical cell (the classes from `nar arch`), a class is one
query whichever of its cells pymoo asks for, and the true front is the front of the 4,660 classes;
with `--equivalence none` every cell is its own query and the true front is over the 15,625 cells. A
true-front member counts as found when a cell of its class was queried, for pymoo as for nar.
Operators: pymoo's mixed-integer recipe (integer random sampling, SBX and polynomial mutation with
rounding repair), a population of 20 (mo-rea's). nar's methods run with the same rule, budget and
seeds (`--method all`, and the other objectives with `--objectives`, `--dataset`). Needs numpy and
pymoo (`pip install pymoo`); reads the table in data/ and asks the nar binary for the costs.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


def arch_str(ops) -> str:
    o = [OPS[int(k)] for k in ops]
    return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"


VAL_COLUMN = {"cifar10": "cifar10_valid_val_acc", "cifar100": "cifar100_val_acc", "imagenet16": "imagenet16_val_acc"}


def load(nar: str, task: str, cost: str):
    """Validation accuracy and the cost per NB201 index (minimised: accuracy negated), the index of each
    architecture string, and each index's equivalence class (the index of its canonical form, from
    `nar arch`)."""
    val = {}
    with open(ROOT / "data/nb201/nb201_accuracy.csv") as f:
        for row in csv.DictReader(f):
            val[int(row["index"])] = float(row[VAL_COLUMN[task]])
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "nb201.csv"
        subprocess.run([nar, "space", "enumerate", "nb201", "--out", str(out)], check=True, capture_output=True)
        costs, index = {}, {}
        with open(out) as f:
            for row in csv.DictReader(f):
                i = int(row["index"])
                costs[i] = float(row[f"{task}_{cost}"])
                index[row["arch_str"]] = i
        n = len(val)
        by_index = sorted(index, key=index.get)
        archs = Path(d) / "all.json"
        archs.write_text(json.dumps([{"arch_str": a} for a in by_index]))
        described = subprocess.run([nar, "arch", "--file", str(archs), "--json"], check=True, capture_output=True)
        canon = np.array([r["canonical"]["index"] for r in json.loads(described.stdout)])
    points = np.array([[-val[i], costs[i]] for i in range(n)])
    return points, index, canon


def non_dominated(points: np.ndarray) -> np.ndarray:
    keep = []
    for i, p in enumerate(points):
        dominated = np.any(np.all(points <= p, axis=1) & np.any(points < p, axis=1))
        if not dominated:
            keep.append(i)
    return np.array(keep, dtype=int)


def measures(queried, points, truth, canon, ideal, nadir, hv_true, HV):
    q = points[queried]
    front = q[non_dominated(q)]
    norm = (front - ideal) / (nadir - ideal)
    hv = HV(norm) / hv_true
    # A member of the true front counts when a cell computing its function was queried (as nar counts).
    classes = {int(canon[i]) for i in queried}
    found = sum(int(canon[t]) in classes for t in truth) / len(truth)
    tn = (points[truth] - ideal) / (nadir - ideal)
    igd = float(np.mean([np.min(np.linalg.norm(norm - t, axis=1)) for t in tn]))
    return hv, found, igd


def nsga2_run(seed, budget, points, index, query):
    """The distinct queries of one NSGA-II run, in the order first asked (`query[i]`: the query cell `i`
    is, and the cell whose answer it gets)."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.problem import Problem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling

    order = []  # distinct queries in the order first asked
    seen = set()

    class Cell(Problem):
        def __init__(self):
            super().__init__(n_var=6, n_obj=2, xl=0, xu=4, vtype=int)

        def _evaluate(self, x, out, *args, **kwargs):
            f = []
            for row in np.asarray(x).round().astype(int):
                i = int(query[index[arch_str(row)]])
                if i not in seen and len(order) < budget:
                    seen.add(i)
                    order.append(i)
                f.append(points[i])
            out["F"] = np.array(f)

    problem = Cell()
    algorithm = NSGA2(
        pop_size=20,
        sampling=IntegerRandomSampling(),
        crossover=SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        mutation=PM(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        eliminate_duplicates=True,
    )
    algorithm.setup(problem, seed=seed, termination=("n_gen", 10**6), verbose=False)
    stalled = 0
    while len(order) < budget and stalled < 1000:
        before = len(order)
        pop = algorithm.ask()
        Evaluator().eval(problem, pop)
        algorithm.tell(infills=pop)
        stalled = stalled + 1 if len(order) == before else 0
    return order


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nar", default=str(ROOT / "target/release/nar"))
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--dataset", choices=sorted(VAL_COLUMN), default="cifar10")
    ap.add_argument("--cost", choices=["flops", "params"], default="flops")
    ap.add_argument("--equivalence", choices=["canonical", "none"], default="canonical")
    ap.add_argument("--methods", default="all", help="nar's methods beside it: all, or a comma-separated list")
    a = ap.parse_args()
    from pymoo.indicators.hv import HV as PymooHV

    points, index, canon = load(a.nar, a.dataset, a.cost)
    # The queries: a class (answered by its canonical cell), or every cell on its own.
    query = canon if a.equivalence == "canonical" else np.arange(len(points))
    pool = np.unique(query)
    truth = pool[non_dominated(points[pool])]
    ideal, nadir = points[truth].min(axis=0), points[truth].max(axis=0)
    hv = PymooHV(ref_point=np.array([1.0, 1.0]))
    hv_true = hv((points[truth] - ideal) / (nadir - ideal))
    marks = [q for q in (10, 25, 50, 64, 100, 150, 200, 300) if q < a.budget] + [a.budget]
    rows = {}
    seeds = range(a.first_seed, a.first_seed + a.seeds)
    for seed in seeds:
        order = nsga2_run(seed, a.budget, points, index, query)
        for q in marks:
            rows.setdefault(q, []).append(measures(order[:q], points, truth, canon, ideal, nadir, hv_true, hv))
    print(f"NB201 {a.dataset}, validation accuracy vs {a.cost}, equivalence {a.equivalence}: true front "
          f"{len(truth)} of {len(pool)} queries; budget {a.budget}, seeds {seeds[0]}–{seeds[-1]}; mean ± std")
    print(f"  {'method':<12}{'queries':>8}  {'hypervolume':>15}  {'front found':>15}  {'IGD':>15}")
    ms = lambda v: f"{np.mean(v):.3f} ± {np.std(v, ddof=1) if len(v) > 1 else 0.0:.3f}"
    for q in marks:
        h, f, g = zip(*rows[q])
        print(f"  {'pymoo-nsga2':<12}{q:>8}  {ms(h):>15}  {ms(f):>15}  {ms(g):>15}", flush=True)
    # nar's methods on the same problem, rule, budget and seeds (`all`, or a comma-separated list).
    for method in a.methods.split(","):
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "nar.json"
            subprocess.run([a.nar, "search", "--space", "nb201", "--task", a.dataset, "--method", method,
                            "--budget", str(a.budget), "--seeds", str(a.seeds), "--first-seed", str(a.first_seed),
                            "--objectives", f"val,{a.cost}", "--equivalence", a.equivalence, "-o", str(out)],
                           check=True, capture_output=True)
            s = json.loads(out.read_text())
        for row in s["front"]["table"]:
            for c in row["cells"]:
                f3 = lambda m: f"{m[0]:.3f} ± {m[1]:.3f}"
                print(f"  {row['method']:<12}{c['queries']:>8}  {f3(c['hypervolume']):>15}  "
                      f"{f3(c['found']):>15}  {f3(c['igd']):>15}", flush=True)
    assert len(s["front"]["true_front"]) == len(truth), "nar's true front differs from this script's"


if __name__ == "__main__":
    sys.exit(main())
