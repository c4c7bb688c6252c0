"""nar.Space: spaces declared in YAML (spaces/*.yaml), read through the same library as `nar space`
and `nar arch --space`."""

import json

import pytest

import nar
from conftest import ROOT, cli

SPACES = ROOT / "spaces"


def test_a_declared_space_parses_samples_and_canonicalises():
    s = nar.Space.load(SPACES / "nb201.yaml")
    assert (s.name, s.family, len(s)) == ("nb201", "edges", 15625)
    assert s.ops == ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
    cell = s.sample(3)
    assert s.parse(cell) == cell and cell == s.sample(3)
    # The same answers as the command line's `nar arch --space`.
    out = json.loads(cli("arch", "--space", str(SPACES / "nb201.yaml"), "--json", cell))
    assert (s.hash(cell), s.canonical(cell)) == (out["hash"], out["canonical"])
    # Every neighbour is one op away, and a cell is its canonical cell's class.
    for n in s.neighbours(cell):
        assert sum(a != b for a, b in zip(n.split("|"), cell.split("|"))) == 1
    assert s.hash(s.canonical(cell)) == s.hash(cell)
    # The built-in space agrees on the class: equivalent cells, one canonical form.
    assert nar.nb201(s.canonical(cell)).canonical() == nar.nb201(cell).canonical()


def test_the_darts_cell_is_sampled_not_enumerated():
    s = nar.Space.load(SPACES / "darts-cell.yaml")
    assert len(s) == 1 * 3 * 6 * 10 * 8**8
    cells = {s.sample(seed) for seed in range(50)}
    assert len(cells) == 50
    with pytest.raises(ValueError, match="darts-cell holds 3.02 × 10\\^9 cells"):
        s.canonical(next(iter(cells)))


def test_bad_declarations_and_cells_are_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((SPACES / "nb201.yaml").read_text().replace("zero: none", "zero: nothing"))
    with pytest.raises(ValueError, match="bad.yaml: `zero`: nothing is not among the ops"):
        nar.Space.load(bad)
    with pytest.raises(FileNotFoundError):
        nar.Space.load(tmp_path / "missing.yaml")
    s = nar.Space.load(SPACES / "nb201.yaml")
    with pytest.raises(ValueError, match="node 1 reads only earlier nodes"):
        s.parse("|nor_conv_3x3~1|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(TypeError):
        s.sample(True)
    v = nar.Space.load(SPACES / "nb101.yaml")
    with pytest.raises(ValueError, match="edges family only"):
        v.canonical(v.sample(0))
    with pytest.raises(ValueError, match="vertex 1 reads 0 vertices|output is not reachable"):
        v.neighbours('{"matrix": [[0, 0, 0], [0, 0, 1], [0, 0, 0]], "ops": ["conv3x3-bn-relu"]}')


TREES = (
    "name: trees\nfamily: vertices\nmax_vertices: 5\nmax_edges: 8\nin_degree: [1, 1]\noutput: leaves\n"
    "output_merge: sum\nops: [conv, pool, id]\nidentity: id\naccuracy: fraction\ntasks: [toy]\n"
)


def test_vertices_cells_are_sampled_and_mutated(tmp_path):
    (tmp_path / "trees.yaml").write_text(TREES)
    s = nar.Space.load(tmp_path / "trees.yaml")
    cells = {s.sample(seed) for seed in range(40)}
    assert all(s.parse(c) == c for c in cells) and len(cells) > 10
    # Every neighbour is a cell of the space, another class member than the cell itself, each once.
    cell = s.sample(1)
    hashes = [json.loads(cli("arch", "--space", str(tmp_path / "trees.yaml"), "--json", n))["hash"] for n in s.neighbours(cell)]
    assert len(hashes) == len(set(hashes)) > 0


def test_search_takes_a_declared_space_and_one_per_process(tmp_path):
    # One declared space per process: the search runs in an interpreter of its own.
    yaml = tmp_path / "trees.yaml"
    yaml.write_text(TREES)
    code = f"""
import json, nar
s = nar.Space.load({str(yaml)!r})
calls = []
def oracle(arch):
    calls.append(arch)
    return 0.40 + 0.12 * arch.count('"conv"') + 0.05 * arch.count('"pool"')
r = nar.search(s, oracle, 20, method="nar", seed=0)
try:
    nar.search(nar.Space.load({str(SPACES / "nb201.yaml")!r}), oracle, 5)
    clash = None
except ValueError as e:
    clash = str(e)
print(json.dumps({{"space": r["space"], "queries": r["queries"], "accuracy": r["accuracy"],
                  "history": [a for a, _ in r["history"]], "calls": calls[:20], "clash": clash}}))
"""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["space"] == "declared" and r["queries"] == 20 and r["history"] == r["calls"]
    # Three convs is the best a tree of three operation vertices holds.
    assert r["accuracy"] == pytest.approx(0.76)
    assert "is not the declared space in use" in r["clash"] and "trees.yaml" in r["clash"]


def test_a_predictor_fits_a_declared_space_from_its_table(tmp_path):
    # nar.Dataset.build and nar.Predictor take an nar.Space (in an interpreter of its own: one declared
    # space per process). The table: every cell (`nar space enumerate`) with a synthetic accuracy.
    import csv
    import subprocess
    import sys

    yaml = tmp_path / "trees.yaml"
    yaml.write_text(TREES)
    cli("space", "enumerate", str(yaml), "-o", str(tmp_path / "cells.csv"))
    cells = [row["arch"] for row in csv.DictReader(open(tmp_path / "cells.csv"))]
    truth = [0.40 + 0.12 * c.count('"conv"') + 0.05 * c.count('"pool"') for c in cells]
    with open(tmp_path / "t.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["arch", "toy_val_acc"])
        w.writerows([c, round(v, 4)] for c, v in zip(cells, truth))
    code = f"""
import json, nar
s = nar.Space.load({str(yaml)!r})
ds = nar.Dataset.build(s, [{str(tmp_path / "t.csv")!r}])
cells = {cells!r}
p = nar.Predictor("forest", space=s)
p.fit(cells[:30], {truth[:30]!r})
print(json.dumps({{"n": len(ds), "space": ds.space, "scores": list(map(float, p.predict(cells)))}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert (r["n"], r["space"]) == (101, "declared")
    # Ranked by the forest as by the truth: the best-scored cell is among the truth's ten best.
    best = max(range(len(truth)), key=lambda i: r["scores"][i])
    assert truth[best] >= sorted(truth)[-10]
