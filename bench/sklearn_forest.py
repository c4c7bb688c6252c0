"""scikit-learn's RandomForestRegressor on the features `nar bench predictors --python PY` writes: the
same rows, the same target (the normalised rank of validation accuracy), the same number of trees and
threads; prints `fit_s` and `score_s` for nar to set beside its own forest's.

    python bench/sklearn_forest.py TRAIN.csv ALL.csv --trees 200 --jobs 2

TRAIN.csv: one labelled architecture per line, its features then the target; ALL.csv: features only.
"""

import argparse
import time

import numpy as np
from sklearn.ensemble import RandomForestRegressor


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("train")
    ap.add_argument("all")
    ap.add_argument("--trees", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=1)
    a = ap.parse_args()
    train = np.loadtxt(a.train, delimiter=",", ndmin=2)
    every = np.loadtxt(a.all, delimiter=",", ndmin=2)
    x, y = train[:, :-1], train[:, -1]
    model = RandomForestRegressor(n_estimators=a.trees, max_features=1.0, n_jobs=a.jobs, random_state=0)
    t = time.perf_counter()
    model.fit(x, y)
    fit = time.perf_counter() - t
    t = time.perf_counter()
    model.predict(every)
    score = time.perf_counter() - t
    print(f"fit_s {fit:.4f}")
    print(f"score_s {score:.4f}")


if __name__ == "__main__":
    main()
