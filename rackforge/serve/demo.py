"""The demo workspace ``make serve`` starts with: a lab and a manufacturer, one engineer each,
and the reference scenario as the manufacturer's project, shared with the lab."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from rackforge.serve import service
from rackforge.serve.models import Org, Project, User
from rackforge.serve.security import new_token, token_hash

REFERENCE = Path(__file__).parents[2] / "scenarios" / "reference.yaml"
ORGS = (("demo-lab", "lab"), ("demo-manufacturer", "manufacturer"))
USERS = (("lab-engineer", "demo-lab", "owner"), ("mfg-engineer", "demo-manufacturer", "owner"))
PROJECT = "reference NVL72 program"


def seed(session: Session, reference: Path = REFERENCE) -> dict[str, str]:
    """Create what is missing of the demo workspace; return a fresh token per demo user (the
    old ones stop working: tokens are stored hashed and cannot be shown again)."""
    for name, kind in ORGS:
        if session.scalar(select(Org).where(Org.name == name)) is None:
            service.create_org(session, name, kind)
    tokens = {}
    for name, org, role in USERS:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            user, token = service.create_user(session, name, org, role)
        else:
            token = new_token()
            user.token_hash, user.revoked_at = token_hash(token), None
        tokens[name] = token
    _project(session, reference)
    return tokens


def _project(session: Session, reference: Path) -> None:
    maker = session.scalar(select(User).where(User.name == "mfg-engineer"))
    if session.scalar(select(Project).where(Project.name == PROJECT)) is not None:
        return
    project = service.create_project(session, maker, PROJECT)
    service.share_project(session, maker, project.id, "demo-lab", "editor")
    suppliers = reference.parent / "suppliers-reference.csv"
    service.add_version(session, maker, project.id, reference.read_text(encoding="utf-8"),
                        {suppliers.name: suppliers.read_text(encoding="utf-8")}, None,
                        "the reference scenario")
