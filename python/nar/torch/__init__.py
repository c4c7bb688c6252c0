"""PyTorch networks of NAS-Bench-201 and NAS-Bench-101 architectures, and their training (``pip install
'./python[torch]'``; the core ``nar`` package does not need torch).

::

    import nar, nar.torch
    net = nar.torch.network(nar.nb201("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|"
                                      "nor_conv_3x3~1|nor_conv_3x3~2|"), dataset="cifar10")
    logits = net(images)                       # [B, 10]
    result = nar.torch.train(arch, train_loader, val_loader, dataset="cifar10", epochs=200)
    result.val_accuracy

``python -m nar.torch.train ARCH --space nb201 --dataset cifar10 --data-dir DIR`` trains one architecture with
its benchmark's published schedule and prints the validation accuracy on its last line, so that
``nar search --oracle-cmd 'python -m nar.torch.train {arch} …'`` runs a real search.

The networks follow the benchmarks' own builders (``nar.torch.nb201``, ``nar.torch.nb101``): an NB201
network takes an ``xautodl`` ``TinyNetwork``'s weights as they are, an NB101 network a ``nasbench-pytorch``
``Network``'s through :func:`load_nasbench_pytorch`; their parameter counts are nar's cost model's
(``nar arch --json``'s ``total_params``).
"""

from typing import Any, Mapping, Union

import torch
from torch import nn

import nar

from . import declared, nb101, nb201
from .declared import register_op
from .training import TrainResult, train

#: The image datasets each space's benchmark trained on.
DATASETS = {"nb201": tuple(nb201.DATASETS), "nb101": ("cifar10",)}

ArchLike = Union["nar.Nb201Arch", "nar.Nb101Cell", str, int, Mapping[str, Any], tuple]


def resolve(arch: ArchLike, space: Union[str, None] = None):
    """An architecture as nar's validated type: an ``Nb201Arch`` or ``Nb101Cell`` as it is; an NB201 string or
    index; an NB101 ``(matrix, ops)`` pair or ``{"module_adjacency", "module_operations"}`` mapping (what
    ``nar search --oracle-cmd`` passes). ``space`` (``"nb201"``/``"nb101"``) says which a string is.
    ValueError for anything else."""
    if isinstance(arch, (nar.Nb201Arch, nar.Nb101Cell)):
        found = space_of(arch)
        if space is not None and space != found:
            raise ValueError(f"{arch!r} is a {found} architecture, not {space}")
        return arch
    if isinstance(arch, Mapping):
        missing = {"module_adjacency", "module_operations"} - set(arch)
        if missing:
            raise ValueError(f"an NB101 cell needs {', '.join(sorted(missing))}")
        arch = (arch["module_adjacency"], arch["module_operations"])
    if isinstance(arch, tuple) and len(arch) == 2 and space in (None, "nb101"):
        return nar.nb101(arch[0], arch[1])
    if isinstance(arch, (str, int)) and not isinstance(arch, bool) and space in (None, "nb201"):
        return nar.nb201(arch)
    raise ValueError(f"{arch!r} is not {'an architecture' if space is None else 'a ' + space + ' architecture'}")


def space_of(arch) -> str:
    """``"nb201"`` or ``"nb101"``: the space of an architecture object (ValueError for anything else)."""
    for space, cls in (("nb201", nar.Nb201Arch), ("nb101", nar.Nb101Cell)):
        if isinstance(arch, cls):
            return space
    raise ValueError(f"{arch!r} is not an architecture of a space nar.torch builds networks for (nb201, nb101)")


def network(arch: ArchLike, dataset: str = "cifar10", space=None, classes=None) -> nn.Module:
    """The network the benchmark trained for ``arch`` on ``dataset`` (NB201: ``cifar10``, ``cifar100``,
    ``imagenet16``; NB101: ``cifar10``), freshly initialised as the benchmark's builder does (PyTorch's
    defaults for NB201, as ``xautodl``; TensorFlow's for NB101, as ``nasbench``). ValueError for an invalid
    architecture or a dataset its benchmark did not train on.

    With ``space`` an ``nar.Space`` (or a declaration's path), ``arch`` is a cell of that declared space in its
    text form, built in the skeleton its ``network:`` block names (:mod:`nar.torch.declared`; ``classes``
    overrides the block's)."""
    if space is not None and not (isinstance(space, str) and space in DATASETS):
        if not isinstance(space, nar.Space):
            space = nar.Space.load(space)
        return declared.network(str(arch), space, classes)
    arch = resolve(arch, space)
    space = space_of(arch)
    if dataset not in DATASETS[space]:
        raise ValueError(
            f"{dataset!r} is not a dataset of {space} (one of {', '.join(DATASETS[space])})"
        )
    if space == "nb201":
        classes, _side = nb201.DATASETS[dataset]
        return nb201.Network(arch.arch_str, nb201.Config(classes=classes))
    return nb101.Network(arch.matrix, arch.ops)


def image_shape(space: str, dataset: str) -> tuple:
    """``(classes, side)`` of the images the benchmark's network for ``dataset`` takes (NB101 trained on
    CIFAR-10 only: 10 classes of 32×32)."""
    if space == "nb201":
        return nb201.DATASETS[dataset]
    if space == "nb101":
        return (nb101.Config().classes, 32)
    raise ValueError(f"{space!r} is not a space nar.torch builds networks for (nb201, nb101)")


def load_nasbench_pytorch(net: nn.Module, state_dict: Mapping[str, Any]) -> None:
    """Loads a ``nasbench_pytorch.model.Network``'s ``state_dict`` into an NB101 network, strictly, after
    dropping that port's own extras: a scalar ``Placeholder.a`` at each weightless slot (``vertex_op.0``, and
    ``input_op.t`` where the input does not feed vertex ``t``) and an empty ``dev_param`` per cell — 45–63
    parameters that are not NAS-Bench-101's and that this network does not have.

    That port also registers each cell's input→output projection twice, as ``input_op.<last>`` and as
    ``last_inop``, so its ``state_dict()`` names one tensor under two keys. The second name is read as an
    alias of the first: where both are given they must be equal (ValueError naming both otherwise), and a
    ``state_dict`` that has only the alias loads it in the projection's place."""
    aliases = {}  # alias prefix -> the prefix of the module it names
    for name, module in net.named_modules():
        if isinstance(module, nb101.Cell):
            p = f"{name}." if name else ""
            aliases[f"{p}last_inop."] = f"{p}input_op.{len(module.input_op) - 1}."
    own = net.state_dict()
    kept = {}
    for k, v in state_dict.items():
        alias = next((a for a in aliases if k.startswith(a)), None)
        if alias is not None:
            target = aliases[alias] + k[len(alias):]
            if target not in state_dict:
                kept.setdefault(target, v)
            elif not _same_tensor(v, state_dict[target]):
                raise ValueError(
                    f"{k!r} and {target!r} name one tensor of nasbench-pytorch's Network (the cell's input→output"
                    " projection), but they differ"
                )
            continue
        kept[k] = v
    kept = {
        k: v for k, v in kept.items() if not (k.endswith(".dev_param") or (k.endswith(".a") and k not in own))
    }
    net.load_state_dict(kept, strict=True)


def _same_tensor(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and bool(torch.equal(a, b))
    return a is b


def parameter_count(net: nn.Module) -> int:
    """Trainable parameters (what nar's cost model calls ``total_params``)."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def cost(arch: ArchLike, space=None, dataset: str = "cifar10", side: int = 32) -> dict:
    """``{"params", "flops"}`` of the network of ``arch`` (a declared space's cell with ``space``): its
    trainable parameters, and the FLOPs of one ``side``×``side`` image through it as
    ``torch.utils.flop_counter`` counts them (2 per multiply-add) — a cost column for a declared space
    without a cost model (``--max params=…``, ``--objectives val,params``)."""
    from torch.utils.flop_counter import FlopCounterMode

    net = network(arch, dataset, space=space).eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        net(torch.zeros(1, 3, side, side))
    return {"params": parameter_count(net), "flops": int(counter.get_total_flops())}


__all__ = [
    "DATASETS",
    "TrainResult",
    "cost",
    "declared",
    "register_op",
    "image_shape",
    "load_nasbench_pytorch",
    "nb101",
    "nb201",
    "network",
    "parameter_count",
    "resolve",
    "train",
]
