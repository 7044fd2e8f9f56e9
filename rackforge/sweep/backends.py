"""Where many points run: in this process, on a local process pool, or on Ray.

Every backend calls the same plain function, ``work(shared, *task)``, on the same arguments and
yields the results in task order, so the backends give the same table row for row. `shared`
(the scenario every point starts from) travels once per worker, not once per task; tasks travel
in chunks, and at most a few chunks per worker are in flight, so memory stays flat however many
points a sweep has.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Literal

from rackforge.errors import InputError

Backend = Literal["local", "ray"]
Work = Callable[..., Any]
IN_FLIGHT_PER_WORKER = 3
_SHARED: dict[str, Any] = {}   # a pool worker's copy of `shared`, set once when it starts


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def run_all(work: Work, shared: Any, tasks: Sequence[tuple], backend: Backend = "local",
            workers: int = 1, ray_address: str | None = None) -> Iterator[Any]:
    """``work(shared, *task)`` for every task, in task order."""
    size = max(1, min(32, len(tasks) // (max(workers, 1) * 8)))
    chunks = [tasks[i:i + size] for i in range(0, len(tasks), size)]
    if backend == "ray":
        return _flat(_ray(work, shared, chunks, workers, ray_address))
    if workers <= 1:
        return (work(shared, *task) for task in tasks)
    return _flat(_pool(work, shared, chunks, workers))


def run_chunk(work: Work, shared: Any, chunk: Sequence[tuple]) -> list[Any]:
    return [work(shared, *task) for task in chunk]


def _flat(results: Iterator[list[Any]]) -> Iterator[Any]:
    for chunk in results:
        yield from chunk


def _remember(shared: Any) -> None:
    _SHARED["shared"] = shared


def _pool_chunk(work: Work, chunk: Sequence[tuple]) -> list[Any]:
    return run_chunk(work, _SHARED["shared"], chunk)


def _pool(work: Work, shared: Any, chunks: list[Sequence[tuple]], workers: int
          ) -> Iterator[list[Any]]:
    with ProcessPoolExecutor(max_workers=workers, initializer=_remember,
                             initargs=(shared,)) as pool:
        window: deque[Future] = deque()
        for chunk in chunks:
            window.append(pool.submit(_pool_chunk, work, chunk))
            if len(window) >= workers * IN_FLIGHT_PER_WORKER:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def _ray(work: Work, shared: Any, chunks: list[Sequence[tuple]], workers: int,
         ray_address: str | None) -> Iterator[list[Any]]:
    try:
        import ray  # deferred: ray is an optional extra (pip install rackforge[ray])
    except ImportError:
        raise InputError("the ray backend needs Ray, an optional extra", None, "--backend",
                         "ray", "pip install 'rackforge[ray]', or --backend local") from None
    if not ray.is_initialized():
        if ray_address:
            ray.init(address=ray_address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    remote, shared_ref = ray.remote(run_chunk), ray.put(shared)
    window: deque = deque()
    for chunk in chunks:
        window.append(remote.remote(work, shared_ref, chunk))
        if len(window) >= max(workers, 1) * IN_FLIGHT_PER_WORKER:
            yield ray.get(window.popleft())
    while window:
        yield ray.get(window.popleft())
