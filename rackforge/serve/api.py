"""The JSON API (``/api/...``): thin routes over :mod:`rackforge.serve.service`.

Every route but ``/api/health`` needs ``Authorization: Bearer TOKEN``. Results and versions
are shown with supplier-level data withheld unless the caller's organisation owns it
(:mod:`rackforge.serve.confidential`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Depends, Header, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from rackforge.serve import confidential, diff, service
from rackforge.serve.models import Run, User, Version
from rackforge.serve.schemas import NewMember, NewProject, NewVersion
from rackforge.serve.service import ServiceError

router = APIRouter(prefix="/api")


def session_of(request: Request) -> Iterator[Session]:
    """A database session per request, rolled back if the route fails. A route that writes
    commits before it answers (:func:`written`): FastAPI runs this cleanup only after the
    response is sent, and an acknowledged write must already be in the database."""
    with request.app.state.sessions() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(session_of)]


TOKEN_COOKIE = "rackforge_token"    # set by the web pages' sign-in (rackforge.serve.ui)


def caller(session: SessionDep,
           authorization: Annotated[str | None, Header()] = None,
           cookie: Annotated[str | None, Cookie(alias=TOKEN_COOKIE)] = None) -> User:
    """The user of the ``Bearer`` token; without an Authorization header, of the web pages'
    sign-in cookie (HttpOnly, SameSite=Strict), so the pages' scripts can poll the API."""
    token = authorization.removeprefix("Bearer ").strip() if authorization and \
        authorization.startswith("Bearer ") else None
    if authorization is None:
        token = cookie
    user = service.authenticate(session, token)
    if user is None:
        raise ServiceError(401, "a valid API token is needed: Authorization: Bearer TOKEN")
    return user


UserDep = Annotated[User, Depends(caller)]


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


def written(session: Session, answer: dict[str, Any]) -> dict[str, Any]:
    """Commit, then give `answer`."""
    session.commit()
    return answer


@router.post("/projects", status_code=201)
def create_project(body: NewProject, session: SessionDep, user: UserDep) -> dict[str, Any]:
    return written(session, {"id": service.create_project(session, user, body.name).id})


@router.get("/projects")
def list_projects(session: SessionDep, user: UserDep) -> list[dict[str, Any]]:
    return [{"id": p.id, "name": p.name, "org": p.org.name, "role": role}
            for p, role in service.projects_of(session, user)]


@router.post("/projects/{project_id}/members", status_code=201)
def add_member(project_id: int, body: NewMember, session: SessionDep, user: UserDep
               ) -> dict[str, Any]:
    share = service.share_project(session, user, project_id, body.org, body.role)
    return written(session, {"project": project_id, "org": body.org, "role": share.role})


@router.post("/projects/{project_id}/versions", status_code=201)
def add_version(project_id: int, body: NewVersion, session: SessionDep, user: UserDep
                ) -> dict[str, Any]:
    text, files = incoming(session, user, project_id, body.scenario_yaml, body.files)
    try:
        version = service.add_version(session, user, project_id, text, files, body.parent,
                                      body.message)
    except ServiceError as exc:
        raise masked(exc, names_for(session, user, project_id)) from None
    return written(session, {"id": version.id, "number": version.number})


def names_for(session: Session, user: User, project_id: int) -> dict[str, str]:
    """Supplier name -> alias of the project's latest version, for a caller who may not see
    its suppliers (else {})."""
    latest = service.latest_version(session, project_id)
    return masking(session, user, latest) if latest else {}


def masked(exc: ServiceError, names: dict[str, str]) -> ServiceError:
    """`exc` with supplier names in its message and lines replaced by their aliases."""
    return ServiceError(exc.status, confidential.mask(exc.message, names),
                        [confidential.mask(line, names) for line in exc.errors])


def incoming(session: Session, user: User, project_id: int, text: str,
             files: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A version written by an organisation that does not own the latest version's supplier
    data: its aliases turned back into supplier names; a withheld table it sends back is
    dropped (the stored one carries over), any other text for it is refused."""
    service.project_for(session, user, project_id, "editor")
    latest = service.latest_version(session, project_id)
    if latest is None or confidential.sees_suppliers(session, user, latest):
        return text, files
    tables = confidential.supplier_files(latest.scenario_yaml)
    refused = [n for n, t in files.items() if n in tables and t != confidential.WITHHELD]
    if refused:
        raise ServiceError(403, "the supplier table belongs to another organisation",
                           [f"files: {n!r} may only be changed by its owner" for n in refused])
    names = confidential.aliases(latest)
    return (confidential.unmask(text, names),
            {n: confidential.unmask(t, names) for n, t in files.items() if n not in tables})


@router.get("/projects/{project_id}/versions")
def list_versions(project_id: int, session: SessionDep, user: UserDep) -> list[dict[str, Any]]:
    return [version_summary(v, masking(session, user, v))
            for v in service.versions_of(session, user, project_id)]


def masking(session: Session, user: User, version: Version) -> dict[str, str]:
    """Supplier name -> alias for a caller who may not see `version`'s suppliers, else {}."""
    if confidential.sees_suppliers(session, user, version):
        return {}
    return confidential.aliases(version)


def version_summary(version: Version, names: dict[str, str] | None = None) -> dict[str, Any]:
    return {"id": version.id, "number": version.number, "parent": version.parent_id,
            "author": version.author.name,
            "message": confidential.mask(version.message, names or {}),
            "created_at": version.created_at.isoformat(), "content_hash": version.content_hash}


@router.get("/versions/{version_id}")
def get_version(version_id: int, session: SessionDep, user: UserDep) -> dict[str, Any]:
    version, role = service.version_for(session, user, version_id)
    return version_document(session, user, version) | {"role": role}


def version_document(session: Session, user: User, version: Version) -> dict[str, Any]:
    """The version with its scenario and files, supplier data withheld from other orgs."""
    names = masking(session, user, version)
    if not names and confidential.sees_suppliers(session, user, version):
        text, files = version.scenario_yaml, {f.name: f.text for f in version.files}
    else:
        text, files = confidential.redact_version(version)
        text = confidential.mask(text, names)
        files = {n: confidential.mask(t, names) for n, t in files.items()}
    return version_summary(version, names) | {
        "scenario_yaml": text, "files": files,
        "suppliers_withheld": not confidential.sees_suppliers(session, user, version)}


@router.get("/versions/{a}/diff/{b}")
def diff_versions(a: int, b: int, session: SessionDep, user: UserDep) -> dict[str, Any]:
    old, _ = service.version_for(session, user, a)
    new, _ = service.version_for(session, user, b)
    old_doc, new_doc = (version_document(session, user, v) for v in (old, new))
    return {"from": version_summary(old, masking(session, user, old)),
            "to": version_summary(new, masking(session, user, new)),
            "scenario": diff.scenario_changes(old_doc["scenario_yaml"], new_doc["scenario_yaml"]),
            "answers": diff.answer_changes(_results_of(session, user, old),
                                           _results_of(session, user, new))}


def _results_of(session: Session, user: User, version: Version) -> dict[str, Any] | None:
    run = service.latest_done_run(session, version.id)
    return results_for(session, user, run, version) if run else None


def results_for(session: Session, user: User, run: Run, version: Version
                ) -> dict[str, Any] | None:
    if run.results_json is None:
        return None
    results = json.loads(run.results_json)
    names = masking(session, user, version)
    if not names and confidential.sees_suppliers(session, user, version):
        return results
    redacted = json.dumps(confidential.redact_results(results))
    return json.loads(confidential.mask(redacted, names))


@router.post("/versions/{version_id}/runs", status_code=202)
def create_run(version_id: int, request: Request, session: SessionDep, user: UserDep
               ) -> dict[str, Any]:
    run = service.create_run(session, user, version_id)
    session.commit()
    request.app.state.start_run(run.id)
    return {"id": run.id, "status": run.status}


@router.get("/runs/{run_id}")
def get_run(run_id: int, session: SessionDep, user: UserDep) -> dict[str, Any]:
    run, version = service.run_for(session, user, run_id)
    return {"id": run.id, "version": version.id, "status": run.status,
            "progress": json.loads(run.progress or "{}"), "error": run.error,
            "results": results_for(session, user, run, version)}


@router.get("/runs/{run_id}/report", response_class=HTMLResponse)
def get_report(run_id: int, session: SessionDep, user: UserDep) -> HTMLResponse:
    run, version = service.run_for(session, user, run_id)
    if run.status != "done":
        raise ServiceError(409, f"run {run_id} is {run.status}; the report comes when it is done")
    if confidential.sees_suppliers(session, user, version):
        return HTMLResponse(run.report_html)
    return HTMLResponse(confidential.mask(run.report_public_html or "",
                                          masking(session, user, version)))
