"""Search with a Python oracle: counted and capped queries, the same runs as `nar search` on the same
table, failed calls counted and listed."""

import csv
import json

import numpy as np
import pytest

import nar
from conftest import ROOT, cli

VAL = nar.Dataset.nb201().metric("cifar10_val_acc")


class TableOracle:
    """The user's training function, here a lookup in the NB201 table; records every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, arch):
        assert isinstance(arch, nar.Nb201Arch)
        self.calls.append(arch.index)
        return float(VAL[arch.index])


@pytest.mark.parametrize("method, budget", [("rea", 60), ("ls", 40), ("random", 30), ("nar", 30)])
def test_search_equals_the_command_line(method, budget, tmp_path):
    oracle = TableOracle()
    found = nar.search("nb201", oracle, budget, method=method, seed=0)
    assert found["queries"] == budget == len(oracle.calls) == len(set(oracle.calls))
    assert [a.index for a, _ in found["history"]] == oracle.calls
    best = max(range(budget), key=lambda q: (found["history"][q][1], -q))
    assert found["pick"] == found["history"][best][0] and found["accuracy"] == found["history"][best][1]
    # The command line, same method, seed and budget, reading the table itself.
    curve, summary = tmp_path / "curve.csv", tmp_path / "summary.json"
    cli("search", "--space", "nb201", "--method", method, "--budget", str(budget), "--seeds", "1",
        "--curve", str(curve), "-o", str(summary))
    with open(curve) as f:
        best_val = [float(row["best_val"]) for row in csv.DictReader(f)]
    ours = np.maximum.accumulate([v for _, v in found["history"]])
    assert best_val == list(ours)
    pick = json.loads(summary.read_text())["picks"][0]
    assert pick[2] == str(found["pick"].index)


def test_search_for_the_front_equals_the_command_line(tmp_path):
    oracle = TableOracle()
    found = nar.search("nb201", oracle, 40, method="mo-nar", seed=0, objectives=["val", "flops"])
    assert found["objectives"] == ["val", "flops"] and found["queries"] == 40 == len(set(oracle.calls))
    # The front: exactly the answers no other answer dominates (accuracy up, FLOPs down).
    flops = {a.index: a.cost()["total_flops"] for a, _ in found["history"]}
    points = [(v, flops[a.index], a.index) for a, v in found["history"]]
    dominated = {
        i for (v, f, i) in points
        if any(w >= v and g <= f and (w > v or g < f) for (w, g, _) in points)
    }
    front = sorted((m["arch"].index, m["accuracy"], m["costs"]["flops"]) for m in found["front"])
    assert front == sorted((i, v, f) for (v, f, i) in points if i not in dominated)
    # The hypervolume after the last answer: accuracy from 0, FLOPs from the space's largest.
    largest = max(nar.nb201(i).cost()["total_flops"] for i in range(15625))
    assert found["reference"] == [0.0, largest]
    steps = sorted((f, v) for _, v, f in front)
    volume = sum(v * ((steps[k + 1][0] if k + 1 < len(steps) else largest) - f) for k, (f, v) in enumerate(steps))
    assert found["hypervolume"][-1] == pytest.approx(volume, rel=1e-12)
    assert len(found["hypervolume"]) == 40 and found["hypervolume"] == sorted(found["hypervolume"])
    # The command line, same method, seed and budget, queries the same architectures in the same order.
    curve = tmp_path / "curve.csv"
    cli("search", "--space", "nb201", "--method", "mo-nar", "--objectives", "val,flops", "--budget", "40",
        "--seeds", "1", "--curve", str(curve))
    with open(curve) as f:
        best_val = [float(row["best_val"]) for row in csv.DictReader(f)]
    assert best_val == list(np.maximum.accumulate([v for _, v in found["history"]]))
    # Without objectives the result has no front.
    plain = nar.search("nb201", TableOracle(), 5, method="random")
    assert plain["front"] is None and plain["hypervolume"] is None


def test_search_nb101_with_a_python_oracle():
    seen = []

    def oracle(cell):
        assert isinstance(cell, nar.Nb101Cell)
        seen.append(cell.hash)
        return len(cell.ops) + cell.cost()["total_params"] / 1e7

    found = nar.search("nb101", oracle, 15, method="random", seed=3)
    assert found["queries"] == 15 == len(set(seen)) and found["space"] == "nb101"
    assert found["accuracy"] == max(v for _, v in found["history"])


def test_a_failing_oracle_call_is_a_failed_query_not_the_end():
    calls = []

    def oracle(arch):
        calls.append(arch)
        if len(calls) == 5:
            raise RuntimeError("the GPU caught fire")
        return 50.0

    found = nar.search("nb201", oracle, 20, method="random")
    assert len(calls) == 20 and found.queries == 20 and len(found.history) == 19
    [(arch, why)] = found.failed
    assert arch == calls[4] and why == f"the oracle raised RuntimeError for {arch.index}: the GPU caught fire"
    assert arch not in [a for a, _ in found.history]
    # An oracle whose first five calls all fail is broken: the search stops, saying why.
    with pytest.raises(ValueError, match="first 5 queries all failed.*returned 'high' for .*not a number"):
        nar.search("nb201", lambda a: "high", 5)
    with pytest.raises(ValueError, match="a number from 0 to 100"):
        nar.search("nb201", lambda a: float("nan"), 5)
    # An answer off the accuracy range, or a bool (an int to Python), is not an accuracy.
    with pytest.raises(ValueError, match="returned 250 for .*a number from 0 to 100"):
        nar.search("nb201", lambda a: 250.0, 5)
    with pytest.raises(ValueError, match="returned True .*a bool is not a number"):
        nar.search("nb201", lambda a: True, 5)
    # Ctrl-C (or any BaseException that is not an Exception) stops the search and is raised again.
    def interrupted(arch):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        nar.search("nb201", interrupted, 5)


def test_equivalent_cells_constraints_and_batches():
    # Canonical forms: the worked example of docs/design.md §1.
    cut = nar.nb201("|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|")
    assert cut.function == "avg(conv3(x))+conv1(x)"
    assert cut.canonical().index == 6095 and cut.canonical().function == cut.function
    assert len({nar.nb201(i).canonical() for i in range(15625)}) == 4660
    # No two queries compute the same function; "none" lets them.
    oracle = TableOracle()
    found = nar.search("nb201", oracle, 80, method="random", seed=5)
    assert len({a.function for a, _ in found["history"]}) == 80
    found = nar.search("nb201", TableOracle(), 300, method="random", seed=5, equivalence="none")
    assert len({a.function for a, _ in found["history"]}) < 300
    # Only networks within the constraint are queried, in batches too.
    for method in ["nar", "rea"]:
        found = nar.search("nb201", TableOracle(), 30, method=method, seed=1, max_params=600_000, batch=3)
        assert found["queries"] == 30
        assert all(a.cost()["total_params"] <= 600_000 for a, _ in found["history"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"budget": 0}, "budget"),
        ({"batch": 0}, "batch must be 1 to 10"),
        ({"batch": 11}, "batch must be 1 to 10"),
        ({"max_params": -1}, "max_params must be a non-negative integer"),
        ({"max_params": 10}, "meets the constraint"),
        ({"equivalence": "iso"}, "equivalence"),
        ({"predictor": "svm"}, "unknown predictor"),
        ({"method": "bayes"}, "bayes"),
        ({"method": "mo-rea"}, "mo-rea weighs accuracy against costs: give objectives="),
        ({"method": "nsga"}, "unknown method \"nsga\" \\(expected nar, random, rea or ls; with objectives also mo-nar"),
        ({"objectives": ["flops"]}, "objectives flops: give val first, then one or more costs"),
        ({"objectives": ["val"]}, "objectives val: give val first, then one or more costs"),
        ({"objectives": ["val", "flops", "flops"]}, "objectives val,flops,flops: flops is given twice"),
        ({"objectives": ["val", "latency"]}, "latency is not a cost of this space; costs: params, flops"),
        ({"objectives": ["val", "cifar10_test_acc"]}, "cifar10_test_acc is an accuracy, not a cost"),
        ({"objectives": "val,flops"}, "objectives is a list of names"),
        ({"space": "nb301"}, "nb301"),
        ({"dataset": "mnist"}, "mnist"),
        ({"task": "mnist"}, "nb201 has no task mnist; its tasks: cifar10, cifar100, imagenet16"),
        ({"task": "cifar10", "dataset": "cifar10"}, "give task= or its old name dataset=, not both"),
    ],
)
def test_search_rejects_bad_arguments(kwargs, message):
    args = {"space": "nb201", "oracle": TableOracle(), "budget": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        nar.search(**args)


def test_the_task_and_its_old_name_search_alike():
    # The guided search reads the task's network (its cost features): `task=`, the old `dataset=` and the
    # sixth positional argument are one argument.
    runs = [
        nar.search("nb201", TableOracle(), 12, method="nar", seed=3, task="cifar100"),
        nar.search("nb201", TableOracle(), 12, method="nar", seed=3, dataset="cifar100"),
        nar.search("nb201", TableOracle(), 12, "nar", 3, "cifar100"),
    ]
    histories = [[(a.index, v) for a, v in r.history] for r in runs]
    assert histories[0] == histories[1] == histories[2]


@pytest.mark.parametrize(
    "kwargs, message",
    [({"batch": True}, "batch must be an integer"), ({"max_flops": 1.5}, "max_flops must be an integer"), ({"oracle": 3}, "callable")],
)
def test_search_rejects_arguments_of_the_wrong_type(kwargs, message):
    args = {"space": "nb201", "oracle": TableOracle(), "budget": 10, **kwargs}
    with pytest.raises(TypeError, match=message):
        nar.search(**args)


def test_the_readme_example_runs_as_written(capsys):
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python") :]
    code = section[section.index("```python\n") + len("```python\n") :]
    code = code[: code.index("```")]
    assert code.count("\n") <= 12, "the README's example stays about ten lines"
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    arch_str, accuracy, queries = out[0].split()
    assert nar.nb201(arch_str).index >= 0 and int(queries) == 100
    assert float(accuracy) == max(VAL[nar.nb201(arch_str).index], 0)
    flops, shape = out[1].split(" ", 1)
    assert int(flops) == nar.nb201(arch_str).cost()["total_flops"] and shape == "(31, 4, 4)"


def test_results_are_typed_classes_with_a_dict_view():
    found = nar.search("nb201", TableOracle(), budget=12, method="random", seed=3)
    assert isinstance(found, nar.SearchResult)
    assert found.queries == found["queries"] == len(found.history) == 12
    assert found.pick == found["pick"] and found.accuracy == max(v for _, v in found.history)
    assert dict(found).keys() == {
        "space", "method", "seed", "budget", "queries", "pick", "accuracy", "history", "failed",
        "objectives", "front", "hypervolume", "reference",
    }
    assert found.front is None and found["objectives"] is None, "no objectives asked"
    with pytest.raises(KeyError):
        found["nothing"]
    with pytest.raises(AttributeError):
        found.queries = 5  # results are read-only
