"""What ``nar.search`` needs of the Python side to call an oracle: the executor it makes when the user
gives none, and the name a journal's header gives the oracle.

``DaemonThreadExecutor`` is a ``concurrent.futures.Executor`` whose worker threads are daemon threads:
a call that never returns (a hung training) cannot keep the interpreter from exiting, as the standard
``ThreadPoolExecutor``'s threads would (the interpreter joins them at exit). A Python thread cannot be
interrupted: a timed-out or cancelled call that is already running goes on in its thread until it
returns, and is abandoned at exit. Use a ``ProcessPoolExecutor`` or Dask to have running calls stopped.
"""

import functools
import queue
import threading
from concurrent.futures import Executor, Future


class DaemonThreadExecutor(Executor):
    """Up to ``max_workers`` calls at a time, each in a daemon thread (started as calls are submitted)."""

    def __init__(self, max_workers: int):
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._max_workers = max_workers
        self._work: "queue.SimpleQueue" = queue.SimpleQueue()
        self._threads: list = []
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit after shutdown")
            future: Future = Future()
            self._work.put((future, fn, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max_workers:
                t = threading.Thread(target=self._worker, name=f"nar-oracle-{len(self._threads)}", daemon=True)
                self._threads.append(t)
                t.start()
            return future

    def _worker(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as e:  # handed to the caller through the future
                    future.set_exception(e)
                else:
                    future.set_result(result)
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while True:
                    try:
                        item = self._work.get_nowait()
                    except queue.Empty:
                        break
                    if item is not None:
                        item[0].cancel()
            for _ in self._threads:
                self._work.put(None)
        if wait:
            for t in self._threads:
                t.join()


def oracle_name(oracle) -> str:
    """The oracle's name in a journal's header: ``python:`` and what identifies it — a function's module
    and qualified name; a lambda's also its file and line (two lambdas are two oracles); a
    ``functools.partial``'s function and arguments; a callable object's class."""
    if isinstance(oracle, functools.partial):
        parts = [oracle_name(oracle.func)[len("python:"):]]
        parts += [repr(a) for a in oracle.args]
        parts += [f"{k}={v!r}" for k, v in sorted(oracle.keywords.items())]
        return f"python:functools.partial({', '.join(parts)})"
    module = getattr(oracle, "__module__", None)
    qualname = getattr(oracle, "__qualname__", None)
    if not (isinstance(module, str) and isinstance(qualname, str)):
        cls = type(oracle)
        return f"python:{cls.__module__}.{cls.__qualname__}"
    name = f"{module}.{qualname}"
    code = getattr(oracle, "__code__", None)
    if "<lambda>" in qualname and code is not None:
        name += f"@{code.co_filename}:{code.co_firstlineno}"
    return f"python:{name}"
