"""A version records which organisation owns its supplier data, so reading it never walks the
version history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("supplier_org_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_versions_supplier_org_id_orgs", "orgs",
                                 ["supplier_org_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.drop_constraint("fk_versions_supplier_org_id_orgs", type_="foreignkey")
        batch.drop_column("supplier_org_id")
