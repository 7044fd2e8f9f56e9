"""The initial schema: organisations, users, projects, memberships, versions and their files,
runs.

Revision ID: 0001
Revises:
Create Date: 2026-05-20

Spelt out table by table (not ``metadata.create_all``) so that the schema is fixed here even
as the models change; constraint names follow ``models.NAMING_CONVENTION``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROLES_CHECK = "role IN ('owner', 'editor', 'viewer')"


def timestamp(name: str, nullable: bool = False) -> sa.Column:
    """A timezone-aware timestamp column."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def primary_key(table: str) -> list:
    """The ``id`` column and its named primary key."""
    return [sa.Column("id", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}")]


def foreign_key(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    """A named foreign key from ``table.column`` to ``target.id``."""
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=f"fk_{table}_{column}_{target}")


def create_orgs_and_users() -> None:
    """Organisations and their users."""
    op.create_table(
        "orgs", *primary_key("orgs"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        timestamp("created_at"),
        sa.UniqueConstraint("name", name="uq_orgs_name"),
        sa.CheckConstraint("kind IN ('lab', 'manufacturer')", name="ck_orgs_kind"))
    op.create_table(
        "users", *primary_key("users"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        timestamp("revoked_at", nullable=True),
        timestamp("created_at"),
        foreign_key("users", "org_id", "orgs"),
        sa.UniqueConstraint("name", name="uq_users_name"),
        sa.UniqueConstraint("token_hash", name="uq_users_token_hash"),
        sa.CheckConstraint(ROLES_CHECK, name="ck_users_role"))


def create_projects_and_memberships() -> None:
    """Projects and the organisations they are shared with."""
    op.create_table(
        "projects", *primary_key("projects"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        timestamp("created_at"),
        foreign_key("projects", "org_id", "orgs"),
        sa.UniqueConstraint("org_id", "name", name="uq_projects_org_id_name"))
    op.create_table(
        "memberships", *primary_key("memberships"),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        foreign_key("memberships", "project_id", "projects"),
        foreign_key("memberships", "org_id", "orgs"),
        sa.UniqueConstraint("project_id", "org_id", name="uq_memberships_project_id_org_id"),
        sa.CheckConstraint(ROLES_CHECK, name="ck_memberships_role"))


def create_versions_and_files() -> None:
    """Project versions (numbered per project) and their side files."""
    op.create_table(
        "versions", *primary_key("versions"),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False, server_default=""),
        timestamp("created_at"),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("scenario_yaml", sa.Text(), nullable=False),
        foreign_key("versions", "project_id", "projects"),
        foreign_key("versions", "parent_id", "versions"),
        foreign_key("versions", "author_id", "users"),
        sa.UniqueConstraint("project_id", "number", name="uq_versions_project_number"))
    op.create_table(
        "version_files", *primary_key("version_files"),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        foreign_key("version_files", "version_id", "versions"),
        sa.UniqueConstraint("version_id", "name", name="uq_version_files_version_id_name"))


def create_runs() -> None:
    """Runs of a version, with the index the worker's queue query uses."""
    op.create_table(
        "runs", *primary_key("runs"),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("progress", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("results_json", sa.Text(), nullable=True),
        sa.Column("report_html", sa.Text(), nullable=True),
        timestamp("created_at"),
        timestamp("started_at", nullable=True),
        timestamp("finished_at", nullable=True),
        foreign_key("runs", "version_id", "versions"),
        foreign_key("runs", "requested_by", "users"),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                           name="ck_runs_status"))
    op.create_index("ix_runs_status", "runs", ["status"])


def upgrade() -> None:
    """Create every table, parents before children."""
    create_orgs_and_users()
    create_projects_and_memberships()
    create_versions_and_files()
    create_runs()


def downgrade() -> None:
    """Drop every table, children before parents."""
    op.drop_index("ix_runs_status", table_name="runs")
    for table in ("runs", "version_files", "versions", "memberships", "projects", "users",
                  "orgs"):
        op.drop_table(table)
