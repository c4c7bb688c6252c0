"""The NAS-Bench-201 network of a cell (Dong & Yang, ICLR 2020), as the benchmark trained it.

Follows NAS-Bench-201's own model builder, ``xautodl`` 1.0.0 (``models/cell_infers/tiny_network.py``
``TinyNetwork``, ``models/cell_infers/cells.py`` ``InferCell``, ``models/cell_operations.py``): module and
parameter names are the same, so a ``TinyNetwork``'s ``state_dict`` loads into :class:`Network` strictly.

Shapes (CIFAR: 32×32 input; ImageNet16-120: 16×16; ``C`` = 16, ``N`` = 5 cells per stage):

- ``stem``: conv3×3 (3 → C, no bias) + BN                                  [B, C, H, W]
- ``cells[0:5]``: the cell at C channels                                    [B, C, H, W]
- ``cells[5]``: residual block C → 2C, stride 2                              [B, 2C, H/2, W/2]
- ``cells[6:11]``: the cell at 2C; ``cells[11]``: residual block 2C → 4C       [B, 4C, H/4, W/4]
- ``cells[12:17]``: the cell at 4C
- ``lastact``: BN + ReLU; ``global_pooling``: average                        [B, 4C, 1, 1]
- ``classifier``: linear 4C → classes (with bias)                           [B, classes]

Inside a cell, node ``j`` (1…3) is the sum of ``op(node i)`` over its incoming edges ``i < j``; node 3 is the
output. The six edges, in the order of the architecture string ``|a~0|+|b~0|c~1|+|d~0|e~1|f~2|``, are
``layers[0…5]``. ``nor_conv_k×k`` is ReLU → conv (no bias) → BN; ``avg_pool_3x3`` a 3×3 average pool
(padding not counted); ``skip_connect`` the identity; ``none`` contributes nothing (``xautodl`` multiplies
by zero: the same sum for finite inputs, computed here without the multiplication).
"""

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

#: The five edge operations, in NAS-Bench-201's order.
OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")

#: The benchmark's image datasets: classes and input side.
DATASETS = {"cifar10": (10, 32), "cifar100": (100, 32), "imagenet16": (120, 16)}


@dataclass(frozen=True)
class Config:
    """The network's macro structure (NAS-Bench-201's ``C`` = 16, ``N`` = 5)."""

    classes: int = 10
    channels: int = 16
    cells_per_stage: int = 5


class ReLUConvBN(nn.Module):
    """ReLU → k×k conv (no bias) → BN, as ``cell_operations.ReLUConvBN`` (its ``op`` Sequential, indices 1 and 2
    the weights). [B, c_in, H, W] → [B, c_out, H/stride, W/stride]."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class AvgPool(nn.Module):
    """3×3 average pool, stride 1, padding not counted (``cell_operations.POOLING`` with equal channels:
    no preprocessing, the pool is ``op``). [B, C, H, W] → [B, C, H, W]."""

    def __init__(self):
        super().__init__()
        self.op = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Zero(nn.Module):
    """The ``none`` edge: skipped in the cell's sum. [B, C, H, W] → zeros of that shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


def edge(op: str, channels: int) -> nn.Module:
    """The module of one edge operation at ``channels`` in and out."""
    if op == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if op == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if op == "avg_pool_3x3":
        return AvgPool()
    if op == "skip_connect":
        return nn.Identity()
    if op == "none":
        return Zero()
    raise ValueError(f"{op!r} is not a NAS-Bench-201 operation (one of {', '.join(OPS)})")


#: (source node, target node) of the six edges, in the architecture string's order.
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))


class Cell(nn.Module):
    """One NAS-Bench-201 cell at ``channels`` (``InferCell`` with stride 1). [B, C, H, W] → [B, C, H, W]."""

    def __init__(self, ops: Sequence[str], channels: int):
        super().__init__()
        self.ops = tuple(ops)
        self.layers = nn.ModuleList(edge(op, channels) for op in self.ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in (1, 2, 3):
            terms = [
                self.layers[k](nodes[source])
                for k, (source, t) in enumerate(EDGES)
                if t == target and self.ops[k] != "none"
            ]
            nodes.append(sum(terms[1:], terms[0]) if terms else torch.zeros_like(x))
        return nodes[3]


class ResidualBlock(nn.Module):
    """The reduction between stages (``cell_operations.ResNetBasicblock`` with stride 2): ReLU-conv3×3/2-BN,
    ReLU-conv3×3-BN, plus a shortcut of 2×2 average pool and conv1×1 (no BN).
    [B, c_in, H, W] → [B, c_out, H/2, W/2]."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


def parse(arch_str: str) -> tuple:
    """The six edge operations of an architecture string, in its order."""
    ops = []
    for node in arch_str.strip("|").split("|+|"):
        for term in node.split("|"):
            op, _, _source = term.partition("~")
            ops.append(op)
    if len(ops) != 6:
        raise ValueError(f"{arch_str!r} is not a NAS-Bench-201 architecture string")
    return tuple(ops)


class Network(nn.Module):
    """The NAS-Bench-201 network of one cell. [B, 3, H, W] → logits [B, classes] (``TinyNetwork`` returns
    ``(features, logits)``; this returns the logits, as a classifier does)."""

    def __init__(self, arch_str: str, config: Config = Config(), cell=None):
        """``cell(channels)`` builds one cell (default: NAS-Bench-201's of ``arch_str``; a declared space's
        cells are built by ``nar.torch.declared``)."""
        super().__init__()
        self.arch_str = arch_str
        self.config = config
        if cell is None:
            ops = parse(arch_str)

            def cell(channels: int) -> nn.Module:
                return Cell(ops, channels)

        c = config.channels
        self.stem = nn.Sequential(nn.Conv2d(3, c, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(c))
        cells = []
        for stage in range(3):
            if stage > 0:
                cells.append(ResidualBlock(c, 2 * c))
                c *= 2
            cells.extend(cell(c) for _ in range(config.cells_per_stage))
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, config.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        x = self.global_pooling(self.lastact(x)).flatten(1)
        return self.classifier(x)
