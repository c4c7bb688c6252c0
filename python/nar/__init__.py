"""nar: the Neural Architecture Ranker for NAS-Bench-101 and NAS-Bench-201, backed by the Rust library.

Architectures and their cost::

    import nar
    a = nar.nb201("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|")
    a.index, a.cost(dataset="cifar10")["total_flops"], a.encode().shape      # (31, 4, 4)
    c = nar.nb101(matrix, ops); c.hash

Benchmarks, rankers, training and search::

    ds = nar.Dataset.nb201()                       # the table built into nar
    val = ds.metric("cifar10_val_acc")             # numpy float64, NaN where missing
    r = nar.Ranker.load("runs/nb201-cifar10")      # a `nar train` / `nar run` directory
    scores = r.predict([ds.arch(i) for i in range(100)])
    found = nar.search("nb201", my_training_function, budget=100)
    p = nar.Predictor("best", space="nb201")       # nar's best predictor, for your own loop
    p.fit(archs, accuracies); p.predict(others); p.save("my-predictor")

Every call runs in the Rust library (the same code as the ``nar`` command line); long calls release the
GIL, show progress on standard error and stop on Ctrl-C.
"""

from ._nar import (
    Dataset,
    Nb101Cell,
    Nb201Arch,
    Predictor,
    Ranker,
    __version__,
    nb101,
    nb201,
    search,
    train,
)

__all__ = [
    "Dataset",
    "Nb101Cell",
    "Nb201Arch",
    "Predictor",
    "Ranker",
    "__version__",
    "nb101",
    "nb201",
    "search",
    "train",
]
