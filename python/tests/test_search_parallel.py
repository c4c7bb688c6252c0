"""Many oracle calls at once: `nar.search(parallel=K, executor=…)` through threads, processes and a Dask
cluster of worker processes; the synchronous methods' queries equal one call at a time; failures,
retries, time limits and the journal as `nar search --oracle-cmd` has them."""

import json
import os
import pickle
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

import nar

VAL = nar.Dataset.nb201().metric("cifar10_val_acc")


def table_oracle(arch):
    """The NB201 table as a training function (module level: it pickles to worker processes)."""
    return float(nar.Dataset.nb201().metric("cifar10_val_acc")[arch.index])


def dying_oracle(arch):
    """Kills its worker process for architectures whose index is divisible by 7; the table otherwise."""
    if arch.index % 7 == 0:
        os._exit(1)
    return table_oracle(arch)


class SlowOracle:
    """The table, each call taking `seconds`; counts the calls running at once."""

    def __init__(self, seconds=0.05):
        self.seconds, self.lock, self.now, self.most, self.calls = seconds, threading.Lock(), 0, 0, []

    def __call__(self, arch):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.calls.append(arch.index)
        time.sleep(self.seconds)
        with self.lock:
            self.now -= 1
        return float(VAL[arch.index])


@pytest.mark.parametrize("method, budget", [("random", 16), ("ls", 16), ("nar", 16)])
def test_parallel_threads_query_what_one_call_at_a_time_does(method, budget):
    one = nar.search("nb201", SlowOracle(0), budget, method=method, seed=4, batch=4)
    oracle = SlowOracle()
    four = nar.search("nb201", oracle, budget, method=method, seed=4, parallel=4)
    assert 2 <= oracle.most <= 4, f"{oracle.most} calls at once"
    assert four.history == one.history and four.pick == one.pick and four.failed == []


def test_rea_keeps_k_children_running():
    oracle = SlowOracle()
    found = nar.search("nb201", oracle, 24, method="rea", seed=1, parallel=4)
    assert 2 <= oracle.most <= 4 and found.queries == 24
    assert len({a.canonical() for a, _ in found.history}) == 24 == len(oracle.calls)


def test_architectures_pickle_to_worker_processes():
    a, c = nar.nb201(1234), nar.nb101([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    assert pickle.loads(pickle.dumps(a)) == a and pickle.loads(pickle.dumps(c)) == c
    assert pickle.loads(pickle.dumps(c)).hash == c.hash
    with ProcessPoolExecutor(2) as pool:
        found = nar.search("nb201", table_oracle, 12, method="random", seed=2, parallel=2, executor=pool)
    assert found.history == nar.search("nb201", table_oracle, 12, method="random", seed=2, batch=2).history


def test_failures_are_journaled_retried_and_resumed(tmp_path):
    journal = tmp_path / "j.jsonl"
    calls = []

    def every_other(arch):
        calls.append(arch.index)
        if len(calls) % 2 == 0:
            raise RuntimeError(f"call {len(calls)} lost its GPU")
        return float(VAL[arch.index])

    found = nar.search("nb201", every_other, 10, method="random", seed=3, journal=journal)
    assert (len(found.history), len(found.failed), len(calls)) == (5, 5, 10)
    assert all("lost its GPU" in why for _, why in found.failed)
    lines = journal.read_text().splitlines()
    header = json.loads(lines[0])
    assert header == {"nar_journal": 1, "space": "nb201", "dataset": "cifar10",
                      "command": "python:test_search_parallel.test_failures_are_journaled_retried_and_resumed.<locals>.every_other"}
    entries = [json.loads(line) for line in lines[1:]]
    assert sum("val" in e for e in entries) == 5 and sum("failed" in e for e in entries) == 5
    assert all(e["wall_s"] >= 0 and e["arch"] == nar.nb201(int(e["id"])).arch_str for e in entries)
    # A rerun answers from the journal: no call for what it holds, failures included.
    calls.clear()
    again = nar.search("nb201", every_other, 10, method="random", seed=3, journal=journal)
    assert calls == [] and again.history == found.history and again.failed == found.failed
    # With a retry, each failed one is called again (and this time answers).
    again = nar.search("nb201", every_other, 10, method="random", seed=3, journal=journal, retries=1)
    assert len(calls) == 5 and len(again.history) == 8 and len(again.failed) == 2
    # The journal is refused for another space or oracle, and locked while a search holds it.
    with pytest.raises(ValueError, match="holds the answers of the oracle .*every_other.*journal_reuse=True"):
        nar.search("nb201", table_oracle, 10, method="random", seed=3, journal=journal)
    reused = nar.search("nb201", table_oracle, 10, method="random", seed=3, journal=journal, journal_reuse=True)
    assert reused.history == again.history and reused.failed == again.failed


def test_a_call_past_its_timeout_fails_and_the_search_goes_on():
    def oracle(arch):
        if len(seen) == 0:
            seen.append(arch)
            time.sleep(3)
        return float(VAL[arch.index])

    seen = []
    started = time.monotonic()
    found = nar.search("nb201", oracle, 6, method="random", seed=5, timeout=0.5)
    assert time.monotonic() - started < 2.5
    [(arch, why)] = found.failed
    assert arch == seen[0] and why == f"the oracle ran past timeout=0.5 s for {arch.index} and was cancelled"
    assert len(found.history) == 5


def test_the_timeout_counts_from_the_calls_start_not_its_submission():
    # One worker, two calls submitted at a time: the second waits 0.6 s in the executor's queue, then
    # runs 0.6 s; counted from its submission it would pass timeout=1.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as ex:
        found = nar.search("nb201", SlowOracle(0.6), 4, method="random", seed=2, parallel=2, executor=ex, timeout=1.0)
    assert found.failed == [] and len(found.history) == 4


def test_a_hung_call_does_not_keep_python_from_exiting(tmp_path):
    # A call that never returns times out; nar's own threads are daemon threads, so the script ends.
    script = (
        "import time, nar\n"
        "def hang(arch):\n"
        "    time.sleep(10_000)\n"
        "try:\n"
        "    nar.search('nb201', hang, 8, method='random', timeout=0.2, parallel=2)\n"
        "except ValueError as e:\n"
        "    print('stopped:', e)\n"
    )
    import subprocess
    import sys

    started = time.monotonic()
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "stopped:" in p.stdout and "failed" in p.stdout, p.stdout
    assert time.monotonic() - started < 60


def test_oracles_are_named_by_what_identifies_them(tmp_path):
    import functools

    from nar._calls import oracle_name

    first = lambda arch: 50.0  # noqa: E731
    second = lambda arch: 60.0  # noqa: E731
    assert oracle_name(first) != oracle_name(second)
    assert oracle_name(first).startswith("python:test_search_parallel.test_oracles_are_named_by_what_identifies_them.<locals>.<lambda>@")
    assert oracle_name(table_oracle) == "python:test_search_parallel.table_oracle"
    p1, p2 = functools.partial(SlowOracle.__call__, seconds=1), functools.partial(SlowOracle.__call__, seconds=2)
    assert oracle_name(p1) != oracle_name(p2) and oracle_name(p1) == oracle_name(functools.partial(SlowOracle.__call__, seconds=1))
    assert oracle_name(SlowOracle()) == "python:test_search_parallel.SlowOracle"
    # Another lambda does not silently take the first one's answers.
    journal = tmp_path / "j.jsonl"
    nar.search("nb201", first, 3, method="random", journal=journal)
    with pytest.raises(ValueError, match="journal_reuse=True"):
        nar.search("nb201", second, 3, method="random", journal=journal)


def test_a_numpy_bool_is_not_an_accuracy():
    import numpy as np

    found = nar.search("nb201", lambda arch: np.bool_(True), 3, method="random")
    assert len(found.failed) == 3 and all("not an accuracy" in why for _, why in found.failed), found.failed


def test_parallel_past_the_budget_is_not_a_batch_error():
    found = nar.search("nb201", table_oracle, 5, method="random", seed=1, parallel=50)
    assert len(found.history) == 5


def test_search_rejects_bad_parallel_arguments():
    for kwargs, error, message in [
        ({"parallel": 0}, ValueError, "parallel must be at least 1"),
        ({"parallel": True}, TypeError, "parallel must be an integer"),
        ({"executor": object()}, TypeError, "executor must be a concurrent.futures.Executor"),
        ({"timeout": 0}, ValueError, "timeout must be more than 0"),
        ({"retries": -1}, ValueError, "retries must be a non-negative integer"),
        ({"on_interrupt": "later"}, ValueError, "on_interrupt"),
    ]:
        with pytest.raises(error, match=message):
            nar.search("nb201", table_oracle, 10, **kwargs)


def test_a_dask_cluster_of_worker_processes_runs_the_oracle():
    import dask  # scripts/test-python.sh installs distributed
    import distributed

    # A killed worker fails its call at once (no rescheduling on another worker).
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with distributed.Client(cluster) as client:
                ex = client.get_executor()
                found = nar.search("nb201", table_oracle, 16, method="random", seed=6, parallel=2, executor=ex)
                assert found.history == nar.search("nb201", table_oracle, 16, method="random", seed=6, batch=2).history
                pids = client.run(os.getpid)
                assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
                # Workers die mid-call: those calls fail (KilledWorker; with no rescheduling allowed, so
                # may a call the dead worker held queued), the search goes on.
                found = nar.search("nb201", dying_oracle, 30, method="random", seed=6, parallel=2, executor=ex)
                assert found.queries == 30 == len(found.history) + len(found.failed)
                assert any(a.index % 7 == 0 for a, _ in found.failed)
                assert all("KilledWorker" in why for _, why in found.failed), found.failed
                assert all(a.index % 7 for a, _ in found.history)
