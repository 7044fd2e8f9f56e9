"""The workspace's tables as SQLAlchemy 2 declarative models.

Organisations (labs and manufacturers) own projects and share them with other organisations
through memberships; a project's history is a chain of immutable versions (scenario YAML plus
its side files); a run evaluates one version. Every timestamp is timezone-aware UTC: stored as
``DateTime(timezone=True)`` and read back aware on every database (:class:`UTCDateTime` puts
back the UTC that SQLite drops), so values from :func:`utcnow` compare with values read back.

The schema itself is created by the Alembic migrations in ``migrations/versions``; a test
compares them with these models so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ORG_KINDS = ("lab", "manufacturer")
ROLES = ("owner", "editor", "viewer")
RUN_STATUSES = ("queued", "running", "done", "failed")

# Deterministic constraint names, shared with the migrations (which spell them out).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC: the one clock every timestamp comes from."""
    return datetime.now(UTC)


def one_of(column: str, allowed: tuple[str, ...]) -> str:
    """SQL text of a check that ``column`` holds one of ``allowed``."""
    return f"{column} IN ({', '.join(repr(value) for value in allowed)})"


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always holds UTC: aware values are converted to UTC on
    the way in, naive ones are taken as UTC, and values read back are aware UTC (SQLite keeps
    no zone; PostgreSQL returns the session's zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        """Aware UTC for the database; SQLite stores it as naive UTC text."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        """Aware UTC back, whatever the database returned."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base; its metadata is the migrations' target."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def created_at_column() -> Mapped[datetime]:
    """A ``created_at`` column stamped with :func:`utcnow` on insert."""
    return mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Org(Base):
    """An organisation: a lab that designs racks or a manufacturer that builds them."""

    __tablename__ = "orgs"
    __table_args__ = (CheckConstraint(one_of("kind", ORG_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class User(Base):
    """A person (or a script) of one organisation, known by the hash of an API token."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), nullable=False)
    role: Mapped[str] = mapped_column(String(10), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = created_at_column()

    org: Mapped[Org] = relationship()


class Project(Base):
    """A named design owned by one organisation; its content lives in versions."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), nullable=False)
    created_at: Mapped[datetime] = created_at_column()

    org: Mapped[Org] = relationship()


class Membership(Base):
    """An organisation's role on a project (the owner's organisation needs none)."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("project_id", "org_id"),
        CheckConstraint(one_of("role", ROLES), name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), nullable=False)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), nullable=False)
    role: Mapped[str] = mapped_column(String(10), nullable=False)

    project: Mapped[Project] = relationship()
    org: Mapped[Org] = relationship()


class Version(Base):
    """One immutable snapshot of a project's scenario; numbered 1, 2, ... per project. The
    unique (project_id, number) makes the second of two concurrent writers fail."""

    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("project_id", "number", name="uq_versions_project_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), nullable=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    created_at: Mapped[datetime] = created_at_column()
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    scenario_yaml: Mapped[str] = mapped_column(Text, nullable=False)
    supplier_org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"), nullable=True)
    # ^ the organisation that owns this version's supplier data (migration 0003)

    project: Mapped[Project] = relationship()
    author: Mapped[User] = relationship()
    files: Mapped[list[VersionFile]] = relationship(
        cascade="all, delete-orphan", order_by="VersionFile.name")


class VersionFile(Base):
    """A side file of a version (a catalog table, a workload list), by name."""

    __tablename__ = "version_files"
    __table_args__ = (UniqueConstraint("version_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)


class Run(Base):
    """An evaluation of one version: queued, running, then done (results, report) or failed."""

    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint(one_of("status", RUN_STATUSES), name="status"),
        Index(None, "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), nullable=False)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="queued")
    progress: Mapped[str] = mapped_column(Text, nullable=False, default="{}",
                                          server_default="{}")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    results_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    report_html: Mapped[str | None] = mapped_column(Text, nullable=True)
    report_public_html: Mapped[str | None] = mapped_column(Text, nullable=True)
    # ^ the report with supplier-level data withheld (migration 0002)
    created_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    version: Mapped[Version] = relationship()
