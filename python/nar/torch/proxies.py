"""Zero-cost proxies: scores of a freshly initialised network that rank architectures without training them.

Each proxy follows its paper; every one is computed on the network ``nar.torch.network`` builds for the
architecture, initialised from a seed derived from the architecture's index, so that the table is
reproducible:

- ``synflow`` (Tanaka et al. 2020; as a NAS proxy, Abdelfattah et al. 2021): the network in float64 with
  every parameter replaced by its absolute value and batch norm in evaluation mode (an identity at
  initialisation); R = the sum of the logits of one all-ones image; the score is Σ |θ ⊙ ∂R/∂θ| over
  the parameters. Needs no data. Stored as its natural log (the raw values span hundreds of decades).
- ``naswot`` (Mellor et al. 2021): the binary codes c_i of every ReLU's input (> 0) for a batch of B images;
  K = c cᵀ + (1 − c)(1 − c)ᵀ; the score is log |det K|.
- ``grad_norm`` (Abdelfattah et al. 2021): Σ over the weights of ‖∂L/∂θ‖₂, L the cross-entropy of the batch.
- ``snip`` (Lee et al. 2019, as a proxy in Abdelfattah et al.): Σ |θ ⊙ ∂L/∂θ| from the same gradient.
- ``jacob_cov`` (Mellor et al. 2020, v1): the correlation matrix Σ of the batch's input Jacobians
  ∂(Σ logits)/∂x; with eigenvalues λ, −Σ (log(λ + 10⁻⁵) + 1/(λ + 10⁻⁵)).

The data-dependent proxies read a batch of images: from ``data_dir`` (an ImageFolder, as ``nar.torch.train``
reads) when given, or else synthetic — standard normal images and uniformly drawn labels from a fixed seed,
which is what nar's shipped table uses (real CIFAR cannot be downloaded where it was made; say so when
reporting). ``python -m nar.torch.proxies`` writes a space's table (``scripts/proxies.sh``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import os
import sys
import time
from typing import Dict, Iterable, Sequence

import torch
from torch import nn

#: The proxies, in the table's column order.
PROXIES = ("synflow", "naswot", "grad_norm", "snip", "jacob_cov")

#: Images per batch for the data-dependent proxies.
BATCH = 32


def _weights(net: nn.Module) -> Iterable[torch.Tensor]:
    """The convolution and linear weights (the layers the proxies' papers sum over)."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            yield m.weight


def naswot(net: nn.Module, images: torch.Tensor) -> float:
    """log |det K| of the ReLU codes of ``images`` [B, 3, H, W] (Mellor et al. 2021)."""
    b = images.shape[0]
    k = torch.zeros(b, b, dtype=torch.float64)

    def hook(_module, inputs, _output):
        c = (inputs[0].detach().reshape(b, -1) > 0).double()
        k.add_(c @ c.t() + (1.0 - c) @ (1.0 - c).t())

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            net(images)
    finally:
        for h in handles:
            h.remove()
    return float(torch.linalg.slogdet(k)[1])


def gradient_proxies(net: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> Dict[str, float]:
    """``grad_norm`` and ``snip`` from one cross-entropy gradient of the batch."""
    net.zero_grad()
    nn.functional.cross_entropy(net(images), labels).backward()
    grad_norm = 0.0
    snip = 0.0
    for w in _weights(net):
        if w.grad is not None:
            grad_norm += float(w.grad.norm())
            snip += float((w.detach() * w.grad).abs().sum())
    net.zero_grad()
    return {"grad_norm": grad_norm, "snip": snip}


def jacob_cov(net: nn.Module, images: torch.Tensor) -> float:
    """The score of the input Jacobians' correlations (Mellor et al. 2020)."""
    x = images.clone().requires_grad_(True)
    net.zero_grad()
    net(x).sum().backward()
    # An output that does not depend on the input (every path cut by `none`) has no gradient: zeros.
    grad = x.grad if x.grad is not None else torch.zeros_like(x)
    jac = grad.reshape(x.shape[0], -1).double()
    corr = torch.corrcoef(jac)
    corr = torch.nan_to_num(corr, nan=0.0)
    eig = torch.linalg.eigvalsh(corr)
    k = 1e-5
    net.zero_grad()
    return float(-(torch.log(eig.clamp_min(0) + k) + 1.0 / (eig.clamp_min(0) + k)).sum())


def synflow(net: nn.Module, side: int) -> float:
    """log Σ |θ ⊙ ∂R/∂θ| (Tanaka et al. 2020). Changes ``net``'s parameters: call it last."""
    net = net.double().eval()
    for m in net.modules():  # batch norm as at initialisation (an identity), whatever ran before
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad()
    net(torch.ones(1, 3, side, side, dtype=torch.float64)).sum().backward()
    total = 0.0
    for p in net.parameters():
        if p.grad is not None:
            total += float((p.detach() * p.grad).abs().sum())
    return math.log(total) if total > 0 else float("-inf")


def proxies(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, which: Sequence[str] = PROXIES) -> Dict[str, float]:
    """The proxies ``which`` of a freshly initialised ``net`` (in training mode, as the papers compute them) on
    ``images`` [B, 3, H, W] with class ``labels`` [B]. Changes ``net``'s parameters."""
    unknown = [p for p in which if p not in PROXIES]
    if unknown:
        raise ValueError(f"unknown proxies {', '.join(unknown)} (known: {', '.join(PROXIES)})")
    net.train()
    out = {}
    if "naswot" in which:
        out["naswot"] = naswot(net, images)
    if "grad_norm" in which or "snip" in which:
        out.update(gradient_proxies(net, images, labels))
    if "jacob_cov" in which:
        out["jacob_cov"] = jacob_cov(net, images)
    if "synflow" in which:
        out["synflow"] = synflow(net, images.shape[-1])
    return {p: out[p] for p in which}


def synthetic_batch(classes: int, side: int, seed: int = 0, batch: int = BATCH):
    """Standard normal images and uniform labels drawn from ``seed``."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, 3, side, side, generator=g)
    labels = torch.randint(0, classes, (batch,), generator=g)
    return images, labels


def folder_batch(data_dir: str, space: str, dataset: str, seed: int = 0, batch: int = BATCH):
    """``batch`` training images drawn from ``seed`` out of the image folder ``data_dir`` (``train/<class>/…``,
    as ``python -m nar.torch.train`` reads it), normalised as the benchmark's recipe validates them."""
    from pathlib import Path

    from . import data, image_shape, recipes

    classes, side = image_shape(space, dataset)
    recipe = recipes.NB201[dataset] if space == "nb201" else recipes.NB101
    sets = data.image_folder(Path(data_dir), recipe, side, classes, space)
    pool = sets.val.__class__(sets.train.root, transform=data.transforms_for(recipe, side, space, False))
    g = torch.Generator().manual_seed(seed)
    picks = torch.randperm(len(pool), generator=g)[:batch].tolist()
    images = torch.stack([pool[i][0] for i in picks])
    labels = torch.tensor([pool[i][1] for i in picks])
    return images, labels


def arch_seed(index: int) -> int:
    """The initialisation seed of the architecture in row ``index`` of the table (NB201: its index)."""
    return 1_000_003 * (index + 1) % (2**31 - 1)


def _rows(space: str, cells: str = None):
    """The table's key columns and, per row, the key values and the architecture ``nar.torch`` builds."""
    import nar

    if space == "nb201":
        return ["index", "arch_str"], [([str(i), nar.nb201(i).arch_str], nar.nb201(i)) for i in range(15625)]
    with open(cells, newline="") as f:
        reader = csv.DictReader(f)
        key = ["unique_hash", "module_adjacency", "module_operations"]
        missing = [c for c in key if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{cells}: no column {', '.join(missing)}")
        rows = []
        for line, r in enumerate(reader, start=2):
            import json

            try:
                cell = nar.nb101(json.loads(r["module_adjacency"]), json.loads(r["module_operations"]))
            except (ValueError, TypeError) as e:
                raise ValueError(f"{cells}: line {line}: {e}") from None
            if cell.hash != r["unique_hash"]:
                raise ValueError(f"{cells}: line {line}: unique_hash {r['unique_hash']} is not the cell's ({cell.hash})")
            rows.append(([r[c] for c in key], cell))
    return key, rows


def _work(job):
    """One worker's share: ``(space, datasets, which, data_dir, batch, rows)`` → proxy values per row."""
    space, datasets, which, data_dir, batch, rows = job
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread per worker; given back below (a caller's torch keeps its own)
    try:
        return _rows_of(space, datasets, which, data_dir, batch, rows)
    finally:
        torch.set_num_threads(threads)


def _rows_of(space, datasets, which, data_dir, batch, rows):
    """The proxy values of ``rows`` (``(row, arch)`` pairs) on every dataset's network."""
    from . import image_shape, network

    out = []
    batches = {}
    for d in datasets:
        classes, side = image_shape(space, d)
        batches[d] = (
            synthetic_batch(classes, side, batch=batch)
            if data_dir is None
            else folder_batch(data_dir, space, d, batch=batch)
        )
    for i, arch in rows:
        values = []
        for d in datasets:
            torch.manual_seed(arch_seed(i))
            net = network(arch, d)
            images, labels = batches[d]
            v = proxies(net, images, labels, which)
            values.extend(v[p] for p in which)
        out.append((i, values))
    return out


def _fmt(v) -> str:
    return f"{v:.9g}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nar.torch.proxies",
        description="Zero-cost proxies of a space's architectures on each dataset's network, as the CSV nar's "
        "`proxies` feature set reads: the key columns, then DATASET_PROXY columns.",
    )
    parser.add_argument("--space", default="nb201", choices=("nb201", "nb101"))
    parser.add_argument("--cells", help="nb101: the CSV of the cells (unique_hash, module_adjacency, module_operations)")
    parser.add_argument("--datasets", default=None, help="comma-separated (default: every dataset of the space)")
    parser.add_argument("--proxies", default=",".join(PROXIES), help="comma-separated (default: all)")
    parser.add_argument("--batch", type=int, default=BATCH, help="images per batch for the data-dependent proxies")
    parser.add_argument("--data-dir", default=None, help="an ImageFolder to draw the batch from (default: synthetic)")
    parser.add_argument("--workers", type=int, default=1, help="processes (each one thread)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N rows (a check of the table)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    from . import DATASETS

    def fail(msg):
        print(f"error: {msg}", file=sys.stderr)
        return 2

    which = [p for p in args.proxies.split(",") if p]
    unknown = [p for p in which if p not in PROXIES]
    if unknown or not which:
        return fail(f"--proxies: unknown {', '.join(unknown) or 'empty list'} (known: {', '.join(PROXIES)})")
    datasets = args.datasets.split(",") if args.datasets else list(DATASETS[args.space])
    bad = [d for d in datasets if d not in DATASETS[args.space]]
    if bad:
        return fail(f"--datasets: {', '.join(bad)} not a dataset of {args.space} ({', '.join(DATASETS[args.space])})")
    if args.space == "nb101" and not args.cells:
        return fail("--space nb101 needs --cells CSV")
    try:
        key, rows = _rows(args.space, args.cells)
        if args.data_dir is not None:
            for d in datasets:  # the folder is checked before any work
                folder_batch(args.data_dir, args.space, d, batch=args.batch)
    except (OSError, ValueError) as e:
        return fail(str(e))
    if args.limit is not None:
        rows = rows[: args.limit]
    t0 = time.time()
    indexed = list(enumerate(arch for _, arch in rows))
    chunks = [indexed[k :: max(1, args.workers)] for k in range(max(1, args.workers))]
    jobs = [(args.space, datasets, which, args.data_dir, args.batch, c) for c in chunks if c]
    if len(jobs) == 1:
        results = [_work(jobs[0])]
    else:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
            results = pool.map(_work, jobs)
    values = dict(r for part in results for r in part)
    tmp = args.out + ".part"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(key + [f"{d}_{p}" for d in datasets for p in which])
        for i, (k, _) in enumerate(rows):
            w.writerow(k + [_fmt(v) for v in values[i]])
    os.replace(tmp, args.out)
    print(f"{len(rows)} architectures × {len(datasets)} datasets in {time.time() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
