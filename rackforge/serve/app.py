"""The FastAPI application of ``rackforge serve``: the database (migrated at start), the worker
pool that runs the stage graph, the API and the web pages.

Errors a caller can cause answer 4xx with a JSON ``detail`` (and ``errors``, one line each);
a body over 10 MB is refused with 413 before it is read.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from rackforge import __version__
from rackforge.serve import api, db, runs, ui
from rackforge.serve.service import ServiceError

MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ServerConfig:
    """Where the data lives and how runs execute."""

    db_url: str = db.DEFAULT_URL
    cache_dir: str | None = ".rackforge-cache"
    workers: int = 2
    processes: bool = True      # False: runs in threads (tests; one process to watch)


def app_from_environment() -> FastAPI:
    """The app ``rackforge serve`` runs: database ``RACKFORGE_DB``, result cache
    ``RACKFORGE_CACHE``, ``RACKFORGE_WORKERS`` worker processes."""
    return create_app(ServerConfig(
        db_url=db.database_url(None), cache_dir=os.environ.get("RACKFORGE_CACHE",
                                                                ".rackforge-cache"),
        workers=int(os.environ.get("RACKFORGE_WORKERS", "2"))))


def create_app(config: ServerConfig | None = None) -> FastAPI:
    config = config or ServerConfig()
    app = FastAPI(title="rackforge workspace", version=__version__,
                  lifespan=_lifespan(config))
    app.add_middleware(BodyLimit)
    app.include_router(api.router)
    app.include_router(ui.router)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OverflowError, _out_of_range)
    return app


def _lifespan(config: ServerConfig):  # noqa: ANN202 - a FastAPI lifespan factory
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db.upgrade(config.db_url)
        app.state.sessions = db.session_factory(db.make_engine(config.db_url))
        pool: Executor = (ProcessPoolExecutor if config.processes else ThreadPoolExecutor)(
            max_workers=config.workers)
        worker = runs.WorkerConfig(config.db_url, config.cache_dir)
        app.state.start_run = lambda run_id: runs.submit(pool, worker, [run_id])
        with app.state.sessions() as session:
            runs.submit(pool, worker, runs.recover(session))
        try:
            yield
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    return lifespan


async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
    return JSONResponse({"detail": exc.message, "errors": exc.errors}, status_code=exc.status)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return JSONResponse({"detail": "the request body is not what the route takes",
                         "errors": lines}, status_code=422)


async def _out_of_range(request: Request, exc: OverflowError) -> JSONResponse:
    """A number past what the database stores (an id over 2**63 - 1 in the path): no such
    thing can exist, so the request is malformed, as ``/api/versions/abc`` is."""
    return JSONResponse({"detail": "a number in the request is out of range",
                         "errors": [str(exc)]}, status_code=422)


class BodyLimit:
    """Refuse request bodies over :data:`MAX_BODY_BYTES` with 413, whether or not they say
    their length."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            await _too_large(send)
            return
        seen, refused = 0, False

        async def counted() -> dict[str, Any]:
            nonlocal seen, refused
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                if not refused:
                    refused = True
                    await _too_large(send)
                raise _TooLarge
            return message

        async def unless_refused(message: dict[str, Any]) -> None:
            # the app may turn the error reading its body into an answer of its own (FastAPI
            # answers 400); the 413 has been sent already
            if not refused:
                await send(message)

        try:
            await self.app(scope, counted, unless_refused)
        except _TooLarge:
            if not refused:
                await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    response = JSONResponse({"detail": f"the body is over {MAX_BODY_BYTES // 2**20} MB",
                             "errors": []}, status_code=413)
    await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}
