"""Where the workspace's data lives: the database URL, engines, sessions and migrations.

SQLite (a file next to you, zero set-up) by default; PostgreSQL when ``--db`` or
``RACKFORGE_DB`` says so (``postgresql://`` URLs are driven by psycopg 3). The schema is
always made by the Alembic migrations in ``migrations/``, run programmatically by
:func:`upgrade`; no ``alembic.ini`` is needed.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

DEFAULT_URL = "sqlite:///rackforge.db"
ENV_VAR = "RACKFORGE_DB"
MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 5
POSTGRES_DRIVER = "postgresql+psycopg"


def database_url(explicit: str | None) -> str:
    """The URL to use: ``explicit`` if given, else ``$RACKFORGE_DB``, else :data:`DEFAULT_URL`."""
    return explicit or os.environ.get(ENV_VAR) or DEFAULT_URL


def driver_url(url: str) -> str:
    """``url`` with PostgreSQL spelt for psycopg 3 (``postgres://`` and ``postgresql://``
    become ``postgresql+psycopg://``); other URLs unchanged."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return POSTGRES_DRIVER + "://" + url[len(prefix):]
    return url


def is_sqlite(url: str) -> bool:
    """Whether ``url`` names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def _set_sqlite_pragmas(dbapi_connection, _record) -> None:
    """Per connection: WAL (readers do not block the writer), foreign keys enforced, and
    waiting up to :data:`SQLITE_BUSY_TIMEOUT_S` for a lock instead of failing at once."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def _sqlite_engine(url: str) -> Engine:
    """A SQLite engine usable from any thread; an in-memory database is one shared
    connection (each new connection would otherwise see an empty database)."""
    in_memory = make_url(url).database in (None, "", ":memory:")
    engine = create_engine(
        url, pool_pre_ping=True,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        **({"poolclass": StaticPool} if in_memory else {}))
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def make_engine(url: str) -> Engine:
    """An engine for ``url``: SQLite with WAL, foreign keys and a busy timeout; PostgreSQL
    through psycopg 3 with its session time zone set to UTC."""
    url = driver_url(url)
    if is_sqlite(url):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True,
                         connect_args={"options": "-c timezone=UTC"})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine``; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` with the package's migrations, no ini file. The
    URL travels in ``attributes["url"]`` (and, %-escaped, as ``sqlalchemy.url``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", driver_url(url).replace("%", "%%"))
    config.attributes["url"] = driver_url(url)
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``; harmless when already there."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database at ``url`` down to ``revision`` (``base``: no tables)."""
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    """The newest migration's revision id."""
    return ScriptDirectory.from_config(alembic_config(DEFAULT_URL)).get_current_head()


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, ``None`` before the first migration."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
