"""Architectures: identities, costs and encodings equal to `nar arch --json`; bad input raises ValueError."""

import json

import numpy as np
import pytest

import nar
from conftest import cli_json

NB201_EXAMPLE = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|"
# NAS-Bench-101's example cell from its README (hash checked by the Rust tests).
NB101_MATRIX = [
    [0, 1, 1, 1, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 1, 0, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 0],
]
NB101_OPS = ["input", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output"]


def expected_cost(net):
    # The same keys and values as `nar arch --json` (one Serialize makes both).
    assert list(net) == ["total_flops", "total_params", "vertex_or_edge_flops", "vertex_or_edge_params"]
    return net


@pytest.mark.parametrize("arch", [NB201_EXAMPLE, "0", "1234", "15624"])
def test_nb201_equals_the_command_line(arch):
    ref = cli_json("arch", arch, "--json", "--encode")
    a = nar.nb201(int(arch) if arch.isdigit() else arch)
    assert a.index == ref["index"] and a.arch_str == ref["arch_str"]
    assert nar.nb201(a.arch_str) == a and hash(nar.nb201(a.index)) == hash(a)
    for dataset, key in [("cifar10", "cifar10-valid"), ("cifar100", "cifar100"), ("imagenet16", "ImageNet16-120")]:
        assert a.cost(dataset=dataset) == expected_cost(ref["networks"][key])
        e = a.encode(dataset)
        assert e.dtype == np.float32 and e.shape == (31, 4, 4)
        assert np.array_equal(e, np.array(ref["encoding"][key], dtype=np.float32))


def test_nb101_equals_the_command_line():
    c = nar.nb101(NB101_MATRIX, NB101_OPS)
    ref = cli_json("arch", json.dumps({"matrix": NB101_MATRIX, "ops": NB101_OPS}), "--json", "--encode")
    assert c.hash == ref["hash"] and c.matrix == ref["matrix"] and c.ops == ref["ops"]
    assert c.cost() == expected_cost(ref["networks"]["cifar10"])
    e = c.encode()
    assert e.dtype == np.float32 and e.shape == (19, 7, 7)
    assert np.array_equal(e, np.array(ref["encoding"]["cifar10"], dtype=np.float32))
    # A numpy matrix works too, and a relabelled copy of the cell has the same hash.
    assert nar.nb101(np.array(NB101_MATRIX), NB101_OPS) == c


def test_nb101_prunes_like_nasbench():
    # Vertex 1 has no path to the output: it is pruned away.
    m = [[0, 1, 1], [0, 0, 0], [0, 0, 0]]
    c = nar.nb101(m, ["input", "conv3x3-bn-relu", "output"])
    assert c.matrix == [[0, 1], [0, 0]] and c.ops == ["input", "output"]


@pytest.mark.parametrize(
    "arch, message",
    [
        (15625, "15625"),
        (-1, "negative"),
        ("|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|", "bogus"),
        ("", "3 nodes"),
        (3.5, "string or an index"),
        (None, "string or an index"),
    ],
)
def test_nb201_rejects_bad_input(arch, message):
    with pytest.raises(ValueError, match=message):
        nar.nb201(arch)


@pytest.mark.parametrize(
    "matrix, ops, message",
    [
        ([], [], "empty"),
        ([[0, 1], [0, 0]], ["input"], "1 entries but the matrix has 2 vertices"),
        ([[0, 1, 0], [0, 0, 1]], ["input", "conv3x3-bn-relu", "output"], "square"),
        ([[0, 1], [1, 0]], ["input", "output"], "upper-triangular"),
        ([[0, 1], [0, 0]], ["input", "conv9x9"], "conv9x9"),
        ([[0, 0], [0, 0]], ["input", "output"], "disconnected"),
        ([[int(j == i + 1) for j in range(8)] for i in range(8)], ["input"] + ["conv3x3-bn-relu"] * 6 + ["output"], "7"),
        ("not a matrix", ["input", "output"], "matrix"),
        ([[0, 1], [0, 0]], "input,output", "ops"),
    ],
)
def test_nb101_rejects_bad_input(matrix, ops, message):
    with pytest.raises(ValueError, match=message):
        nar.nb101(matrix, ops)


def test_unknown_image_dataset():
    with pytest.raises(ValueError, match="imagenet"):
        nar.nb201(0).cost(dataset="imagenet")
    with pytest.raises(ValueError, match="cifar10"):
        nar.nb101(NB101_MATRIX, NB101_OPS).encode("cifar100")


def test_python_types_that_are_not_architectures_raise_value_error():
    # bool is an int to Python, not an index to nar.
    with pytest.raises(ValueError, match="not a bool"):
        nar.nb201(True)
    with pytest.raises(ValueError, match=r"NB201 index 1180591620717411303424 is out of range \(0\.\.15625\)"):
        nar.nb201(2**70)
    with pytest.raises(ValueError, match="NB201 index -1 is negative"):
        nar.nb201(-1)
    # A huge input is not echoed whole.
    with pytest.raises(ValueError) as e:
        nar.nb201("|" + "x" * 10_000_000)
    assert len(str(e.value)) < 2200 and "message cut" in str(e.value)


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        ({"budget": -1}, ValueError, "budget must be a non-negative integer"),
        ({"budget": 2**70}, ValueError, "budget must be a non-negative integer"),
        ({"budget": True}, TypeError, "budget must be an integer, not"),
        ({"budget": 3.0}, TypeError, "budget must be an integer, not"),
        ({"budget": 5, "seed": -2}, ValueError, "seed must be a non-negative integer"),
    ],
)
def test_search_counts_are_named_errors_by_kind(kwargs, error, message):
    # A bad value is a ValueError, a value of the wrong type (a bool, a float) a TypeError.
    with pytest.raises(error, match=message):
        nar.search("nb201", lambda a: 50.0, **kwargs)


def test_train_counts_are_named_value_errors(tmp_path):
    with pytest.raises(ValueError, match="epochs must be a non-negative integer"):
        nar.train("nb201", nar.Dataset.nb201(), tmp_path / "r", epochs=-3)
    with pytest.raises(TypeError, match="budget must be an integer, not"):
        nar.train("nb201", nar.Dataset.nb201(), tmp_path / "r", budget=False)
    assert not (tmp_path / "r").exists()
