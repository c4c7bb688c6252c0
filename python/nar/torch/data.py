"""The training and validation images of a benchmark: its dataset through torchvision, or any image folder,
with the benchmark's augmentation and its train/validation split.

Splits (the images an accuracy is measured on):

- NAS-Bench-101, CIFAR-10: train on ``data_batch_1``–``4`` (the first 40,000 of torchvision's training set),
  validate on ``data_batch_5`` (the last 10,000), as ``generate_cifar10_tfrecords.py`` writes them.
- NAS-Bench-201, CIFAR-10 (``cifar10-valid``): 25,000 training images and 25,000 validation images of the
  training set, listed in AutoDL-Projects' ``configs/nas-benchmark/cifar-split.txt`` (keys ``train``,
  ``valid``); CIFAR-100: the whole training set, validation on the 5,000 test images of
  ``cifar100-test-split.txt`` (key ``xvalid``). Give the file with ``--split-file``; without it the
  same sizes are drawn by a fixed permutation (seed 0, the same for every architecture and run), and the
  training says so on standard error.
- An image folder (``DIR/train/<class>/…`` and ``DIR/val/<class>/…``, torchvision's ``ImageFolder``):
  those two sets as they are; the class count must be the dataset's and every image the network's size.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from .recipes import Recipe

#: Seed of the permutation that stands in for a split file.
SPLIT_SEED = 0


class DataError(ValueError):
    """Data that cannot be used, with the reason (the command line prints it and exits 1)."""


@dataclass
class Images:
    """The two sets and what they are."""

    train: Dataset
    val: Dataset
    description: str
    note: Optional[str] = None


def transforms_for(recipe: Recipe, side: int, space: str, train: bool):
    from torchvision import transforms as T

    norm = [T.ToTensor(), T.Normalize(recipe.mean, recipe.std)]
    if not train:
        return T.Compose(norm)
    crop = T.RandomCrop(side, padding=recipe.crop_padding)
    flip = T.RandomHorizontalFlip()
    # xautodl flips then crops; nasbench's cifar.py crops then flips (the order draws the randomness).
    steps = [flip, crop] if space == "nb201" else [crop, flip]
    return T.Compose(steps + norm)


def image_folder(root: Path, recipe: Recipe, side: int, classes: int, space: str) -> Images:
    from PIL import Image
    from torchvision.datasets import ImageFolder

    sets = {}
    for part in ("train", "val"):
        try:
            sets[part] = ImageFolder(str(root / part), transform=transforms_for(recipe, side, space, part == "train"))
        except (FileNotFoundError, RuntimeError) as e:
            raise DataError(f"{root / part}: {e}") from None
        found = len(sets[part].classes)
        if found != classes:
            raise DataError(f"{root / part} has {found} classes; the network of this dataset has {classes}")
        if part == "val" and sets["val"].classes != sets["train"].classes:
            differ = sorted(set(sets["val"].classes) ^ set(sets["train"].classes))
            raise DataError(
                f"{root / 'val'}'s classes are not {root / 'train'}'s (labels follow the class names): "
                f"{', '.join(differ[:5])}{' …' if len(differ) > 5 else ''} in only one of them"
            )
        for path, _label in sets[part].samples:
            try:
                with Image.open(path) as im:
                    size = im.size
                    im.load()  # the whole image: a truncated file is named here, not in the first epoch
            except OSError as e:
                raise DataError(f"{path}: not an image ({e})") from None
            if size != (side, side):
                raise DataError(
                    f"{path} is {size[0]}×{size[1]}; the network takes {side}×{side} images (resize them first)"
                )
    return Images(sets["train"], sets["val"], f"image folder {root} ({len(sets['train'])} / {len(sets['val'])})")


def read_split(path: Path, key: str, size: int, of: int) -> list:
    """Indices under ``key`` of an AutoDL-Projects split file (``{"key": ["int", ["0", "5", …]]}``)."""
    try:
        entry = json.loads(path.read_text())[key]
        indices = [int(i) for i in entry[1]]
    except FileNotFoundError:
        raise DataError(f"{path}: no such split file") from None
    except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
        raise DataError(f"{path}: not an AutoDL-Projects split file with {key!r} ({type(e).__name__}: {e})") from None
    if len(indices) != size or len(set(indices)) != size or not all(0 <= i < of for i in indices):
        raise DataError(f"{path}: {key!r} must list {size} distinct indices below {of}")
    return indices


def permutation(n: int) -> list:
    return torch.randperm(n, generator=torch.Generator().manual_seed(SPLIT_SEED)).tolist()


def torchvision_cifar(space: str, dataset: str, root: Path, recipe: Recipe, download: bool,
                      split_file: Optional[Path]) -> Images:
    from torchvision.datasets import CIFAR10, CIFAR100

    cls = CIFAR10 if dataset == "cifar10" else CIFAR100
    name = "CIFAR-10" if dataset == "cifar10" else "CIFAR-100"

    def load(train: bool, augment: bool):
        try:
            return cls(str(root), train=train, download=download, transform=transforms_for(recipe, 32, space, augment))
        except RuntimeError as e:
            raise DataError(
                f"no {name} in {root} ({e}): pass --download to fetch it, or give an image folder with train/ and val/"
            ) from None

    note = None
    if space == "nb101":
        return Images(
            Subset(load(True, True), range(40000)),
            Subset(load(True, False), range(40000, 50000)),
            "CIFAR-10 data_batch_1–4 (40,000) / data_batch_5 (10,000)",
        )
    if dataset == "cifar10":
        if split_file:
            train_idx = read_split(split_file, "train", 25000, 50000)
            val_idx = read_split(split_file, "valid", 25000, 50000)
        else:
            perm = permutation(50000)
            train_idx, val_idx = perm[:25000], perm[25000:]
            note = "no --split-file: NB201's 25,000 / 25,000 split of the training set drawn by a fixed permutation"
        return Images(Subset(load(True, True), train_idx), Subset(load(True, False), val_idx),
                      "CIFAR-10 training set, 25,000 / 25,000", note)
    if split_file:
        val_idx = read_split(split_file, "xvalid", 5000, 10000)
    else:
        val_idx = permutation(10000)[:5000]
        note = "no --split-file: NB201's 5,000 validation images of the test set drawn by a fixed permutation"
    return Images(load(True, True), Subset(load(False, False), val_idx),
                  "CIFAR-100 training set (50,000) / 5,000 test images", note)


def images(space: str, dataset: str, root: Path, recipe: Recipe, side: int, classes: int, *, download: bool = False,
           split_file: Optional[Path] = None) -> Images:
    """The sets ``python -m nar.torch.train`` trains and validates on."""
    if (root / "train").is_dir() and (root / "val").is_dir():
        if split_file is not None:
            raise DataError(f"--split-file splits torchvision's CIFAR files; {root} is an image folder (train/, val/)")
        return image_folder(root, recipe, side, classes, space)
    if dataset == "imagenet16":
        raise DataError(f"{root}: ImageNet16-120 is read from an image folder (train/ and val/ of 16×16 images)")
    if not root.is_dir() and not download:
        raise DataError(f"{root}: no such data directory (pass --download to fetch {dataset} into it)")
    return torchvision_cifar(space, dataset, root, recipe, download, split_file)


def loaders(sets: Images, recipe: Recipe, workers: int = 0) -> Sequence[DataLoader]:
    """Shuffled training batches of the benchmark's size (NB101 drops a last partial batch, as its
    ``drop_remainder`` does, unless the set is smaller than one batch) and validation batches."""
    drop = recipe.drop_last and len(sets.train) >= recipe.batch_size
    train = DataLoader(sets.train, batch_size=recipe.batch_size, shuffle=True, drop_last=drop, num_workers=workers)
    val = DataLoader(sets.val, batch_size=512, shuffle=False, num_workers=workers)
    return train, val
