"""Where many points run: in this process, on a local process pool, or on Ray.

Every backend runs the same plain function on the same arguments and yields the results in the
order of the arguments, so the backends give the same table row for row. At most a few tasks
per worker are in flight at once, so memory stays flat however many points a sweep has.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Literal

from rackforge.errors import InputError

Backend = Literal["local", "ray"]
IN_FLIGHT_PER_WORKER = 4


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def run_all(work: Callable[..., Any], tasks: Iterable[tuple], backend: Backend = "local",
            workers: int = 1, ray_address: str | None = None) -> Iterator[Any]:
    """``work(*task)`` for every task, in task order."""
    if backend == "ray":
        return _ray(work, tasks, workers, ray_address)
    if workers <= 1:
        return (work(*task) for task in tasks)
    return _pool(work, tasks, workers)


def _pool(work: Callable[..., Any], tasks: Iterable[tuple], workers: int) -> Iterator[Any]:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        window: deque[Future] = deque()
        for task in tasks:
            window.append(pool.submit(work, *task))
            if len(window) >= workers * IN_FLIGHT_PER_WORKER:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def _ray(work: Callable[..., Any], tasks: Iterable[tuple], workers: int,
         ray_address: str | None) -> Iterator[Any]:
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
    remote = ray.remote(work)
    window: deque = deque()
    for task in tasks:
        window.append(remote.remote(*task))
        if len(window) >= max(workers, 1) * IN_FLIGHT_PER_WORKER:
            yield ray.get(window.popleft())
    while window:
        yield ray.get(window.popleft())
