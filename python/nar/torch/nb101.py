"""The NAS-Bench-101 network of a cell (Ying et al., ICML 2019), as the benchmark trained it.

Follows NAS-Bench-101's own model builder (``google-research/nasbench``, ``nasbench/lib/model_builder.py``
``build_model_fn`` and ``build_module``, ``base_ops.py`` ``conv_bn_relu``), in PyTorch. Module and parameter
names are those of ``nasbench-pytorch`` 1.3 (``nasbench_pytorch.model.Network``, a port of the same builder),
so its weights load; that port adds a scalar ``Placeholder.a`` parameter at every weightless slot and an
empty ``dev_param`` per cell, which NAS-Bench-101's parameter counts do not have and this network leaves out
(:func:`nar.torch.load_nasbench_pytorch` drops them when loading).

Shapes (CIFAR-10, 32×32; stem 128 channels; 3 stacks of 3 cells):

- ``layers[0]``: stem conv3×3 (3 → 128) + BN + ReLU                       [B, 128, 32, 32]
- ``layers[1:4]``: cells 128 → 128                                        [B, 128, 32, 32]
- ``layers[4]``: 2×2 max pool, stride 2; ``layers[5:8]``: cells → 256       [B, 256, 16, 16]
- ``layers[8]``: 2×2 max pool; ``layers[9:12]``: cells → 512               [B, 512, 8, 8]
- mean over H, W; ``classifier``: linear 512 → 10 (with bias)             [B, 10]

Inside a cell with ``C_in`` → ``C_out`` channels (``build_module``): vertex channels by
``compute_vertex_channels``; an interior vertex sums its interior predecessors (truncated to its channels)
and, with an edge from the input, a 1×1 conv-BN-ReLU projection of the input; then applies its operation
(conv3×3-BN-ReLU, conv1×1-BN-ReLU or 3×3 max pool). The output concatenates the vertices that feed it and
adds a projection of the input when the input feeds it (or is that projection alone). Batch norm: momentum
0.997 in TensorFlow's sense (``BN_MOMENTUM``; PyTorch's 0.003), epsilon 1e-5 (``BN_EPSILON``).
"""

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

#: TensorFlow's batch-norm decay 0.997 as PyTorch's momentum (``base_ops.BN_MOMENTUM``), and its epsilon.
BN_MOMENTUM = 1.0 - 0.997
BN_EPSILON = 1e-5

#: The interior operations, with NAS-Bench-101's labels.
OPS = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")


@dataclass(frozen=True)
class Config:
    """The network's macro structure (``nasbench/lib/config.py``: ``stem_filter_size`` 128, ``num_stacks`` 3,
    ``num_modules_per_stack`` 3, ``num_labels`` 10)."""

    classes: int = 10
    stem_channels: int = 128
    stacks: int = 3
    cells_per_stack: int = 3


class ConvBnRelu(nn.Module):
    """k×k conv (stride 1, 'same' padding, no bias) → BN → ReLU (``base_ops.conv_bn_relu``).
    [B, c_in, H, W] → [B, c_out, H, W]."""

    def __init__(self, c_in: int, c_out: int, kernel: int):
        super().__init__()
        self.conv_bn_relu = nn.Sequential(
            nn.Conv2d(c_in, c_out, kernel, stride=1, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=BN_EPSILON, momentum=BN_MOMENTUM),
            nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_bn_relu(x)


class Conv3x3(nn.Module):
    """The ``conv3x3-bn-relu`` vertex. [B, C, H, W] → [B, C, H, W]."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv3x3 = ConvBnRelu(channels, channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv3x3(x)


class Conv1x1(nn.Module):
    """The ``conv1x1-bn-relu`` vertex. [B, C, H, W] → [B, C, H, W]."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1x1 = ConvBnRelu(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv1x1(x)


class MaxPool3x3(nn.Module):
    """The ``maxpool3x3`` vertex: 3×3 max pool, stride 1, 'same' padding. [B, C, H, W] → [B, C, H, W]."""

    def __init__(self, channels: int):
        super().__init__()
        self.maxpool = nn.MaxPool2d(3, stride=1, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.maxpool(x)


VERTEX_OPS = {"conv3x3-bn-relu": Conv3x3, "conv1x1-bn-relu": Conv1x1, "maxpool3x3": MaxPool3x3}


def vertex_channels(c_in: int, c_out: int, matrix: Sequence[Sequence[int]]) -> list:
    """Channels of every vertex (``model_builder.compute_vertex_channels``): the output's are split among the
    vertices feeding it (the first ``C_out % k`` one more); every other interior vertex takes the largest of
    its interior successors."""
    n = len(matrix)
    out = n - 1
    ch = [0] * n
    ch[0], ch[out] = c_in, c_out
    if n == 2:
        return ch
    feeders = sum(matrix[v][out] for v in range(1, out))
    base, extra = divmod(c_out, feeders)
    for v in range(1, out):
        if matrix[v][out]:
            ch[v] = base
            if extra > 0:
                ch[v] += 1
                extra -= 1
    for v in range(out - 1, 0, -1):
        if not matrix[v][out]:
            ch[v] = max((ch[d] for d in range(v + 1, out) if matrix[v][d]), default=0)
    return ch


class Cell(nn.Module):
    """One NAS-Bench-101 cell (``build_module``): ``vertex_op[t]`` is vertex ``t``'s operation and
    ``input_op[t]`` its projection of the cell input (identities where there is none, so the indices are
    ``nasbench-pytorch``'s). [B, c_in, H, W] → [B, c_out, H, W]."""

    def __init__(self, matrix: Sequence[Sequence[int]], ops: Sequence[str], c_in: int, c_out: int, make_op=None):
        """``make_op(name, channels)`` builds a vertex's operation (default: NAS-Bench-101's three; a
        declared space's come from ``nar.torch.declared``)."""
        super().__init__()
        make_op = make_op or (lambda name, channels: VERTEX_OPS[name](channels))
        self.matrix = [list(map(int, row)) for row in matrix]
        n = len(self.matrix)
        self.channels = vertex_channels(c_in, c_out, self.matrix)
        self.vertex_op = nn.ModuleList(
            [nn.Identity()] + [make_op(ops[t], self.channels[t]) for t in range(1, n - 1)]
        )
        self.input_op = nn.ModuleList(
            [nn.Identity()]
            + [
                ConvBnRelu(c_in, self.channels[t], 1) if self.matrix[0][t] else nn.Identity()
                for t in range(1, n)
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m, n = self.matrix, len(self.matrix)
        out = n - 1
        tensors = [x]
        for t in range(1, out):
            c = self.channels[t]
            terms = [tensors[s][:, :c] for s in range(1, t) if m[s][t]]
            if m[0][t]:
                terms.append(self.input_op[t](x))
            tensors.append(self.vertex_op[t](sum(terms[1:], terms[0])))
        concat = [tensors[t] for t in range(1, out) if m[t][out]]
        if not concat:
            return self.input_op[out](x)
        y = concat[0] if len(concat) == 1 else torch.cat(concat, 1)
        if m[0][out]:
            y = y + self.input_op[out](x)
        return y


class Network(nn.Module):
    """The NAS-Bench-101 network of one pruned cell. [B, 3, 32, 32] → logits [B, classes]."""

    def __init__(
        self, matrix: Sequence[Sequence[int]], ops: Sequence[str], config: Config = Config(), make_op=None
    ):
        super().__init__()
        self.config = config
        c = config.stem_channels
        layers = [ConvBnRelu(3, c, 3)]
        c_in = c
        for stack in range(config.stacks):
            if stack > 0:
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                c *= 2
            for _ in range(config.cells_per_stack):
                layers.append(Cell(matrix, ops, c_in, c, make_op))
                c_in = c
        self.layers = nn.ModuleList(layers)
        self.classifier = nn.Linear(c, config.classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """NAS-Bench-101's initialisation: convolutions by ``tf.variance_scaling_initializer()`` (scale 1,
        fan-in, truncated normal), the dense layer by ``tf.layers.dense``'s default (Glorot uniform, zero
        bias), batch norm scale 1 and shift 0."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
                # TensorFlow's truncated normal at ±2σ has standard deviation 0.8796 of σ: it rescales by it.
                std = (1.0 / fan_in) ** 0.5 / 0.87962566103423978
                nn.init.trunc_normal_(m.weight, std=std, a=-2 * std, b=2 * std)
            elif isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return self.classifier(x.mean((2, 3)))
