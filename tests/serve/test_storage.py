"""The storage layer on SQLite and PostgreSQL alike: the migrations make the models' schema,
and the database itself enforces what the service relies on (unique version numbers, foreign
keys, allowed values), whoever writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from rackforge.serve import db
from rackforge.serve.models import (
    Base,
    Membership,
    Org,
    Project,
    Run,
    User,
    Version,
    VersionFile,
    utcnow,
)

TABLES = {"orgs", "users", "projects", "memberships", "versions", "version_files", "runs"}


@pytest.fixture
def engine(db_url):
    """An engine on the test's fresh database."""
    engine = db.make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    """A session on the test's fresh database."""
    with db.session_factory(engine)() as session:
        yield session


def add_project(session) -> tuple[User, Project]:
    """A lab, its owner and one project, committed."""
    org = Org(name="Lab A", kind="lab")
    user = User(name="alice", org=org, role="owner", token_hash="a" * 64)
    project = Project(name="rack", org=org)
    session.add_all([user, project])
    session.commit()
    return user, project


def version(user: User, project: Project, number: int) -> Version:
    """Version ``number`` of ``project`` by ``user``."""
    return Version(project_id=project.id, number=number, author_id=user.id,
                   content_hash="f" * 64, scenario_yaml="name: rack\n")


def table_names(engine) -> set[str]:
    """The tables the database has, Alembic's bookkeeping left out."""
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_migrations_create_every_table_at_head(db_url, engine):
    assert table_names(engine) == TABLES
    assert db.current_revision(db_url) == db.head_revision() == "0003"
    assert "ix_runs_status" in {index["name"] for index in inspect(engine).get_indexes("runs")}


def test_migrations_match_the_models(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrade_twice_is_harmless(db_url, session):
    user, project = add_project(session)
    db.upgrade(db_url)
    assert db.current_revision(db_url) == db.head_revision()
    assert session.get(Project, project.id).name == "rack"


def test_downgrade_to_base_then_upgrade_again(db_url, engine):
    db.downgrade(db_url, "base")
    assert db.current_revision(db_url) is None
    assert table_names(engine) == set()
    db.upgrade(db_url)
    assert table_names(engine) == TABLES


def test_a_version_number_is_taken_once_per_project(session):
    user, project = add_project(session)
    session.add(version(user, project, 1))
    session.commit()
    session.add(version(user, project, 1))
    with pytest.raises(IntegrityError, match="uq_versions_project_number|versions.number"):
        session.commit()
    session.rollback()
    session.add(version(user, project, 2))
    session.commit()


def next_number(session, project: Project) -> int:
    """The number the next version of ``project`` would take, as a writer would read it."""
    latest = session.scalar(select(func.max(Version.number))
                            .where(Version.project_id == project.id))
    return (latest or 0) + 1


def test_of_two_concurrent_writers_only_one_wins(engine, session):
    user, project = add_project(session)
    sessions = db.session_factory(engine)
    with sessions() as first, sessions() as second:
        numbers = next_number(first, project), next_number(second, project)
        assert numbers == (1, 1)
        first.add(version(user, project, numbers[0]))
        first.commit()
        second.add(version(user, project, numbers[1]))
        with pytest.raises(IntegrityError):
            second.commit()
    assert session.scalar(select(func.count()).select_from(Version)) == 1


def test_foreign_keys_are_enforced(session):
    session.add(Project(name="orphan", org_id=9999))
    with pytest.raises(IntegrityError):
        session.commit()


def test_check_constraint_rejects_an_unknown_role(session):
    user, project = add_project(session)
    session.add(Membership(project_id=project.id, org_id=user.org_id, role="admin"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_check_constraint_rejects_an_unknown_run_status(session):
    user, project = add_project(session)
    saved = version(user, project, 1)
    session.add(saved)
    session.commit()
    session.add(Run(version_id=saved.id, requested_by=user.id, status="paused"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_timestamps_round_trip_as_aware_utc(engine, session):
    user, project = add_project(session)
    stamped = utcnow()
    elsewhere = datetime(2026, 5, 20, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-7)))
    user.revoked_at = elsewhere
    session.commit()
    with db.session_factory(engine)() as fresh:
        again = fresh.get(User, user.id)
        assert again.revoked_at == elsewhere
        assert again.revoked_at.tzinfo is not None
        assert again.revoked_at.utcoffset() == timedelta(0)
        assert abs(again.created_at - stamped) < timedelta(seconds=5)
        assert again.created_at.tzinfo is not None


def test_defaults_and_version_files_in_name_order(engine, session):
    user, project = add_project(session)
    saved = version(user, project, 1)
    saved.files = [VersionFile(name="b.csv", text="b"), VersionFile(name="a.yaml", text="a")]
    session.add(saved)
    session.commit()
    session.add(Run(version_id=saved.id, requested_by=user.id))
    session.commit()
    with db.session_factory(engine)() as fresh:
        again = fresh.get(Version, saved.id)
        assert [file.name for file in again.files] == ["a.yaml", "b.csv"]
        assert again.message == ""
        run = fresh.query(Run).one()
        assert (run.status, run.progress, run.error) == ("queued", "{}", None)
        assert run.created_at.tzinfo == UTC


def test_database_url_prefers_explicit_then_environment(monkeypatch):
    monkeypatch.delenv(db.ENV_VAR, raising=False)
    assert db.database_url(None) == db.DEFAULT_URL
    monkeypatch.setenv(db.ENV_VAR, "sqlite:///env.db")
    assert db.database_url(None) == "sqlite:///env.db"
    assert db.database_url("sqlite:///given.db") == "sqlite:///given.db"
    assert db.driver_url("postgresql://u@/d") == "postgresql+psycopg://u@/d"
