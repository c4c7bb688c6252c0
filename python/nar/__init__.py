"""nar: the Neural Architecture Ranker for NAS-Bench-101 and NAS-Bench-201, backed by the Rust library.

Architectures and their cost::

    import nar
    a = nar.nb201("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|")
    a.index, a.cost(dataset="cifar10")["total_flops"], a.encode().shape      # (31, 4, 4)
    c = nar.nb101(matrix, ops); c.hash

Benchmarks, rankers, training and search::

    ds = nar.Dataset.nb201()                       # the table built into nar
    val = ds.metric("cifar10_val_acc")             # numpy float64, NaN where missing
    r = nar.load("runs/nb201-cifar10")             # a `nar train` / `nar run` directory
    scores = r.predict([ds.arch(i) for i in range(100)])
    found = nar.search("nb201", my_training_function, budget=100)
    p = nar.Predictor("best", space="nb201")       # nar's best predictor, for your own loop
    p.fit(archs, accuracies); p.predict(others); p.save("my-predictor")

Your own space, declared in YAML (``spaces/*.yaml``)::

    s = nar.Space.load("spaces/transnas-micro.yaml")
    cell = s.sample(0); s.neighbours(cell); s.canonical(cell); s.hash(cell); len(s)

Every call runs in the Rust library (the same code as the ``nar`` command line); long calls release the
GIL, show progress on standard error and stop on Ctrl-C.
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import wraps
from typing import Any, Optional, Union

from . import _nar
from ._nar import (
    Dataset,
    Nb101Cell,
    Nb201Arch,
    Predictor,
    SavedPredictor,
    Space,
    __version__,
    nb101,
    nb201,
)

Arch = Union[Nb201Arch, Nb101Cell]

#: The earlier name of ``SavedPredictor``, from when only a run's transformer could be loaded.
Ranker = SavedPredictor


def load(path, checkpoint: str = "best") -> SavedPredictor:
    """Loads a saved predictor, whatever its model: a ``nar train`` / ``nar run`` directory or a folder
    ``Predictor.save`` wrote; ``checkpoint`` (``"best"``/``"last"``) picks a transformer's checkpoint."""
    return SavedPredictor.load(path, checkpoint)


class _Fields(Mapping):
    """A result's fields as typed attributes, and as a read-only mapping of the same names
    (``result["pick"]``, ``dict(result)``), as the dicts earlier releases returned."""

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @classmethod
    def _names(cls) -> list:
        return [f.name for f in fields(cls)]


@dataclass(frozen=True, eq=True)
class SearchResult(_Fields):
    """What :func:`search` found: the pick (best validation accuracy queried), its accuracy, every
    answered query in order, and the failed ones with their reasons. With ``objectives``: the
    objectives, the ``front`` of the answers (dicts of ``arch``, ``accuracy`` and ``costs`` by name),
    its ``hypervolume`` after each answer (raw units) and the ``reference`` point it is measured from;
    ``None`` without."""

    space: str
    method: str
    seed: int
    budget: int
    queries: int
    pick: Optional[Arch]
    accuracy: Optional[float]
    history: list
    failed: list
    objectives: Optional[list] = None
    front: Optional[list] = None
    hypervolume: Optional[list] = None
    reference: Optional[list] = None


@dataclass(frozen=True, eq=True)
class TrainSummary(_Fields):
    """What :func:`train` did: the run directory, the epochs trained and the best epoch (transformer), the
    fit's Kendall τ on its own architectures (tree models), the wall time."""

    run_dir: str
    epochs: int
    best_epoch: Optional[int]
    best_val_tier_acc: float
    fit_kendall: Optional[float]
    seconds: float


@wraps(_nar.search)
def search(*args, **kwargs) -> SearchResult:
    return SearchResult(**_nar.search(*args, **kwargs))


@wraps(_nar.train)
def train(*args, **kwargs) -> TrainSummary:
    return TrainSummary(**_nar.train(*args, **kwargs))


__all__ = [
    "Dataset",
    "Nb101Cell",
    "Nb201Arch",
    "Predictor",
    "Ranker",
    "SavedPredictor",
    "SearchResult",
    "Space",
    "TrainSummary",
    "__version__",
    "nb101",
    "nb201",
    "search",
    "train",
    "load",
]
