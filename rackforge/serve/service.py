"""What the workspace does, as functions of a database session: organisations and users,
projects and who may see them, immutable scenario versions, runs. The API routes and the CLI
are thin layers over these; a :class:`ServiceError` carries the HTTP status a route answers.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rackforge.cache import content_key
from rackforge.errors import InputError
from rackforge.inputs import closest, parse_yaml
from rackforge.scenario import Scenario, from_dict
from rackforge.serve.confidential import new_owner
from rackforge.serve.models import Membership, Org, Project, Run, User, Version, VersionFile
from rackforge.serve.security import ROLES, Role, at_least, lesser, matches, new_token, token_hash

SCENARIO_NAME = "scenario.yaml"
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


@dataclass
class ServiceError(Exception):
    """A request the service refuses: the HTTP status and one line per problem."""

    status: int
    message: str
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)


# --- organisations and users ---------------------------------------------------------------

def create_org(session: Session, name: str, kind: str) -> Org:
    if kind not in ("lab", "manufacturer"):
        raise ServiceError(422, f"organisation kind {kind!r}: expected lab or manufacturer")
    if session.scalar(select(Org).where(Org.name == name)) is not None:
        raise ServiceError(409, f"organisation {name!r} exists already")
    org = Org(name=name, kind=kind)
    session.add(org)
    session.flush()
    return org


def org_named(session: Session, name: str) -> Org:
    org = session.scalar(select(Org).where(Org.name == name))
    if org is None:
        names = session.scalars(select(Org.name)).all()
        hint = closest(name, names)
        raise ServiceError(404, f"no organisation {name!r}" + (f". {hint}" if hint else ""))
    return org


def create_user(session: Session, name: str, org_name: str, role: str) -> tuple[User, str]:
    """A user of an organisation and their API token, which is shown only now."""
    if role not in ROLES:
        raise ServiceError(422, f"role {role!r}: expected one of {', '.join(ROLES)}")
    org = org_named(session, org_name)
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise ServiceError(409, f"user {name!r} exists already")
    token = new_token()
    user = User(name=name, org_id=org.id, role=role, token_hash=token_hash(token))
    session.add(user)
    session.flush()
    return user, token


def revoke_user(session: Session, name: str, when: datetime) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise ServiceError(404, f"no user {name!r}")
    user.revoked_at = when
    return user


def authenticate(session: Session, token: str | None) -> User | None:
    """The user a bearer token belongs to, or None (unknown, or revoked)."""
    if not token:
        return None
    user = session.scalar(select(User).where(User.token_hash == token_hash(token)))
    if user is None or user.revoked_at is not None or not matches(token, user.token_hash):
        return None
    return user


# --- projects and access -------------------------------------------------------------------

def project_role(session: Session, user: User, project: Project) -> Role | None:
    """The user's role on a project: their own in the owning organisation; on a shared one,
    the lesser of their own and the share's; None without access."""
    if project.org_id == user.org_id:
        return user.role
    share = session.scalar(select(Membership).where(Membership.project_id == project.id,
                                                    Membership.org_id == user.org_id))
    return None if share is None else lesser(user.role, share.role)


def project_for(session: Session, user: User, project_id: int, needed: Role = "viewer"
                ) -> tuple[Project, Role]:
    project = session.get(Project, project_id)
    if project is None:
        raise ServiceError(404, f"no project {project_id}")
    role = project_role(session, user, project)
    if role is None:
        raise ServiceError(403, f"project {project_id} is not shared with {user.org.name}")
    if not at_least(role, needed):
        raise ServiceError(403, f"project {project_id}: {needed} role needed, you have {role}")
    return project, role


def create_project(session: Session, user: User, name: str) -> Project:
    if not at_least(user.role, "editor"):
        raise ServiceError(403, "creating a project needs the editor or owner role")
    name = name.strip()
    if not name or len(name) > 200:
        raise ServiceError(422, "a project name of 1 to 200 characters is needed")
    if session.scalar(select(Project).where(Project.org_id == user.org_id,
                                            Project.name == name)) is not None:
        raise ServiceError(409, f"project {name!r} exists already in {user.org.name}")
    project = Project(name=name, org_id=user.org_id)
    session.add(project)
    session.flush()
    return project


def projects_of(session: Session, user: User) -> list[tuple[Project, Role]]:
    shared = select(Membership.project_id).where(Membership.org_id == user.org_id)
    rows = session.scalars(select(Project).where(
        (Project.org_id == user.org_id) | Project.id.in_(shared)).order_by(Project.id)).all()
    return [(p, project_role(session, user, p)) for p in rows]


def share_project(session: Session, user: User, project_id: int, org_name: str, role: str
                  ) -> Membership:
    """Give another organisation's users access with at most `role` (owners of the owning
    organisation only)."""
    project, _ = project_for(session, user, project_id, "owner")
    if project.org_id != user.org_id:
        raise ServiceError(403, "only the owning organisation shares a project")
    if role not in ROLES:
        raise ServiceError(422, f"role {role!r}: expected one of {', '.join(ROLES)}")
    org = org_named(session, org_name)
    if org.id == project.org_id:
        raise ServiceError(422, f"{org_name} owns the project already")
    share = session.scalar(select(Membership).where(Membership.project_id == project.id,
                                                    Membership.org_id == org.id))
    if share is None:
        share = Membership(project_id=project.id, org_id=org.id, role=role)
        session.add(share)
    share.role = role
    session.flush()
    return share


# --- versions --------------------------------------------------------------------------------

def latest_version(session: Session, project_id: int) -> Version | None:
    return session.scalar(select(Version).where(Version.project_id == project_id)
                          .order_by(Version.number.desc()).limit(1))


def add_version(session: Session, user: User, project_id: int, scenario_yaml: str,
                files: Mapping[str, str], parent: int | None, message: str) -> Version:
    """A new immutable version; files the parent has and `files` does not name carry over.
    409 when `parent` is not the latest version, 422 for a file name that is not a plain name
    or a scenario the loader rejects (its one-line errors)."""
    project, _ = project_for(session, user, project_id, "editor")
    bad = [n for n in files if not FILE_NAME.fullmatch(n) or n == SCENARIO_NAME]
    if bad:
        raise ServiceError(422, "file names must be plain names (letters, digits, . _ -)",
                           [f"files: {n!r} is not a plain file name" for n in bad])
    latest = latest_version(session, project.id)
    if (latest.id if latest else None) != parent:
        raise ServiceError(409, f"parent {parent} is not the latest version "
                           f"({latest.id if latest else 'none yet'}); load it and apply your "
                           "change to it")
    merged = {f.name: f.text for f in latest.files} if latest else {}
    merged.update(files)
    check_scenario(scenario_yaml, merged)
    version = Version(project_id=project.id, number=(latest.number if latest else 0) + 1,
                      parent_id=parent, author_id=user.id, message=message,
                      supplier_org_id=new_owner(latest, scenario_yaml, merged, user.org_id),
                      content_hash=content_key({"scenario": scenario_yaml, "files": merged}),
                      scenario_yaml=scenario_yaml,
                      files=[VersionFile(name=n, text=t) for n, t in sorted(merged.items())])
    session.add(version)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ServiceError(409, "another version was written at the same time; load the "
                           "latest and apply your change to it") from None
    return version


def check_scenario(scenario_yaml: str, files: Mapping[str, str]) -> Scenario:
    """Load the scenario as ``rackforge`` would from a folder holding it and `files`; 422
    with the loader's error line (paths shown relative to that folder)."""
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            (Path(folder) / name).write_text(text, encoding="utf-8")
        try:
            data = parse_yaml(scenario_yaml, SCENARIO_NAME)
            return from_dict(data, file=SCENARIO_NAME, folder=Path(folder))
        except InputError as exc:
            line = str(exc).replace(f"{folder}/", "")
            raise ServiceError(422, "the scenario does not load", [line]) from None


def version_for(session: Session, user: User, version_id: int, needed: Role = "viewer"
                ) -> tuple[Version, Role]:
    version = session.get(Version, version_id)
    if version is None:
        raise ServiceError(404, f"no version {version_id}")
    _, role = project_for(session, user, version.project_id, needed)
    return version, role


def versions_of(session: Session, user: User, project_id: int) -> list[Version]:
    project, _ = project_for(session, user, project_id)
    return list(session.scalars(select(Version).where(Version.project_id == project.id)
                                .order_by(Version.number)))


# --- runs ------------------------------------------------------------------------------------

def create_run(session: Session, user: User, version_id: int) -> Run:
    version, _ = version_for(session, user, version_id, "editor")
    run = Run(version_id=version.id, requested_by=user.id, status="queued", progress="{}")
    session.add(run)
    session.flush()
    return run


def run_for(session: Session, user: User, run_id: int) -> tuple[Run, Version]:
    run = session.get(Run, run_id)
    if run is None:
        raise ServiceError(404, f"no run {run_id}")
    version, _ = version_for(session, user, run.version_id)
    return run, version


def latest_done_run(session: Session, version_id: int) -> Run | None:
    return session.scalar(select(Run).where(Run.version_id == version_id, Run.status == "done")
                          .order_by(Run.id.desc()).limit(1))


def count_versions(session: Session, project_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Version)
                          .where(Version.project_id == project_id)) or 0
