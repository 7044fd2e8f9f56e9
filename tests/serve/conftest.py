"""Database fixtures: every storage test runs on SQLite and on a throwaway PostgreSQL."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.engine import make_url

from rackforge.serve import db
from tests.serve.postgres import create_database, throwaway_postgres

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_url():
    """The URL of a database in a PostgreSQL cluster started once for the session."""
    with throwaway_postgres() as url:
        yield url


def fresh_postgres_database(cluster_url: str) -> str:
    """A new, empty database in the cluster of ``cluster_url``; its URL."""
    url = make_url(cluster_url)
    return create_database(url.query["host"], url.username,
                           f"test_{next(_database_numbers)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh database migrated to head, once on SQLite (a file) and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rackforge.db'}"
    else:
        url = fresh_postgres_database(request.getfixturevalue("pg_url"))
    db.upgrade(url)
    return url
