"""Training one architecture's network with its benchmark's schedule, resumable from a checkpoint per epoch.

Determinism: the network is initialised after ``torch.manual_seed(seed)``, and every epoch reseeds torch's
generator from ``(seed, epoch)`` before its batches are drawn, so the shuffling and the augmentation of an
epoch (torchvision's transforms and the ``DataLoader``'s order draw from it) are the same whether the
training ran straight through or resumed from a checkpoint. On the CPU the same seed gives the same numbers.

A checkpoint holds the model, the optimizer's state, the epochs done and their figures, and what it is a
training of (space, architecture, dataset, seed, epochs, schedule); a checkpoint of another training is
refused, not resumed. It is written to a temporary file and renamed, so an interruption leaves the last
complete one. A checkpoint of a finished training answers without training again.
"""

import hashlib
import math
import numbers
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Union

import torch
from torch import nn

from . import recipes

FORMAT = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed, with the reason."""


@dataclass(frozen=True)
class TrainResult:
    """What a training gave: the validation accuracy (percent) after the last epoch, and every epoch's figures
    (``epoch``, ``lr``, ``loss``, ``train_accuracy``, ``val_accuracy``, ``seconds``, ``images_per_second``), and
    the trained network."""

    space: str
    arch: str
    dataset: str
    seed: int
    epochs: int
    val_accuracy: float
    history: list = field(default_factory=list)
    resumed_at: int = 0
    checkpoint: Optional[str] = None
    #: The trained network (in eval mode).
    model: Optional[nn.Module] = field(default=None, compare=False, repr=False)


def arch_text(arch) -> str:
    """An architecture as ``nar search --oracle-cmd`` writes it: NB201's string, NB101's JSON."""
    import json

    if hasattr(arch, "arch_str"):
        return arch.arch_str
    return json.dumps({"module_adjacency": arch.matrix, "module_operations": arch.ops})


def recipe_for(space: str, dataset: str) -> recipes.Recipe:
    return recipes.NB201[dataset] if space == "nb201" else recipes.NB101


def check_device(device: str) -> None:
    """ValueError unless ``device`` is ``cpu``, or ``cuda``/``cuda:N`` with a CUDA device torch sees."""
    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"--device {device}: cpu, cuda or cuda:N")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {device}: this torch sees no CUDA device")


def epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch + 1) % (2**63)


def save_atomic(path: Path, state: dict) -> None:
    """``torch.save`` into a temporary file beside ``path``, synced, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    # Mode 0666 through the umask, as any file the user writes (mkstemp's would be 0600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


#: Seeds are 0 … 2**63 − 1 (torch's generator takes no more).
MAX_SEED = 2**63 - 1


def _digest(obj, h) -> None:
    """Feeds ``obj`` (nested dicts, lists, tensors, numbers, strings) into ``h`` in a canonical order."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().to("cpu").contiguous()
        h.update(f"tensor{tuple(t.shape)}{t.dtype}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(obj, dict):
        h.update(b"{")
        for k in sorted(obj, key=repr):
            h.update(repr(k).encode())
            _digest(obj[k], h)
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[")
        for v in obj:
            _digest(v, h)
        h.update(b"]")
    else:
        h.update(repr(obj).encode())


def weights_sha256(state: dict) -> str:
    """The SHA-256 of a checkpoint's weights and optimizer state (its ``weights_sha256``)."""
    h = hashlib.sha256()
    _digest({"model": state["model"], "optimizer": state["optimizer"]}, h)
    return h.hexdigest()


def load_checkpoint(path: Path, meta: dict, device: str) -> dict:
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # torch raises many kinds for a damaged file
        raise CheckpointError(
            f"{path}: not a readable checkpoint ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''});"
            " delete it to train from the start"
        ) from None
    if not isinstance(state, dict) or not isinstance(state.get("meta"), dict) or "model" not in state:
        raise CheckpointError(f"{path}: not a nar.torch checkpoint; delete it to train from the start")
    differ = [f"{k} {state['meta'].get(k)!r} (this training: {v!r})" for k, v in meta.items() if state["meta"].get(k) != v]
    if differ:
        raise CheckpointError(f"{path} is the checkpoint of another training: {'; '.join(differ)}")
    redo = "; delete it to train from the start"
    epoch, history = state.get("epoch"), state.get("history")
    if not (isinstance(epoch, int) and not isinstance(epoch, bool) and 0 <= epoch <= meta["epochs"]):
        raise CheckpointError(f"{path}: its epoch {epoch!r} is not one of 0 … {meta['epochs']}{redo}")
    if not (isinstance(history, list) and len(history) == epoch and all(isinstance(e, dict) and "val_accuracy" in e for e in history)):
        raise CheckpointError(f"{path}: its history is not one record per epoch done{redo}")
    if "optimizer" not in state:
        raise CheckpointError(f"{path}: it has no optimizer state{redo}")
    # Checkpoints written before the checksum have none; any other is checked.
    if "weights_sha256" in state and state["weights_sha256"] != weights_sha256(state):
        raise CheckpointError(f"{path}: its weights do not match their checksum (a damaged file){redo}")
    return state


def _say(log: Optional[Callable[[str], None]], text: str) -> None:
    if log is not None:
        log(text)


def stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def evaluate(model: nn.Module, loader: Iterable, device: str) -> float:
    """Top-1 accuracy in percent: 100 × correct / images."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            if y.numel() and (int(y.min()) < 0 or int(y.max()) >= logits.shape[1]):
                raise ValueError(
                    f"a validation label is {int(y.min()) if int(y.min()) < 0 else int(y.max())}: "
                    f"the network has {logits.shape[1]} classes (labels 0 … {logits.shape[1] - 1})"
                )
            correct += int((logits.argmax(1) == y).sum())
            total += int(y.numel())
    if total == 0:
        raise ValueError("the validation set is empty")
    return 100.0 * correct / total


def train(
    arch,
    train_loader: Iterable,
    val_loader: Iterable,
    *,
    dataset: str = "cifar10",
    space: Optional[str] = None,
    epochs: Optional[int] = None,
    seed: int = 0,
    device: str = "cpu",
    checkpoint: Union[str, os.PathLike, None] = None,
    recipe: Optional[recipes.Recipe] = None,
    log: Optional[Callable[[str], None]] = stderr,
) -> TrainResult:
    """Trains ``arch``'s network (:func:`nar.torch.network`) on ``train_loader``'s batches with its benchmark's
    schedule (``recipe``, default NB201's for the dataset or NB101's; ``epochs`` shortens or lengthens it, the
    cosine following) and returns the validation accuracy on ``val_loader`` after the last epoch. With
    ``checkpoint`` (a file path), the state is written there after every epoch and an existing one is resumed.
    ``log`` receives a line per epoch (standard error by default; ``None`` for quiet)."""
    from . import declared, network, resolve, space_of

    decl = declared.as_space(space)
    if decl is not None:
        # A declared space's cell (its text form), in the skeleton its declaration names.
        text = decl.parse(str(arch))
        space = f"declared {decl.sha256}"
        recipe = recipe or declared.recipe(decl, dataset)

        def build():
            return network(text, dataset, space=decl)
    else:
        arch = resolve(arch, space)
        space = space_of(arch)
        recipe = recipe or recipe_for(space, dataset)
        text = arch_text(arch)

        def build():
            return network(arch, dataset)

    if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral)):
        raise TypeError(f"epochs must be an integer, not {type(epochs).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an integer, not {type(seed).__name__}")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be 0 … 2**63 − 1, not {seed}")
    epochs = recipe.epochs if epochs is None else int(epochs)
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, not {epochs}")
    check_device(device)
    meta = {"format": FORMAT, "space": space, "arch": text, "dataset": dataset, "seed": seed, "epochs": epochs,
            "recipe": recipe.name}

    torch.manual_seed(seed)
    model = build().to(device)
    optimizer = recipe.optimizer_for(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    history: list = []
    start = 0
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        state = load_checkpoint(path, meta, device)
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as e:
            raise CheckpointError(f"{path}: its weights do not fit this network ({e}); delete it to start over") from None
        start, history = int(state["epoch"]), list(state["history"])
        _say(log, f"resuming from {path}: {start} of {epochs} epochs done")
    resumed_at = start

    steps_per_epoch = max(1, len(train_loader)) if hasattr(train_loader, "__len__") else None
    for epoch in range(start, epochs):
        torch.manual_seed(epoch_seed(seed, epoch))
        model.train()
        began = time.perf_counter()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.long, device=device)
        images = 0
        lr = recipe.lr_at(epoch, 0, steps_per_epoch or 1, epochs)
        for step, (x, y) in enumerate(train_loader):
            lr = recipe.lr_at(epoch, step, steps_per_epoch or 1, epochs)
            for group in optimizer.param_groups:
                group["lr"] = lr
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            logits = model(x)
            loss = loss_fn(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * y.numel()
            correct += (logits.detach().argmax(1) == y).sum()
            images += int(y.numel())
        if images == 0:
            raise ValueError("the training set gave no batch")
        seconds = time.perf_counter() - began
        mean_loss = float(loss_sum) / images
        if not math.isfinite(mean_loss):
            raise ValueError(f"epoch {epoch + 1}: the loss is {mean_loss}")
        val = evaluate(model, val_loader, device)
        history.append({
            "epoch": epoch + 1,
            "lr": lr,
            "loss": mean_loss,
            "train_accuracy": 100.0 * int(correct) / images,
            "val_accuracy": val,
            "seconds": seconds,
            "images_per_second": images / seconds,
        })
        _say(log, f"epoch {epoch + 1}/{epochs}  lr {lr:.4g}  loss {mean_loss:.4f}  train {history[-1]['train_accuracy']:.2f}%"
                  f"  val {val:.2f}%  {seconds:.1f} s ({images / seconds:.0f} images/s)")
        if path is not None:
            state = {"meta": meta, "epoch": epoch + 1, "model": model.state_dict(),
                     "optimizer": optimizer.state_dict(), "history": history}
            state["weights_sha256"] = weights_sha256(state)
            save_atomic(path, state)
    if not history:
        raise CheckpointError(f"{path}: a finished checkpoint without figures; delete it to train again")
    return TrainResult(space=space, arch=text, dataset=dataset, seed=seed, epochs=epochs,
                       val_accuracy=history[-1]["val_accuracy"], history=history, resumed_at=resumed_at,
                       checkpoint=str(path) if path is not None else None, model=model.eval())
