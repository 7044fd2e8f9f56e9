"""A throwaway PostgreSQL cluster for tests: ``initdb`` into a temporary folder, a server
that listens only on a Unix socket in that folder, gone when the ``with`` block ends.

PostgreSQL refuses to run as root, so as root (CI) the cluster belongs to the ``postgres``
system user and the commands run through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

NOT_INSTALLED = "PostgreSQL is not installed (apt-get install postgresql); .ci/run installs it"
SYSTEM_USER = "postgres"
START_TIMEOUT_S = 60


def postgres_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: from PATH, else Debian's newest
    ``/usr/lib/postgresql/*/bin``; ``None`` when PostgreSQL is not installed."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(os.path.realpath(initdb)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda path: int(Path(path).parts[-3]))
    return Path(candidates[-1]).parent if candidates else None


def cluster_user() -> str:
    """Who runs (and connects to) the cluster: ourselves, or ``postgres`` when we are root."""
    return SYSTEM_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def as_cluster_user(command: list[str]) -> list[str]:
    """``command`` run as :func:`cluster_user`."""
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser"):
        return ["runuser", "-u", SYSTEM_USER, "--", *command]
    return ["su", SYSTEM_USER, "-s", "/bin/sh", "-c", subprocess.list2cmdline(command)]


def run_quietly(command: list[str]) -> None:
    """Run ``command``; on failure raise with its output."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def make_folder(user: str) -> Path:
    """A fresh temporary folder owned by ``user`` (its path short: it holds the socket)."""
    folder = Path(tempfile.mkdtemp(prefix="rf-pg-", dir="/tmp"))
    entry = pwd.getpwnam(user)
    os.chown(folder, entry.pw_uid, entry.pw_gid)
    return folder


def start_cluster(bin_dir: Path, folder: Path, user: str) -> None:
    """``initdb`` (trust auth, no fsync) and ``pg_ctl start`` on a socket in ``folder``."""
    data = folder / "data"
    run_quietly(as_cluster_user([str(bin_dir / "initdb"), "-D", str(data), "-U", user,
                                 "-A", "trust", "-E", "UTF8", "--no-sync"]))
    options = f"-c listen_addresses='' -c unix_socket_directories={folder} -c fsync=off"
    run_quietly(as_cluster_user([str(bin_dir / "pg_ctl"), "start", "-w",
                                 "-t", str(START_TIMEOUT_S), "-D", str(data),
                                 "-l", str(folder / "server.log"), "-o", options]))


def stop_cluster(bin_dir: Path, folder: Path) -> None:
    """Stop the server at once (nothing in it is worth keeping) and remove ``folder``."""
    subprocess.run(as_cluster_user([str(bin_dir / "pg_ctl"), "stop", "-m", "immediate",
                                    "-D", str(folder / "data")]),
                   capture_output=True, check=False)
    shutil.rmtree(folder, ignore_errors=True)


def create_database(folder: Path | str, user: str, name: str) -> str:
    """Create database ``name`` in the cluster; its SQLAlchemy URL."""
    with psycopg.connect(host=str(folder), user=user, dbname="postgres",
                         autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://{user}@/{name}?host={folder}"


@contextmanager
def throwaway_cluster() -> Iterator[tuple[Path, str]]:
    """A running cluster: (socket folder, user); skips the test when PostgreSQL is missing."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip(NOT_INSTALLED)
    user = cluster_user()
    folder = make_folder(user)
    try:
        start_cluster(bin_dir, folder, user)
        yield folder, user
    finally:
        stop_cluster(bin_dir, folder)


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """The ``postgresql+psycopg://`` URL of a fresh database in a fresh cluster."""
    with throwaway_cluster() as (folder, user):
        yield create_database(folder, user, "rackforge")
