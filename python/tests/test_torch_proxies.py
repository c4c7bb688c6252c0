"""Zero-cost proxies (`nar.torch.proxies`): the command recomputes the rows of the tables nar ships in
`data/` value for value (NB201's three networks, NB101's sample), the same with several workers; a proxy does
not depend on which others are computed with it; bad input is exit 2 naming what is wrong."""

import csv
import math
from pathlib import Path

import pytest
import torch

import nar
import nar.torch as nt
from conftest import DATA
from nar.torch import proxies as P
from test_torch_train import write_images


class Result:
    def __init__(self, returncode: int, stderr: str):
        self.returncode, self.stderr = returncode, stderr


def command(capsys, *args: str) -> Result:
    """``python -m nar.torch.proxies ARGS``, run in this process (its exit code and standard error)."""
    capsys.readouterr()
    rc = P.main(list(args))
    return Result(rc, capsys.readouterr().err)


def head(path: Path, n: int) -> list:
    with open(path, newline="") as f:
        return [row for _, row in zip(range(n), csv.reader(f))]


def test_the_command_recomputes_the_shipped_tables(tmp_path, capsys):
    # Two workers (each takes every other row) write the shipped rows.
    out = tmp_path / "nb201.csv"
    r = command(capsys, "--space", "nb201", "--proxies", "synflow", "--limit", "4", "--workers", "2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert head(out, 100) == head(DATA / "nb201" / "nb201_proxies.csv", 5)

    out = tmp_path / "nb101.csv"
    cells = DATA / "nb101" / "nb101_subset_1k.csv"
    r = command(capsys, "--space", "nb101", "--cells", str(cells), "--proxies", "synflow", "--limit", "1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert head(out, 100) == head(DATA / "nb101" / "nb101_proxies.csv", 2)


def test_synflow_does_not_depend_on_the_proxies_computed_before_it():
    arch = nar.nb201(1234).arch_str
    images, labels = P.synthetic_batch(10, 32, batch=8)
    values = {}
    for which in (["synflow"], list(P.PROXIES)):
        torch.manual_seed(P.arch_seed(1234))
        values[len(which)] = P.proxies(nt.network(arch, "cifar10"), images, labels, which)
    assert values[1]["synflow"] == values[len(P.PROXIES)]["synflow"]
    assert list(values[len(P.PROXIES)]) == list(P.PROXIES)
    assert all(torch.isfinite(torch.tensor(v)) for v in values[len(P.PROXIES)].values())
    # A cell whose every path is cut by `none`: its output does not depend on the input.
    torch.manual_seed(0)
    cut = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    v = P.proxies(nt.network(cut, "cifar10"), images, labels)
    # Its Jacobians are all zero: every eigenvalue of their (zeroed) correlations is 0.
    assert v["jacob_cov"] == pytest.approx(-8 * (math.log(1e-5) + 1e5), rel=1e-12)


def test_a_data_folder_gives_the_batch(tmp_path, capsys):
    root = write_images(tmp_path / "images", {"train": 2, "val": 1}, classes=10, side=32)
    images, labels = P.folder_batch(str(root), "nb201", "cifar10", batch=8)
    assert images.shape == (8, 3, 32, 32) and labels.shape == (8,)
    out = tmp_path / "p.csv"
    r = command(capsys, "--proxies", "naswot,synflow", "--datasets", "cifar10", "--data-dir", str(root), "--batch", "8",
                "--limit", "2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert head(out, 1) == [["index", "arch_str", "cifar10_naswot", "cifar10_synflow"]]
    # ImageNet16-120's network has 120 classes: the folder's 10 are refused before any work.
    r = command(capsys, "--datasets", "imagenet16", "--data-dir", str(root), "--out", str(tmp_path / "q.csv"))
    assert r.returncode == 2 and "has 10 classes; the network of this dataset has 120" in r.stderr, r.stderr
    assert not (tmp_path / "q.csv").exists()


def test_bad_input_is_exit_2_naming_it(tmp_path, capsys):
    out = tmp_path / "p.csv"
    r = command(capsys, "--proxies", "synflow,zen", "--out", str(out))
    assert r.returncode == 2 and "--proxies: unknown zen" in r.stderr, r.stderr
    r = command(capsys, "--space", "nb101", "--out", str(out))
    assert r.returncode == 2 and "--space nb101 needs --cells CSV" in r.stderr, r.stderr
    r = command(capsys, "--space", "nb201", "--datasets", "cifar1000", "--out", str(out))
    assert r.returncode == 2 and "cifar1000 not a dataset of nb201" in r.stderr, r.stderr
    bad = tmp_path / "cells.csv"
    lines = (DATA / "nb101" / "nb101_subset_1k.csv").read_text().splitlines()
    bad.write_text("\n".join([lines[0], "0" * 32 + lines[1][32:]]) + "\n")
    r = command(capsys, "--space", "nb101", "--cells", str(bad), "--out", str(out))
    assert r.returncode == 2 and f"{bad}: line 2: unique_hash {'0' * 32} is not the cell's" in r.stderr, r.stderr
    assert not out.exists()
