"""Type stubs of nar's Rust extension (re-exported by the ``nar`` package)."""

import concurrent.futures
from collections.abc import Callable, Iterable, Sequence
from os import PathLike
from typing import Any, Literal, Optional, TypedDict, Union

import numpy as np
import numpy.typing as npt

__version__: str

ImageDataset = Literal["cifar10", "cifar100", "imagenet16"]
# A task: the data set a space's metrics are for (the built-in spaces' tasks are image data sets).
Task = str
SpaceName = Literal["nb101", "nb201"]
Arch = Union["Nb201Arch", "Nb101Cell"]
StrPath = Union[str, PathLike[str]]

class Cost(TypedDict):
    """The keys of ``nar arch --json``'s per-network cost."""

    total_flops: int
    total_params: int
    vertex_or_edge_flops: dict[str, list[int]]
    vertex_or_edge_params: dict[str, list[int]]

class Nb201Arch:
    """A NAS-Bench-201 architecture (six edges, each one of five operations)."""

    @property
    def index(self) -> int:
        """Index in NAS-Bench-201's order (0 … 15624)."""
    @property
    def arch_str(self) -> str:
        """NAS-Bench-201's string, e.g. ``|nor_conv_3x3~0|+|none~0|skip_connect~1|+|…|``."""
    def cost(self, dataset: ImageDataset = "cifar10") -> Cost:
        """Per-edge FLOPs and parameters of every cell of the network trained on ``dataset``, and totals."""
    def encode(self, dataset: ImageDataset = "cifar10") -> npt.NDArray[np.float32]:
        """The ranker's input tensor, shape (31, 4, 4)."""
    @property
    def function(self) -> str:
        """The function the cell computes, an expression of its input ``x`` (``""``: nothing reaches the output)."""
    def canonical(self) -> Nb201Arch:
        """The representative of the cells computing the same function (most ``none`` edges, then lowest index)."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple: ...

class Nb101Cell:
    """A NAS-Bench-101 cell, pruned to the vertices on an input → output path."""

    @property
    def hash(self) -> str:
        """NAS-Bench-101's hash (32 hex digits)."""
    @property
    def matrix(self) -> list[list[int]]:
        """The pruned adjacency matrix."""
    @property
    def ops(self) -> list[str]:
        """The pruned operations, ``input`` first and ``output`` last."""
    def cost(self, dataset: ImageDataset = "cifar10") -> Cost:
        """Per-vertex FLOPs and parameters of every cell of the CIFAR-10 network, and totals."""
    def encode(self, dataset: ImageDataset = "cifar10") -> npt.NDArray[np.float32]:
        """The ranker's input tensor, shape (19, 7, 7)."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple: ...

def nb201(arch: Union[str, int]) -> Nb201Arch:
    """A NAS-Bench-201 architecture from its string or index; ValueError for anything else."""

def nb101(matrix: Union[Sequence[Sequence[int]], npt.ArrayLike], ops: Sequence[str]) -> Nb101Cell:
    """A NAS-Bench-101 cell from its adjacency matrix (≤ 7×7, upper triangular, 0/1) and operations
    (``input``, ``conv3x3-bn-relu``, ``conv1x1-bn-relu``, ``maxpool3x3``, ``output``); vertices off every
    input → output path are pruned. ValueError with the reason for an invalid cell."""

class Dataset:
    """Architectures of one space (NB101 by hash, NB201 by index) with named metrics (NaN = missing)."""

    @staticmethod
    def open(path: StrPath) -> Dataset:
        """Opens a ``.nar`` store."""
    @staticmethod
    def build(space: SpaceName | Space, metrics: Sequence[StrPath] = ...) -> Dataset:
        """Every architecture of ``space`` joined with metric files (.csv, NAR .json, NB101 .tfrecord)."""
    @staticmethod
    def nb201() -> Dataset:
        """The NAS-Bench-201 accuracy table built into nar."""
    @property
    def space(self) -> SpaceName: ...
    @property
    def metrics(self) -> list[str]:
        """The metric names."""
    def metric(self, name: str) -> npt.NDArray[np.float64]:
        """One metric for every architecture (NaN where missing); KeyError for an unknown name."""
    def arch(self, i: int) -> Arch:
        """The architecture at position ``i`` (negative counts from the end)."""
    def id(self, i: int) -> str:
        """NB101 hash or NB201 index of position ``i``, as text."""
    def __len__(self) -> int: ...
    def __getitem__(self, i: int) -> Arch:
        """``ds[i]``: the architecture at position ``i``, as :meth:`arch`."""

class SavedPredictor:
    """A saved predictor, whatever its model: the predictor of a ``nar train`` / ``nar run`` directory, or a
    folder ``Predictor.save`` wrote (``nar.load(path)`` reads one; ``nar.Ranker`` is its earlier name)."""

    @staticmethod
    def load(run_dir: StrPath, checkpoint: Literal["best", "last"] = "best") -> SavedPredictor: ...
    @property
    def space(self) -> SpaceName: ...
    @property
    def task(self) -> Task:
        """The task of the run's network (``cifar10``, ``cifar100``, ``imagenet16``)."""
    @property
    def dataset(self) -> Task:
        """The old name of ``task``."""
    @property
    def model(self) -> Literal["transformer", "gbdt", "forest", "mlp", "ensemble"]: ...
    def predict(self, archs: Iterable[Union[Arch, str, int]]) -> npt.NDArray[np.float64]:
        """Predicted accuracy scores (higher is better): the transformer's encoder and accuracy head, or
        the tree models; without the GIL."""
    def predict_tiers(self, archs: Iterable[Union[Arch, str, int]]) -> npt.NDArray[np.int64]:
        """Predicted quality tiers, 1 = best (the whole model)."""
    def state_dict(self) -> dict[str, npt.NDArray[np.float32]]:
        """Weights under the reference PyTorch model's names and shapes."""

class Predictor:
    """One of nar's predictors, to fit and use in your own loop. ``mode``: ``"best"`` (nar's
    recommended: trees and ranking networks), ``"trees"``, ``"mlp"`` (one ranking network), ``"forest"`` (the
    graph-feature forest), ``"gbdt"``, ``"improved"``, ``"reference"``,
    ``"forest-graph"`` and the other one-feature-set modes of the study, or a configuration file."""

    def __init__(
        self, mode: str = "best", *, space: SpaceName | Space = "nb201", task: Optional[Task] = None, dataset: Optional[Task] = None
    ) -> None: ...
    def fit(
        self, archs: Iterable[Union[Arch, str, int]], accuracies: Iterable[float], *, seed: Union[int, None] = None
    ) -> None:
        """Fits on the architectures and their validation accuracies (replacing an earlier fit)."""
    def predict(self, archs: Iterable[Union[Arch, str, int]]) -> npt.NDArray[np.float64]:
        """Predicted scores (higher is better)."""
    def save(self, dir: StrPath) -> None:
        """Writes the fitted predictor into a new or empty folder; ``nar.load(dir)`` reads it."""
    @property
    def model(self) -> Literal["transformer", "gbdt", "forest", "mlp", "ensemble"]: ...
    @property
    def space(self) -> SpaceName: ...

class TrainSummary(TypedDict):
    run_dir: str
    epochs: int
    best_epoch: Union[int, None]
    best_val_tier_acc: float
    # Kendall τ on the architectures a tree model fitted (None for the transformer).
    fit_kendall: Union[float, None]
    seconds: float

def train(
    config: str,
    dataset: Union[Dataset, str],
    out: StrPath,
    *,
    task: Union[Task, None] = None,
    image_dataset: Union[Task, None] = None,
    epochs: Union[int, None] = None,
    budget: Union[int, None] = None,
    force: bool = False,
) -> TrainSummary:
    """Trains the ranker into a new run directory. ``config``: a YAML file or ``"nb101"``/``"nb201"``
    (the reference configurations); ``dataset``: a Dataset, a ``.nar`` path or a space name."""

class Space:
    """A search space declared in a YAML file; cells are their text forms."""

    @staticmethod
    def load(path: StrPath) -> Space:
        """Reads and checks the declaration (``ValueError`` naming the file and the key)."""
    @property
    def name(self) -> str: ...
    @property
    def family(self) -> Literal["edges", "vertices"]: ...
    @property
    def ops(self) -> list[str]: ...
    @property
    def tasks(self) -> list[str]: ...
    @property
    def sha256(self) -> str: ...
    @property
    def path(self) -> str:
        """Where the declaration was read from."""
    @property
    def zero(self) -> Optional[str]:
        """The op that outputs zeros, where declared."""
    @property
    def network(self) -> Optional[dict[str, Any]]:
        """The ``network:`` block: skeleton (``nb201``/``nb101``), channels, cells, stacks, classes."""
    def parse(self, text: str) -> str:
        """The cell in its checked, canonical text form (``ValueError`` saying why it is not one)."""
    def hash(self, text: str) -> str:
        """The hash of the cell's function class."""
    def canonical(self, text: str) -> str:
        """The canonical cell of the cell's function class (an enumerable edges-family space)."""
    def sample(self, seed: int) -> str:
        """A random cell (edges: uniform; vertices: NAS-Bench-101's random draw, pruned and checked)."""
    def neighbours(self, text: str) -> list[str]:
        """The cells one change away (edges: an op or a chosen input; vertices: an op, an edge)."""
    def __len__(self) -> int: ...

class _SearchFront(TypedDict, total=False):
    # With objectives only.
    objectives: list[str]
    front: list[dict]
    hypervolume: list[float]
    reference: list[float]

class SearchResult(_SearchFront):
    space: str  # nb101, nb201, or declared
    method: str
    seed: int
    budget: int
    queries: int
    pick: Union[Arch, None]
    accuracy: Union[float, None]
    history: list[tuple[Arch, float]]
    failed: list[tuple[Arch, str]]

def search(
    space: SpaceName | Space,
    oracle: Callable[[Arch], float],
    budget: int,
    method: Literal["nar", "random", "rea", "ls", "mo-nar", "mo-rea", "mo-ls"] = "nar",
    seed: int = 0,
    task: Optional[Task] = None,
    *,
    dataset: Optional[Task] = None,
    batch: Optional[int] = None,
    max_params: Optional[int] = None,
    max_flops: Optional[int] = None,
    equivalence: Literal["canonical", "none"] = "canonical",
    predictor: Optional[str] = None,
    parallel: Optional[int] = None,
    executor: Optional[concurrent.futures.Executor] = None,
    journal: Optional[StrPath] = None,
    journal_reuse: bool = False,
    timeout: Optional[float] = None,
    retries: Optional[int] = None,
    on_interrupt: Literal["cancel", "wait"] = "cancel",
    objectives: Optional[Sequence[str]] = None,
) -> SearchResult:
    """Searches ``space`` asking ``oracle(arch) -> validation accuracy`` for at most ``budget`` distinct
    queries (``equivalence="canonical"``: NB201 cells computing one function are one query), ``batch``
    proposals at a time, only networks within ``max_params`` / ``max_flops`` (nar's cost model);
    ``predictor`` names the guided search's predictor (default ``"trees"``). Up to ``parallel`` calls run
    at once through ``executor`` (any ``concurrent.futures.Executor``: threads, processes, Dask's
    ``Client.get_executor()``, submitit), each answer or failure appended to ``journal`` as it arrives;
    a failed call (an exception, no number, past ``timeout``) is retried ``retries`` times, then listed
    in ``failed``. ``objectives=["val", "flops"]`` (and/or ``"params"``) weighs accuracy against cost
    (``mo-nar``, ``mo-rea`` and ``mo-ls`` need it): the result's ``front`` holds the non-dominated
    answers, ``hypervolume`` their hypervolume after each answer. Returns the pick and the whole query
    history."""
