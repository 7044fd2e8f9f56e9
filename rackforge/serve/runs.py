"""Runs of the stage graph on stored versions, in background worker processes.

The server hands a run's id to a process pool; the worker reads the version from the database,
writes its files to a temporary folder, loads the scenario as the command line would, runs every
stage through the shared result cache and records progress stage by stage, then stores
``results.json`` and two reports: the full one, and one with supplier-level data withheld for
the other organisations (:mod:`rackforge.serve.confidential`). A server that stops mid-run
leaves the run ``running``; at the next start :func:`recover` queues it again.
"""

from __future__ import annotations

import json
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from rackforge import pipeline
from rackforge.cache import ResultCache
from rackforge.report.html import render_html
from rackforge.serve.db import make_engine, session_factory
from rackforge.serve.models import Run, Version, utcnow
from rackforge.serve.service import check_scenario

RECOVERED = "re-queued after the server stopped during the run"


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker process needs to reach the database and the result cache."""

    db_url: str
    cache_dir: str | None


def execute(config: WorkerConfig, run_id: int) -> str:
    """Run `run_id` to the end (in a worker process); returns its final status."""
    sessions = session_factory(make_engine(config.db_url))
    with sessions() as session:
        run = session.get(Run, run_id)
        if run is None or run.status not in ("queued", "running"):
            return run.status if run else "missing"
        version = session.get(Version, run.version_id)
        files = {f.name: f.text for f in version.files}
        scenario_yaml = version.scenario_yaml
        run.status, run.started_at, run.progress = "running", utcnow(), "{}"
        session.commit()
    try:
        result = _run_stages(sessions, run_id, scenario_yaml, files, config)
    except Exception as exc:  # noqa: BLE001 - any failure ends the run with its reason
        _finish(sessions, run_id, "failed", error=f"{type(exc).__name__}: {exc}")
        return "failed"
    _finish(sessions, run_id, "done", results=result)
    return "done"


def _run_stages(sessions: sessionmaker[Session], run_id: int, scenario_yaml: str,
                files: dict[str, str], config: WorkerConfig) -> tuple[str, str, str]:
    scenario = check_scenario(scenario_yaml, files)
    progress: dict[str, str] = {}

    def on_stage(stage: pipeline.Stage) -> None:
        progress[stage.name] = "running"
        _progress(sessions, run_id, progress)

    cache = ResultCache(Path(config.cache_dir)) if config.cache_dir else None
    outcome = pipeline.run(scenario, None, cache, on_stage)
    progress.update({name: ("cached" if o.cached else o.status)
                     for name, o in outcome.outcomes.items()})
    _progress(sessions, run_id, progress)
    return (json.dumps(outcome.to_json()), render_html(outcome),
            render_html(outcome, withhold_suppliers=True))


def _progress(sessions: sessionmaker[Session], run_id: int, progress: dict[str, str]) -> None:
    with sessions() as session:
        session.execute(update(Run).where(Run.id == run_id)
                        .values(progress=json.dumps(progress)))
        session.commit()


def _finish(sessions: sessionmaker[Session], run_id: int, status: str,
            results: tuple[str, str, str] | None = None, error: str | None = None) -> None:
    with sessions() as session:
        run = session.get(Run, run_id)
        run.status, run.finished_at, run.error = status, utcnow(), error
        if results is not None:
            run.results_json, run.report_html, run.report_public_html = results
        session.commit()


def recover(session: Session) -> list[int]:
    """Runs a stopped server left queued or running, queued again (oldest first)."""
    stale = session.scalars(select(Run).where(Run.status.in_(("queued", "running")))
                            .order_by(Run.id)).all()
    for run in stale:
        if run.status == "running":
            run.status, run.error = "queued", RECOVERED
    session.commit()
    return [run.id for run in stale]


def submit(pool: Executor, config: WorkerConfig, run_ids: list[int]) -> None:
    for run_id in run_ids:
        pool.submit(execute, config, run_id)
