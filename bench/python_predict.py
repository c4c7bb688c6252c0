"""Scores every NB201 architecture with a run's ranker from Python (`nar.Ranker.predict`) and with
`nar rank`, and prints both times and their ratio.

Usage: python bench/python_predict.py RUN_DIR [--nar target/release/nar]
"""
import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import nar


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("--nar", default=str(Path(__file__).resolve().parents[1] / "target" / "release" / "nar"))
    a = ap.parse_args()
    r = nar.Ranker.load(a.run_dir)
    n = 15625 if r.space == "nb201" else None
    if n is None:
        raise SystemExit("an NB201 run is needed (the benchmark scores the whole NB201 space)")
    t0 = time.perf_counter()
    r.predict(range(n))
    py = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        subprocess.run([a.nar, "rank", a.run_dir, "-o", str(Path(d) / "ranking.csv")], check=True, capture_output=True)
        cli = time.perf_counter() - t0
    print(f"python predict {py:.2f} s ({n / py:.0f} archs/s)  nar rank {cli:.2f} s ({n / cli:.0f} archs/s)  python/cli time {py / cli:.2f}x")


if __name__ == "__main__":
    main()
