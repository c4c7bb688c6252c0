"""nar.torch's networks against the benchmarks' own builders (xautodl's TinyNetwork for NAS-Bench-201,
nasbench-pytorch's Network for NAS-Bench-101) and against nar's cost model: the same parameters, the same
outputs with the official model's weights loaded, and the FLOPs convention of docs/design.md §2.

The every-architecture checks are slow (about 30 ms to build one network in Python): they run with
``pytest --run-slow`` (see conftest.py); the suite checks a sample."""

import csv
import functools
import json

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import nar
import nar.torch as nt
from nar.torch import nb101, nb201

from conftest import DATA

import nasbench_pytorch.model as nasbench_pytorch
import xautodl.models.cell_infers.tiny_network as xautodl_net
import xautodl.models.cell_searchs.genotypes as xautodl_genotypes

NB201_DATASETS = list(nb201.DATASETS)
CLASSES = {d: c for d, (c, _side) in nb201.DATASETS.items()}


def official_nb201(arch_str: str, dataset: str) -> torch.nn.Module:
    genotype = xautodl_genotypes.Structure.str2structure(arch_str)
    return xautodl_net.TinyNetwork(16, 5, genotype, CLASSES[dataset])


def randomize_batch_norm(net: torch.nn.Module, seed: int) -> None:
    """Running statistics and affine terms away from their initial 0/1, so a wrong BN shows."""
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            if m.affine:
                m.weight.data.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.data.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)


@functools.lru_cache(maxsize=None)
def nb101_cells() -> tuple:
    """The 1,000 cells of the repository's NB101 sample, by their matrix and operations."""
    with open(DATA / "nb101" / "nb101_subset_1k.csv") as f:
        rows = list(csv.DictReader(f))
    cells = [nar.nb101(json.loads(r["module_adjacency"]), json.loads(r["module_operations"])) for r in rows]
    assert [c.hash for c in cells] == [r["unique_hash"] for r in rows]
    return tuple(cells)


def count_on_meta(build) -> int:
    with torch.device("meta"):
        return nt.parameter_count(build())


# -- NAS-Bench-201 ---------------------------------------------------------------------------------------


def nb201_sample() -> list:
    """Every 125th architecture (125 of 15,625, each operation at every edge)."""
    return list(range(0, 15625, 125))


@pytest.mark.parametrize("dataset", NB201_DATASETS)
def test_nb201_parameter_counts_equal_xautodl_and_the_cost_model(dataset):
    for i in nb201_sample():
        arch = nar.nb201(i)
        ours = count_on_meta(lambda: nt.network(arch, dataset))
        theirs = count_on_meta(lambda: official_nb201(arch.arch_str, dataset))
        assert ours == theirs == arch.cost(dataset)["total_params"], (i, dataset, ours, theirs)


@pytest.mark.parametrize("dataset", NB201_DATASETS)
def test_nb201_outputs_equal_xautodl_with_its_weights(dataset):
    side = nb201.DATASETS[dataset][1]
    for k, i in enumerate(range(7, 15625, 1041)):  # 15 architectures
        arch = nar.nb201(i)
        torch.manual_seed(k)
        official = official_nb201(arch.arch_str, dataset)
        randomize_batch_norm(official, k)
        ours = nt.network(arch, dataset)
        ours.load_state_dict(official.state_dict(), strict=True)
        x = torch.randn(4, 3, side, side, generator=torch.Generator().manual_seed(k))
        for mode in ("eval", "train"):
            getattr(official, mode)()
            getattr(ours, mode)()
            with torch.no_grad():
                expected = official(x)[1]
                got = ours(x)
            assert got.shape == (4, CLASSES[dataset])
            assert torch.allclose(got, expected, rtol=0, atol=1e-5), (i, dataset, mode, (got - expected).abs().max())


@pytest.mark.slow
@pytest.mark.parametrize("dataset", NB201_DATASETS)
def test_every_nb201_network_has_xautodls_and_the_cost_models_parameters(dataset):
    for i in range(15625):
        arch = nar.nb201(i)
        ours = count_on_meta(lambda: nt.network(arch, dataset))
        theirs = count_on_meta(lambda: official_nb201(arch.arch_str, dataset))
        assert ours == theirs == arch.cost(dataset)["total_params"], (i, dataset, ours, theirs)


def nb201_flops_convention(net: torch.nn.Module, side: int) -> tuple:
    """torch's count for one image, and what nar's cost model adds to half of it: 2 per batch-norm output
    element and one per element the global average pool reads."""
    extra = []

    def bn(_m, _inp, out):
        extra.append(2 * out.numel())

    def pool(_m, inp, _out):
        extra.append(inp[0].numel())

    hooks = [m.register_forward_hook(bn) for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    hooks.append(net.global_pooling.register_forward_hook(pool))
    net.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        net(torch.zeros(1, 3, side, side))
    for h in hooks:
        h.remove()
    return counter.get_total_flops(), sum(extra)


@pytest.mark.parametrize("dataset", NB201_DATASETS)
def test_nb201_flops_are_torch_counts_halved_plus_batch_norm_and_pool(dataset):
    side = nb201.DATASETS[dataset][1]
    for i in [0, 1462, 4000, 9999, 15624]:
        arch = nar.nb201(i)
        counted, extra = nb201_flops_convention(nt.network(arch, dataset), side)
        assert counted % 2 == 0
        assert counted // 2 + extra == arch.cost(dataset)["total_flops"], (i, dataset)


# -- NAS-Bench-101 ---------------------------------------------------------------------------------------


def official_nb101(cell) -> torch.nn.Module:
    return nasbench_pytorch.Network((cell.matrix, cell.ops), num_labels=10)


def nasbench_pytorch_extras(net: torch.nn.Module) -> int:
    """The port's own scalars (Placeholder.a) and empty dev_param: not NAS-Bench-101's parameters."""
    return sum(p.numel() for name, p in net.named_parameters() if name.endswith(".a") or name.endswith("dev_param"))


def test_every_nb101_cell_of_the_sample_has_the_cost_models_parameters():
    cells = nb101_cells()
    assert len(cells) == 1000
    for cell in cells:
        assert count_on_meta(lambda: nt.network(cell)) == cell.cost()["total_params"], cell.hash


def test_nb101_parameter_counts_equal_nasbench_pytorch_without_its_placeholders():
    for cell in nb101_cells()[::40]:  # 25 cells (nasbench-pytorch's initialisation needs real tensors)
        official = official_nb101(cell)
        extras = nasbench_pytorch_extras(official)
        assert 0 < extras < 64
        assert nt.parameter_count(official) - extras == count_on_meta(lambda: nt.network(cell)), cell.hash


def has_input_output_edge(cell) -> bool:
    return bool(cell.matrix[0][-1])


def nb101_comparison_cells() -> list:
    """8 cells of the sample: 4 with an input→output edge (nasbench-pytorch names that projection twice)
    and 4 without."""
    with_edge = [c for c in nb101_cells() if has_input_output_edge(c)]
    without = [c for c in nb101_cells() if not has_input_output_edge(c)]
    assert len(with_edge) == 198 and len(without) == 802  # the count, checked here
    return with_edge[5 :: len(with_edge) // 4][:4] + without[5 :: len(without) // 4][:4]


def assert_outputs_equal(official: torch.nn.Module, ours: torch.nn.Module, seed: int, label) -> None:
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(seed))
    for mode in ("eval", "train"):
        getattr(official, mode)()
        getattr(ours, mode)()
        with torch.no_grad():
            expected, got = official(x), ours(x)
        assert torch.allclose(got, expected, rtol=0, atol=1e-5), (label, mode, (got - expected).abs().max())


def test_nb101_outputs_equal_nasbench_pytorch_with_its_weights():
    for k, cell in enumerate(nb101_comparison_cells()):
        torch.manual_seed(k)
        official = official_nb101(cell)
        randomize_batch_norm(official, k)
        ours = nt.network(cell)
        nt.load_nasbench_pytorch(ours, official.state_dict())
        assert_outputs_equal(official, ours, k, cell.hash)


# The example: an input→output edge, whose projection nasbench-pytorch registers as both
# `input_op.6` and `last_inop` (one tensor, two keys).
EDGE_CELL = "0007253c3a7e63317fd1533070db532b"


def edge_cell():
    cell = next(c for c in nb101_cells() if c.hash == EDGE_CELL)
    assert has_input_output_edge(cell)
    return cell


def test_nasbench_pytorch_alias_keys_load_and_must_agree():
    cell = edge_cell()
    torch.manual_seed(3)
    official = official_nb101(cell)
    randomize_batch_norm(official, 3)
    sd = official.state_dict()
    alias, target = "layers.1.last_inop.conv_bn_relu.0.weight", "layers.1.input_op.6.conv_bn_relu.0.weight"
    assert sd[alias].data_ptr() == sd[target].data_ptr()
    # Copies (sharing lost, as after a conversion), taken before the train-mode pass moves the statistics.
    copied = {k: v.clone() for k, v in sd.items()}
    ours = nt.network(cell)
    nt.load_nasbench_pytorch(ours, sd)
    loaded = {k: v.clone() for k, v in ours.state_dict().items()}
    assert_outputs_equal(official, ours, 3, cell.hash)

    # The copies, which still agree, load the same.
    again = nt.network(cell)
    nt.load_nasbench_pytorch(again, copied)
    assert all(torch.equal(loaded[k], v) for k, v in again.state_dict().items())

    # Only the alias given: it loads in the projection's place.
    only_alias = {k: v for k, v in copied.items() if ".input_op.6." not in k}
    third = nt.network(cell)
    nt.load_nasbench_pytorch(third, only_alias)
    assert all(torch.equal(loaded[k], v) for k, v in third.state_dict().items())

    # The two keys of one tensor disagree: refused, naming both, and the network is left as it was.
    copied[alias] = copied[alias] + 1.0
    fresh = nt.network(cell)
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    with pytest.raises(ValueError) as e:
        nt.load_nasbench_pytorch(fresh, copied)
    assert repr(alias) in str(e.value) and repr(target) in str(e.value), str(e.value)
    assert all(torch.equal(before[k], v) for k, v in fresh.state_dict().items())


def nb101_additions(cell, c_in: int, c_out: int, hw: int) -> int:
    """Element-wise additions inside one cell: a vertex summing n inputs adds n − 1 times; the input's
    projection added to a concatenation, once per output element."""
    m, n = cell.matrix, len(cell.matrix)
    ch = nb101.vertex_channels(c_in, c_out, m)
    adds = 0
    for t in range(1, n - 1):
        inputs = sum(m[s][t] for s in range(t))  # the input's projection counts as one
        adds += max(inputs - 1, 0) * ch[t] * hw
    if m[0][n - 1] and any(m[v][n - 1] for v in range(1, n - 1)):
        adds += c_out * hw
    return adds


def test_nb101_flops_are_torch_counts_plus_pools_additions_and_bias():
    for cell in nb101_cells()[3::200]:  # 5 cells
        net = nt.network(cell).eval()
        pools = []

        def pool(m, _inp, out):
            pools.append(m.kernel_size * m.kernel_size * out.numel())

        hooks = [m.register_forward_hook(pool) for m in net.modules() if isinstance(m, torch.nn.MaxPool2d)]
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            net(torch.zeros(1, 3, 32, 32))
        for h in hooks:
            h.remove()
        additions = sum(
            nb101_additions(cell, c_in, c_out, side * side)
            for c_in, c_out, side in [(128, 128, 32)] * 3 + [(128, 256, 16)] + [(256, 256, 16)] * 2
            + [(256, 512, 8)] + [(512, 512, 8)] * 2
        )
        average_pool, bias = 512 * 8 * 8, 10
        expected = counter.get_total_flops() + sum(pools) + additions + average_pool + bias
        assert expected == cell.cost()["total_flops"], cell.hash


# -- what network() takes ---------------------------------------------------------------------------------


def test_network_takes_every_form_of_an_architecture_and_refuses_the_rest():
    s = nar.nb201(42).arch_str
    for form in (nar.nb201(42), s, 42):
        assert nt.network(form).arch_str == s
    cell = nb101_cells()[0]
    for form in (cell, (cell.matrix, cell.ops), {"module_adjacency": cell.matrix, "module_operations": cell.ops}):
        assert nt.parameter_count(nt.network(form)) == cell.cost()["total_params"]
    with pytest.raises(ValueError, match="not a dataset of nb101"):
        nt.network(cell, "cifar100")
    with pytest.raises(ValueError, match="not a dataset of nb201"):
        nt.network(42, "mnist")
    with pytest.raises(ValueError):
        nt.network("|conv~0|+|")
    with pytest.raises(ValueError):
        nt.network({"module_adjacency": [[0, 1], [0, 0]]})
    with pytest.raises(ValueError):
        nt.network(True)
