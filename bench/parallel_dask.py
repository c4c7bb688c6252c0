"""`nar.search(parallel=K, executor=…)` against one call at a time, with an oracle that sleeps a fixed
time and then answers from the NB201 table: the wall time of a search of BUDGET queries for K = 1, 2, 4,
8 through Dask's LocalCluster (8 worker processes, one thread each; with --threads, also through a
ThreadPoolExecutor), its
speed-up over K = 1 through the same executor, and nar's own time per query (the wall time less the
oracle's sleeps, at K = 1).

    python bench/parallel_dask.py [SLEEP_SECONDS] [BUDGET] [--threads]
"""

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import distributed

import nar

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
SLEEP = float(ARGS[0]) if len(ARGS) > 0 else 1.0
BUDGET = int(ARGS[1]) if len(ARGS) > 1 else 48


def sleeping_oracle(arch):
    """Sleeps, then answers from the table, read once per worker process (kept on the imported nar
    module: this function reaches the workers by value, with globals of its own each time)."""
    time.sleep(SLEEP)
    import nar as worker_nar

    if not hasattr(worker_nar, "_bench_val"):
        worker_nar._bench_val = worker_nar.Dataset.nb201().metric("cifar10_val_acc")
    return float(worker_nar._bench_val[arch.index])


def run(executor_name, executor, methods):
    print(f"{'executor':<8} {'method':<7} {'K':>3} {'wall_s':>9} {'speedup':>8}")
    for method in methods:
        base = None
        for k in [1, 2, 4, 8]:
            start = time.monotonic()
            nar.search("nb201", sleeping_oracle, BUDGET, method=method, seed=0, parallel=k, executor=executor)
            wall = time.monotonic() - start
            if base is None:
                base = wall
                overhead = (wall - BUDGET * SLEEP) / BUDGET
            print(f"{executor_name:<8} {method:<7} {k:>3} {wall:>9.2f} {base / wall:>8.2f}", flush=True)
        print(f"{executor_name:<8} {method:<7} nar's own time per query at K = 1: {overhead:.3f} s", flush=True)


if __name__ == "__main__":
    methods = ["random", "rea", "nar"]
    with distributed.LocalCluster(n_workers=8, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            client.run(lambda: None if __import__("nar").Dataset.nb201() is None else None)
            run("dask", client.get_executor(), methods)
    if "--threads" in sys.argv:
        with ThreadPoolExecutor(8) as pool:
            run("threads", pool, methods)
