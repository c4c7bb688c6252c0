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
        v.sample(0)
