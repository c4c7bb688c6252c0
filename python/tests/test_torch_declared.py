"""Networks of declared spaces (nar.torch.declared): the NB201 and NB101 declarations build the built-in
networks (same modules, strict state_dict loads, the same outputs), DARTS's operations have DARTS's
parameter counts on the nb201 skeleton and train, ops registered in Python train through `nar search
--oracle-cmd`, and bad declarations, ops and factories are refused naming the key or the op."""

import json
import subprocess
import sys

import pytest
import torch
from torch import nn

import nar
import nar.torch as nt
from conftest import ROOT, cli_path
from nar.torch import declared, nb101, nb201
from test_torch_train import write_images

SPACES = ROOT / "spaces"


def same_outputs(ours: nn.Module, theirs: nn.Module, side: int) -> None:
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict(), strict=True)
    ours.eval(), theirs.eval()
    x = torch.randn(2, 3, side, side, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(ours(x), theirs(x), atol=1e-6, rtol=0)


def test_the_nb201_declaration_builds_nas_bench_201_networks():
    space = nar.Space.load(SPACES / "nb201.yaml")
    cells = [space.sample(seed) for seed in range(12)]
    cells.append("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|")
    for i, cell in enumerate(cells):
        dataset = ("cifar10", "cifar100", "imagenet16")[i % 3]
        classes, side = nb201.DATASETS[dataset]
        ours = nt.network(cell, space=space, classes=classes)
        theirs = nt.network(cell, dataset)
        assert nt.parameter_count(ours) == nar.nb201(cell).cost(dataset)["total_params"]
        same_outputs(ours, theirs, side)


def test_the_nb101_declaration_builds_nas_bench_101_networks():
    space = nar.Space.load(SPACES / "nb101.yaml")
    for seed in range(3):
        cell = json.loads(space.sample(seed))
        ours = nt.network(json.dumps(cell), space=SPACES / "nb101.yaml")
        theirs = nb101.Network(cell["matrix"], cell["ops"])
        assert nt.parameter_count(ours) == nar.nb101(cell["matrix"], cell["ops"]).cost()["total_params"]
        same_outputs(ours, theirs, 32)


DARTS_ON_NB201 = """name: darts-ops
family: edges
nodes: 4
ops: [none, skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5, max_pool_3x3, avg_pool_3x3]
zero: none
identity: skip_connect
accuracy: percent
tasks: [toy]
network: {skeleton: nb201, channels: 8, cells_per_stage: 1, classes: 4}
"""


def test_darts_operations_have_dartss_parameter_counts_and_train(tmp_path):
    c = 16
    # DARTS's operations.py: SepConv is two [depthwise K×K, pointwise 1×1, BN(affine)] blocks, DilConv one.
    formula = {
        "sep_conv_3x3": 2 * (c * 9 + c * c + 2 * c),
        "sep_conv_5x5": 2 * (c * 25 + c * c + 2 * c),
        "dil_conv_3x3": c * 9 + c * c + 2 * c,
        "dil_conv_5x5": c * 25 + c * c + 2 * c,
        "max_pool_3x3": 0,
        "avg_pool_3x3": 0,
        "skip_connect": 0,
        "none": 0,
    }
    for name, params in formula.items():
        assert nt.parameter_count(declared.op(name, c, c, 1)) == params, name
    # The stride-2 skip is DARTS's FactorizedReduce: two 1×1 convs to C/2 each and a BN.
    assert nt.parameter_count(declared.op("skip_connect", c, 2 * c, 2)) == 2 * c * c + 2 * 2 * c
    path = tmp_path / "darts-ops.yaml"
    path.write_text(DARTS_ON_NB201)
    space = nar.Space.load(path)
    cell = "|sep_conv_3x3~0|+|dil_conv_5x5~0|max_pool_3x3~1|+|sep_conv_5x5~0|avg_pool_3x3~1|dil_conv_3x3~2|"
    net = nt.network(cell, space=space)
    assert isinstance(net.cells[0].layers[0], declared.SepConv) and net.classifier.out_features == 4
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    y = torch.arange(8) % 4
    losses = []
    for _ in range(5):
        loss = nn.functional.cross_entropy(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert all(torch.isfinite(torch.tensor(losses))) and losses[-1] < losses[0]
    cost = nt.cost(cell, space=space)
    assert cost["params"] == nt.parameter_count(net) and cost["flops"] > 0


def test_bad_networks_ops_and_factories_are_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(DARTS_ON_NB201.replace("sep_conv_5x5", "wavelet"))
    space = nar.Space.load(path)
    with pytest.raises(ValueError, match="op 'wavelet' is not a standard operation .*register_op"):
        nt.network("|wavelet~0|+|none~0|none~1|+|none~0|none~1|none~2|", space=space)
    declared.register_op("wavelet", lambda c_in, c_out, stride: nn.Conv2d(c_in, c_out, 1))
    try:
        net = nt.network("|wavelet~0|+|none~0|none~1|+|none~0|none~1|none~2|", space=space)
        assert isinstance(net.cells[0].layers[0], nn.Conv2d)
        declared.register_op("wavelet", lambda c_in, c_out, stride: 1 / 0)
        with pytest.raises(ValueError, match="op 'wavelet': its factory raised ZeroDivisionError"):
            nt.network("|wavelet~0|+|none~0|none~1|+|none~0|none~1|none~2|", space=space)
        declared.register_op("wavelet", lambda c_in, c_out, stride: "a string")
        with pytest.raises(ValueError, match="op 'wavelet': its factory returned str, not an nn.Module"):
            nt.network("|wavelet~0|+|none~0|none~1|+|none~0|none~1|none~2|", space=space)
    finally:
        declared._REGISTERED.pop("wavelet", None)
    with pytest.raises(ValueError, match="keeps its channels"):
        declared.op("max_pool_3x3", 8, 16, 1)
    with pytest.raises(ValueError, match="do not divide"):
        declared.op("skip_connect", 8, 9, 2)
    # The declaration's block: a skeleton of the other family, an unknown key, no block at all.
    for text, says in [
        (DARTS_ON_NB201.replace("skeleton: nb201", "skeleton: nb101"), "`network.skeleton`: nb101 takes cells of the vertices family"),
        (DARTS_ON_NB201.replace("classes: 4", "clases: 4"), "unknown field `clases`"),
    ]:
        path.write_text(text)
        with pytest.raises(ValueError, match=says):
            nar.Space.load(path)
    path.write_text(DARTS_ON_NB201.replace("network: {skeleton: nb201, channels: 8, cells_per_stage: 1, classes: 4}\n", ""))
    with pytest.raises(ValueError, match="`network`: the declaration has no network block"):
        nt.network("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", space=nar.Space.load(path))


OPS_MODULE = """import torch
from torch import nn
import nar.torch


class Gate(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1, channels, 1, 1))

    def forward(self, x):
        return torch.sigmoid(self.scale) * x


nar.torch.register_op("gate", lambda c_in, c_out, stride: Gate(c_out))
"""


def test_a_registered_op_trains_through_the_oracle_command(tmp_path):
    images = write_images(tmp_path / "images", {"train": 6, "val": 2}, classes=4)
    (tmp_path / "my_ops.py").write_text(OPS_MODULE)
    yaml = tmp_path / "gated.yaml"
    yaml.write_text(DARTS_ON_NB201.replace("sep_conv_5x5", "gate"))
    journal = tmp_path / "journal.jsonl"
    oracle = (f"{sys.executable} -m nar.torch.train {{arch}} --space {yaml} --ops-module my_ops --data-dir {images} "
              f"--epochs 1 --checkpoint-dir {tmp_path / 'ck'}")
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    r = subprocess.run([str(cli_path()), "search", "--space", str(yaml), "--method", "random", "--budget", "2",
                        "--seeds", "1", "--oracle-cmd", oracle, "--journal", str(journal)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    header, *entries = [json.loads(line) for line in journal.read_text().splitlines()]
    assert header["declaration"] == nar.Space.load(yaml).sha256 and len(entries) == 2
    for e in entries:
        assert 0 <= e["val"] <= 100
    # An ops module that is not there: a usage error (exit 2) naming it.
    r = subprocess.run([sys.executable, "-m", "nar.torch.train", entries[0]["arch"], "--space", str(yaml),
                        "--ops-module", "no_such_ops", "--data-dir", str(images)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "--ops-module no_such_ops: cannot import it" in r.stderr
    # A schedule chosen by name; an unknown one is a usage error.
    r = subprocess.run([sys.executable, "-m", "nar.torch.train", entries[0]["arch"], "--space", str(yaml),
                        "--ops-module", "my_ops", "--data-dir", str(images), "--epochs", "1", "--recipe", "nb101-cifar10",
                        "--checkpoint-dir", str(tmp_path / "ck2")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0 and "nb101-cifar10's schedule" in r.stderr, r.stderr
    r = subprocess.run([sys.executable, "-m", "nar.torch.train", entries[0]["arch"], "--space", str(yaml),
                        "--data-dir", str(images), "--recipe", "adam"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 2 and "--recipe adam: one of nb101-cifar10, nb201-cifar10" in r.stderr, r.stderr
