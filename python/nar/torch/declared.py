"""Networks for declared spaces (``nar.Space``; docs/design.md §2, "Networks of declared spaces").

A declaration's ``network:`` block names a skeleton and its sizes::

    network: {skeleton: nb201, channels: 16, cells_per_stage: 5, classes: 10}
    network: {skeleton: nb101, channels: 128, stacks: 3, cells_per_stack: 3}

``nb201`` is NAS-Bench-201's network (``nar.torch.nb201.Network``: stem, three stages of cells, residual
blocks between them, global pooling, classifier) with the declared edges-family cell; ``nb101`` is
NAS-Bench-101's (``nar.torch.nb101.Network``: stem, stacks of cells with max-pool down-sampling and channel
doubling, NAS-Bench-101's channel split and projections) with the declared vertices-family cell. Module
names are the built-in networks', so ``spaces/nb201.yaml`` and ``spaces/nb101.yaml`` build networks whose
``state_dict`` is the built-in ones'.

Operations are resolved by name: first the ops registered with :func:`register_op` (a factory
``(C_in, C_out, stride) -> nn.Module``), then the standard library —

- ``nor_conv_KxK``: ReLU → K×K conv → BN (NAS-Bench-201's ``ReLUConvBN``);
- ``convKxK-bn-relu``: K×K conv → BN → ReLU (NAS-Bench-101's ``conv_bn_relu``);
- ``sep_conv_KxK``, ``dil_conv_KxK``: DARTS's separable (twice ReLU → depthwise K×K → pointwise → BN) and
  dilated (ReLU → depthwise K×K, dilation 2 → pointwise → BN) convolutions (DARTS ``operations.py``);
- ``avg_pool_3x3`` (padding not counted), ``max_pool_3x3`` / ``maxpool3x3``: 3×3 pools (channels kept);
- ``skip_connect``: the identity (stride 2: DARTS's ``FactorizedReduce``); ``none``: zeros.

An op neither registered nor standard, a factory that raises or returns something that is not an
``nn.Module``, a pool or skip asked to change channels: ``ValueError`` naming the op.
"""

import re
from typing import Callable, Dict, List, Tuple

import torch
from torch import nn

from . import nb101, nb201

Factory = Callable[[int, int, int], nn.Module]

_REGISTERED: Dict[str, Factory] = {}

#: The standard operations by pattern (K an odd kernel size), for messages.
STANDARD = (
    "nor_conv_KxK",
    "convKxK-bn-relu",
    "sep_conv_KxK",
    "dil_conv_KxK",
    "avg_pool_3x3",
    "max_pool_3x3",
    "maxpool3x3",
    "skip_connect",
    "none",
)


def register_op(name: str, factory: Factory) -> None:
    """Makes ``name`` an operation: ``factory(C_in, C_out, stride)`` returns its module (it takes precedence
    over a standard op of the same name). ``ValueError`` for an empty name or a factory that is not callable."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"an op's name is a non-empty string, not {name!r}")
    if not callable(factory):
        raise ValueError(f"op {name!r}: the factory is not callable ({factory!r})")
    _REGISTERED[name] = factory


class SepConv(nn.Module):
    """DARTS's separable convolution (``operations.SepConv``): [ReLU, depthwise K×K (stride), pointwise 1×1,
    BN, ReLU, depthwise K×K, pointwise 1×1 → C_out, BN] as ``op``. Parameters 2·C·K² + C_in·C_in + C_in·C_out
    + 2·C_in + 2·C_out (C = C_in). [B, C_in, H, W] → [B, C_out, H/stride, W/stride]."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int):
        super().__init__()
        pad = kernel // 2
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride=stride, padding=pad, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_in, 1, bias=False),
            nn.BatchNorm2d(c_in),
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride=1, padding=pad, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class DilConv(nn.Module):
    """DARTS's dilated convolution (``operations.DilConv``, dilation 2): [ReLU, depthwise K×K, pointwise 1×1
    → C_out, BN] as ``op``. Parameters C_in·K² + C_in·C_out + 2·C_out. [B, C_in, H, W] → [B, C_out, H/s, W/s]."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel, stride=stride, padding=kernel - 1, dilation=2, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class FactorizedReduce(nn.Module):
    """DARTS's ``FactorizedReduce``, the stride-2 skip: ReLU, two 1×1 convs of stride 2 (the second on the
    input shifted by one pixel), concatenated, BN. [B, C_in, H, W] → [B, C_out, H/2, W/2] (C_out even)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


class ConvBnRelu(nn.Module):
    """A ``convKxK-bn-relu`` vertex at C channels (NAS-Bench-101's ``conv_bn_relu``, named ``convKxK`` as
    NAS-Bench-101's ``conv3x3``/``conv1x1`` vertices). [B, C, H, W] → [B, C, H, W]."""

    def __init__(self, channels: int, kernel: int):
        super().__init__()
        setattr(self, f"conv{kernel}x{kernel}", nb101.ConvBnRelu(channels, channels, kernel))
        self.kernel = kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self, f"conv{self.kernel}x{self.kernel}")(x)


def _kernel(pattern: str, name: str):
    m = re.fullmatch(pattern, name)
    if m is None:
        return None
    k = int(m.group(1))
    if k < 1 or k % 2 == 0 or int(m.group(2)) != k:
        raise ValueError(f"op {name!r}: a K×K kernel with K odd and the same twice")
    return k


def _same_channels(name: str, c_in: int, c_out: int) -> None:
    if c_in != c_out:
        raise ValueError(f"op {name!r} keeps its channels; asked for {c_in} → {c_out}")


def _standard(name: str, c_in: int, c_out: int, stride: int):
    k = _kernel(r"nor_conv_(\d+)x(\d+)", name)
    if k is not None:
        return nb201.ReLUConvBN(c_in, c_out, k, stride=stride)
    k = _kernel(r"conv(\d+)x(\d+)-bn-relu", name)
    if k is not None:
        _same_channels(name, c_in, c_out)
        if stride != 1:
            raise ValueError(f"op {name!r} is a stride-1 vertex operation (NAS-Bench-101's)")
        return {3: nb101.Conv3x3, 1: nb101.Conv1x1}.get(k, lambda c: ConvBnRelu(c, k))(c_in)
    k = _kernel(r"sep_conv_(\d+)x(\d+)", name)
    if k is not None:
        return SepConv(c_in, c_out, k, stride)
    k = _kernel(r"dil_conv_(\d+)x(\d+)", name)
    if k is not None:
        return DilConv(c_in, c_out, k, stride)
    if name == "avg_pool_3x3":
        _same_channels(name, c_in, c_out)
        return nb201.AvgPool() if stride == 1 else nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if name == "max_pool_3x3":
        _same_channels(name, c_in, c_out)
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == "maxpool3x3":
        _same_channels(name, c_in, c_out)
        if stride != 1:
            raise ValueError(f"op {name!r} is a stride-1 vertex operation (NAS-Bench-101's)")
        return nb101.MaxPool3x3(c_in)
    if name == "skip_connect":
        if stride == 1:
            _same_channels(name, c_in, c_out)
            return nn.Identity()
        if c_out % 2:
            raise ValueError(f"op {name!r} with stride 2 halves into two convolutions: {c_out} channels do not divide")
        return FactorizedReduce(c_in, c_out)
    if name == "none":
        return nb201.Zero()
    return None


def op(name: str, c_in: int, c_out: int, stride: int = 1) -> nn.Module:
    """The module of operation ``name`` from ``c_in`` to ``c_out`` channels with ``stride`` (registered ops
    first, then the standard library). ``ValueError`` naming the op where it cannot be built."""
    factory = _REGISTERED.get(name)
    if factory is not None:
        try:
            module = factory(c_in, c_out, stride)
        except Exception as e:  # the user's factory: say which op failed and why
            raise ValueError(f"op {name!r}: its factory raised {type(e).__name__}: {e}") from e
        if not isinstance(module, nn.Module):
            raise ValueError(f"op {name!r}: its factory returned {type(module).__name__}, not an nn.Module")
        return module
    module = _standard(name, c_in, c_out, stride)
    if module is None:
        registered = ", ".join(sorted(_REGISTERED)) or "none"
        raise ValueError(
            f"op {name!r} is not a standard operation ({', '.join(STANDARD)}) and is not registered "
            f"(nar.torch.register_op; registered: {registered})"
        )
    return module


def parse_edges(text: str) -> List[List[Tuple[int, str]]]:
    """The ``(source, op)`` pairs of each node after the input, from an edges-family cell's text form."""
    nodes = []
    for group in text.strip().strip("|").split("|+|"):
        pairs = []
        for term in group.split("|"):
            op_name, _, source = term.rpartition("~")
            pairs.append((int(source), op_name))
        nodes.append(pairs)
    return nodes


class EdgeCell(nn.Module):
    """A declared edges-family cell at C channels, as NAS-Bench-201's ``InferCell``: node j (after the input)
    sums its incoming edges' ops; the last node is the output; ``layers`` holds the edges' ops in the text
    form's order (NAS-Bench-201's ``layers[0…5]`` for its cell), a zero op skipped in the sum.
    [B, C, H, W] → [B, C, H, W]."""

    def __init__(self, nodes: List[List[Tuple[int, str]]], channels: int):
        super().__init__()
        self.edges = [(source, j + 1) for j, pairs in enumerate(nodes) for source, _ in pairs]
        self.layers = nn.ModuleList(op(name, channels, channels, 1) for pairs in nodes for _, name in pairs)
        self.count = len(nodes) + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = [x]
        for target in range(1, self.count):
            terms = [
                self.layers[k](values[source])
                for k, (source, t) in enumerate(self.edges)
                if t == target and not isinstance(self.layers[k], nb201.Zero)
            ]
            values.append(sum(terms[1:], terms[0]) if terms else torch.zeros_like(x))
        return values[-1]


def network(text: str, space, classes=None) -> nn.Module:
    """The network of cell ``text`` of the declared space ``space`` (an ``nar.Space``) in the skeleton its
    ``network:`` block names; ``classes`` overrides the block's. ``ValueError`` where the cell is not one of
    the space's, the declaration has no ``network:`` block, or an op cannot be built."""
    block = space.network
    if block is None:
        raise ValueError(f"{space.path}: `network`: the declaration has no network block (skeleton nb201 or nb101)")
    cell = space.parse(text)
    classes = block["classes"] if classes is None else int(classes)
    if block["skeleton"] == "nb201":
        nodes = parse_edges(cell)
        config = nb201.Config(classes=classes, channels=block["channels"], cells_per_stage=block["cells"])
        return nb201.Network(cell, config, cell=lambda c: EdgeCell(nodes, c))
    import json

    spec = json.loads(cell)
    config = nb101.Config(
        classes=classes, stem_channels=block["channels"], stacks=block["stacks"], cells_per_stack=block["cells"]
    )
    return nb101.Network(spec["matrix"], spec["ops"], config, make_op=lambda name, c: op(name, c, c, 1))


def as_space(space):
    """The declared space ``space`` names: an ``nar.Space`` as it is, a declaration's path (``.yaml``/``.yml``)
    loaded; ``None`` for a built-in space's name or ``None``."""
    import os

    import nar

    if space is None or isinstance(space, nar.Space):
        return space
    if isinstance(space, (str, os.PathLike)) and str(space).lower().endswith((".yaml", ".yml")):
        return nar.Space.load(space)
    return None


def recipe(space, dataset: str):
    """The training schedule of a declared space's skeleton: NAS-Bench-201's for ``dataset`` (its CIFAR-10
    one for another data set) with ``nb201``, NAS-Bench-101's with ``nb101``."""
    from . import recipes

    block = space.network
    if block is None:
        raise ValueError(f"{space.path}: `network`: the declaration has no network block (skeleton nb201 or nb101)")
    if block["skeleton"] == "nb201":
        return recipes.NB201.get(dataset, recipes.NB201["cifar10"])
    return recipes.NB101


def load_ops_module(name: str) -> None:
    """Imports ``name`` (a module that calls :func:`register_op`), for the training command's ``--ops-module``;
    ``ValueError`` where it cannot be imported."""
    import importlib

    try:
        importlib.import_module(name)
    except Exception as e:
        raise ValueError(f"--ops-module {name}: cannot import it ({type(e).__name__}: {e})") from e
