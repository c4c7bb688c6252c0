"""The training oracle's throughput against the same loop written plainly in PyTorch.

    python bench/torch_train_throughput.py [--arch ARCH] [--images 1024] [--epochs 2] [--repeats 3]

Both train the same network (``nar.torch.network``, NB201's CIFAR-10 network of ``--arch``, by default
the architecture with the best CIFAR-10 validation accuracy in NAS-Bench-201, index 6111) with the same
optimizer (SGD, Nesterov momentum 0.9, weight decay 5e-4) on the same in-memory batches of 256 synthetic
32×32 images, and validate on the same 256 images after every epoch. The plain loop is forward, loss,
zero_grad, backward, step, then the validation accuracy; ``nar.torch.train`` adds its learning-rate
schedule, its loss and accuracy bookkeeping, the per-epoch reseeding and a checkpoint per epoch. Prints images per second of each (training images over the wall time of the whole run, best of
``--repeats``), their ratio, and the time an epoch of NAS-Bench-201's CIFAR-10 protocol (25,000 training
and 25,000 validation images) takes at that rate.
"""

import argparse
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

import nar
import nar.torch as nt
from nar.torch import recipes

BEST_C10 = 6111


def plain(arch, loader, val, epochs: int, seed: int) -> float:
    """The same work as a plain loop: per epoch, the training batches, then the validation accuracy."""
    began = time.perf_counter()
    torch.manual_seed(seed)
    model = nt.network(arch)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            loss = loss_fn(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            _correct = sum(int((model(x).argmax(1) == y).sum()) for x, y in val)
    return time.perf_counter() - began


def oracle(arch, loader, val, epochs: int, seed: int) -> float:
    with tempfile.TemporaryDirectory() as d:
        began = time.perf_counter()
        nt.train(arch, loader, val, epochs=epochs, seed=seed, checkpoint=Path(d) / "c.pt", log=None,
                 recipe=recipes.NB201["cifar10"])
        return time.perf_counter() - began


def validation_seconds(arch, images: int) -> float:
    model = nt.network(arch).eval()
    x = torch.randn(512, 3, 32, 32)
    with torch.no_grad():
        model(x)
        began = time.perf_counter()
        model(x)
    return (time.perf_counter() - began) * images / 512


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default=str(BEST_C10))
    p.add_argument("--images", type=int, default=1024)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    arch = nt.resolve(int(args.arch) if args.arch.isdigit() else args.arch, "nb201")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.images, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (args.images,), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=256, shuffle=True)
    val = DataLoader(TensorDataset(x[:256], y[:256]), batch_size=512)
    trained = args.images * args.epochs
    plain_s, oracle_s = [], []
    for r in range(args.repeats):  # interleaved, so that a slower moment of the machine hits both
        plain_s.append(plain(arch, loader, val, args.epochs, r))
        oracle_s.append(oracle(arch, loader, val, args.epochs, r))
    p_ips, o_ips = trained / min(plain_s), trained / min(oracle_s)
    print(f"architecture: {arch.arch_str} (NB201 index {arch.index}), {torch.get_num_threads()} threads")
    print(f"plain PyTorch loop:  {p_ips:8.1f} images/s  (best of {args.repeats}: {min(plain_s):.2f} s)")
    print(f"nar.torch.train:     {o_ips:8.1f} images/s  (best of {args.repeats}: {min(oracle_s):.2f} s)")
    print(f"ratio nar / plain:   {o_ips / p_ips:8.3f}")
    epoch = 25000 / o_ips + validation_seconds(arch, 25000)
    print(f"one NB201 CIFAR-10 epoch (25,000 train + 25,000 validation images) at this rate: {epoch / 60:.1f} min")


if __name__ == "__main__":
    main()
