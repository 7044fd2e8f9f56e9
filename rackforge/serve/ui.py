"""The web pages of ``rackforge serve``: server-rendered HTML over :mod:`rackforge.serve.service`.

Sign in by pasting an API token (kept in the HttpOnly, SameSite=Strict cookie
``rackforge_token``; never shown back), then: your projects, a project's history, an editor that
checks the scenario as you type, versions, runs with their progress and report, and the
difference between two versions. Every page reads the user from that cookie or from an
``Authorization: Bearer`` header; without one it sends the browser to the sign-in form.

What a page shows of supplier-level data follows the API's rules (:func:`api.version_document`,
:func:`api.get_report`, :func:`api.diff_versions` are called, not copied). Templates are
autoescaped Jinja2; the little JavaScript is inline, vanilla and offline. Forms are POSTs: the
cookie is SameSite=Strict, and a POST whose ``Origin`` names another host is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Annotated, Any
from urllib.parse import urlsplit

import jinja2
import yaml
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from rackforge import pipeline
from rackforge.serve import api, confidential, service
from rackforge.serve.api import SessionDep
from rackforge.serve.models import Project, Run, User, Version
from rackforge.serve.security import at_least
from rackforge.serve.service import SCENARIO_NAME, ServiceError

MAX_FIELD_BYTES = 5_000_000         # the API's limit on a scenario's text (schemas.NewVersion)
# "scenario.yaml:line 12, column 3: ..." or "scenario.yaml:racks[0].cooling.supply_temp_c: ..."
SCENARIO_ERROR = re.compile(rf"^{re.escape(SCENARIO_NAME)}:(?:line (\d+), column \d+|([^:;]+)):")
KEY_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "Cache-Control": "no-store",
}


def when(value: datetime | None) -> str:
    """A timestamp as the pages show it: ``2026-01-31 14:05 UTC``."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def figure(value: Any) -> Any:
    """A number as the diff shows it: whole and large ones with thousands separators, others
    to four significant digits; anything else unchanged."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if float(value).is_integer() or abs(value) >= 1e5:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _environment() -> jinja2.Environment:
    """Jinja2 over ``templates/``: autoescaped, strict about undefined names."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["when"] = when
    env.filters["figure"] = figure
    return env


TEMPLATES = Jinja2Templates(env=_environment())


def render(request: Request, name: str, context: dict[str, Any], status: int = 200
           ) -> HTMLResponse:
    """A page from ``templates/``; ``user``, ``error`` and ``errors`` default to none."""
    return TEMPLATES.TemplateResponse(request, name, {"user": None, "error": None, "errors": []}
                                      | context, status_code=status, headers=PAGE_HEADERS)


# --- who is asking ---------------------------------------------------------------------------

class SignInNeeded(Exception):
    """No valid token came with a page request: the browser goes to the sign-in form."""


class PageRoute(APIRoute):
    """A page route: a missing sign-in redirects to ``/``, and a refused request renders the
    error page with its status instead of the API's JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The usual handler, with the two outcomes above caught."""
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            """The route's answer, or the sign-in redirect, or the error page."""
            try:
                return await handler(request)
            except SignInNeeded:
                return RedirectResponse("/", status_code=303)
            except ServiceError as exc:
                return render(request, "error.html", {"error": exc.message,
                                                      "errors": exc.errors}, exc.status)
        return page


router = APIRouter(route_class=PageRoute, include_in_schema=False,
                   default_response_class=HTMLResponse,
                   form_limits={"max_part_size": MAX_FIELD_BYTES})


def token_of(request: Request) -> str | None:
    """The token of a ``Bearer`` header, else of the sign-in cookie."""
    header = request.headers.get("authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    return request.cookies.get(api.TOKEN_COOKIE)


def signed_in(request: Request, session: SessionDep) -> User | None:
    """The signed-in user, or None."""
    return service.authenticate(session, token_of(request))


def page_user(user: Annotated[User | None, Depends(signed_in)]) -> User:
    """The signed-in user; without one the page redirects to the sign-in form."""
    if user is None:
        raise SignInNeeded
    return user


def same_origin(request: Request) -> None:
    """CSRF defence next to the SameSite=Strict cookie: refuse a POST that says it comes from
    another site (an ``Origin`` whose host is not ours, or ``Sec-Fetch-Site: cross-site``)."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise ServiceError(403, f"a form sent from {origin} is refused: it is not this site")
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise ServiceError(403, "a form sent from another site is refused")


OptionalUser = Annotated[User | None, Depends(signed_in)]
UserDep = Annotated[User, Depends(page_user)]
POST = {"dependencies": [Depends(same_origin)]}


# --- signing in and out ----------------------------------------------------------------------

@router.get("/")
def signin_form(request: Request, user: OptionalUser) -> HTMLResponse:
    """The sign-in form: paste an API token."""
    return render(request, "signin.html", {"user": user})


@router.post("/signin", **POST)
def signin(request: Request, session: SessionDep,
           token: Annotated[str, Form()] = "") -> Response:
    """Check the token; good: set the cookie and go to the projects."""
    token = token.strip()
    if service.authenticate(session, token) is None:
        return render(request, "signin.html", {"error": "that token is not valid (unknown or "
                                               "revoked); ask your administrator for one"}, 401)
    response = RedirectResponse("/projects", status_code=303)
    response.set_cookie(api.TOKEN_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


@router.post("/signout", **POST)
def signout() -> Response:
    """Forget the cookie; back to the sign-in form."""
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(api.TOKEN_COOKIE, path="/", httponly=True, samesite="strict")
    return response


# --- projects --------------------------------------------------------------------------------

@router.get("/projects")
def projects(request: Request, session: SessionDep, user: UserDep) -> HTMLResponse:
    """The user's projects and a form to create one."""
    return _projects_page(request, session, user)


def _projects_page(request: Request, session: Session, user: User, error: ServiceError | None
                   = None, name: str = "") -> HTMLResponse:
    rows = service.projects_of(session, user)
    return render(request, "projects.html", {
        "user": user, "projects": rows, "name": name, "can_create": at_least(user.role, "editor"),
        "error": error.message if error else None, "errors": error.errors if error else []},
        error.status if error else 200)


@router.post("/projects", **POST)
def create_project(request: Request, session: SessionDep, user: UserDep,
                   name: Annotated[str, Form()] = "") -> Response:
    """Create a project; on to its page (or the list again with the reason it was refused)."""
    try:
        project = service.create_project(session, user, name)
    except ServiceError as exc:
        return _projects_page(request, session, user, exc, name)
    session.commit()              # before the redirect: the next page must find the project
    return RedirectResponse(f"/projects/{project.id}", status_code=303)


@router.get("/projects/{project_id}")
def project_page(project_id: int, request: Request, session: SessionDep, user: UserDep
                 ) -> HTMLResponse:
    """The version history, the latest run of each, and what to do next."""
    project, role = service.project_for(session, user, project_id)
    versions = service.versions_of(session, user, project.id)
    return render(request, "project.html", {
        "user": user, "project": project, "role": role, "versions": versions[::-1],
        "latest": versions[-1] if versions else None, "can_edit": at_least(role, "editor"),
        "last_runs": last_runs(session, [v.id for v in versions])})


def last_runs(session: Session, version_ids: Iterable[int]) -> dict[int, Run]:
    """The newest run of each version that has one."""
    found: dict[int, Run] = {}
    for run in session.scalars(select(Run).where(Run.version_id.in_(list(version_ids)))
                               .order_by(Run.id)):
        found[run.version_id] = run
    return found


# --- the editor ------------------------------------------------------------------------------

@router.get("/projects/{project_id}/edit")
def editor(project_id: int, request: Request, session: SessionDep, user: UserDep
           ) -> HTMLResponse:
    """The latest scenario (as this user may see it) in a text area, checked as one types."""
    return _editor_page(request, session, user, project_id)


def _editor_page(request: Request, session: Session, user: User, project_id: int,
                 form: dict[str, Any] | None = None, error: ServiceError | None = None
                 ) -> HTMLResponse:
    """The editor; `form` (text, parent, message) and `error` when a save was refused."""
    project, role = service.project_for(session, user, project_id, "editor")
    latest = service.latest_version(session, project.id)
    doc = api.version_document(session, user, latest) if latest else None
    form = form or {"text": doc["scenario_yaml"] if doc else "",
                    "parent": latest.id if latest else None, "message": ""}
    return render(request, "editor.html", {
        "user": user, "project": project, "role": role, "latest": latest, **form,
        "files": shown_files(doc["files"] if doc else {}),
        "stale": error is not None and error.status == 409,
        "error": error.message if error else None, "errors": error.errors if error else []},
        error.status if error else 200)


def shown_files(files: dict[str, str]) -> list[dict[str, Any]]:
    """Name, size and whether it is withheld, for each file of a version document."""
    return [{"name": name, "withheld": text == confidential.WITHHELD, "text": text,
             "lines": len(text.splitlines())} for name, text in sorted(files.items())]


# a file input left empty arrives as a plain field (filename ""): taken, then skipped
Uploads = Annotated[list[UploadFile | str] | None, File()]


@router.post("/projects/{project_id}/check", response_class=JSONResponse, **POST)
def check(project_id: int, session: SessionDep, user: UserDep,
          scenario_yaml: Annotated[str, Form()] = "", files: Uploads = None) -> dict[str, Any]:
    """Whether the text loads, with the latest version's files from the database (withheld
    ones too) and any files the editor is about to upload: ``{"ok", "errors", "line"}``."""
    project, _ = service.project_for(session, user, project_id, "editor")
    names = api.names_for(session, user, project.id)
    try:
        text, uploaded = api.incoming(session, user, project.id, scenario_yaml,
                                      read_uploads(files))
        service.check_scenario(text, files_for_check(session, project, uploaded))
    except ServiceError as exc:
        exc = api.masked(exc, names)
        errors = exc.errors or [exc.message]
        return {"ok": False, "errors": errors, "line": error_line(errors[0], scenario_yaml)}
    return {"ok": True, "errors": [], "line": None}


def files_for_check(session: Session, project: Project, uploaded: dict[str, str]
                    ) -> dict[str, str]:
    """The latest version's files, with uploads added or replacing them; a name that is not
    a plain file name is refused as :func:`service.add_version` refuses it."""
    latest = service.latest_version(session, project.id)
    files = {f.name: f.text for f in latest.files} if latest else {}
    bad = [n for n in uploaded if not service.FILE_NAME.fullmatch(n) or n == SCENARIO_NAME]
    if bad:
        raise ServiceError(422, "file names must be plain names",
                           [f"files: {n!r} is not a plain file name" for n in bad])
    return files | uploaded


def read_uploads(uploads: list[UploadFile | str] | None) -> dict[str, str]:
    """Uploaded files by their base name, as UTF-8 text (an empty file input is skipped)."""
    files = {}
    for upload in uploads or []:
        if isinstance(upload, str) or not upload.filename:
            continue
        name = PurePosixPath(upload.filename.replace("\\", "/")).name
        try:
            files[name] = upload.file.read().decode("utf-8")
        except UnicodeDecodeError:
            raise ServiceError(422, f"{name} is not UTF-8 text",
                               [f"files: {name}: not UTF-8 text"]) from None
    return files


def error_line(error: str, scenario_yaml: str) -> int | None:
    """The scenario line a loader error is about: the YAML syntax error's line, or the line
    of the deepest key of its key path that the text has; None for other files' errors."""
    found = SCENARIO_ERROR.match(error)
    if found is None:
        return None
    if found.group(1):
        return int(found.group(1))
    return key_line(scenario_yaml, found.group(2).strip())


def key_line(scenario_yaml: str, path: str) -> int | None:
    """The 1-based line of the deepest step of key path `path` found in the text."""
    try:
        node = yaml.compose(scenario_yaml, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for name, index in KEY_STEP.findall(path):
        node, mark = _child(node, name, index)
        if node is None:
            break
        line = mark.line + 1
    return line


def _child(node: yaml.Node | None, name: str, index: str) -> tuple[Any, Any]:
    """The value node of one key-path step and the mark of where it starts (None, None)."""
    if index and isinstance(node, yaml.SequenceNode) and int(index) < len(node.value):
        item = node.value[int(index)]
        return item, item.start_mark
    if name and isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == name:
                return value, key.start_mark
    return None, None


@router.post("/projects/{project_id}/versions", **POST)
def save_version(project_id: int, request: Request, session: SessionDep, user: UserDep,
                 scenario_yaml: Annotated[str, Form()] = "",
                 message: Annotated[str, Form(max_length=2000)] = "",
                 parent: Annotated[str, Form()] = "", files: Uploads = None) -> Response:
    """Save the text as a new version (the parent's files carry over, uploads add or replace
    them) and go to the project; a stale parent (409) or a scenario that does not load (422)
    shows the editor again with the text and the reason."""
    parent_version = parent_id(parent)
    form = {"text": scenario_yaml, "parent": parent_version, "message": message}
    names = api.names_for(session, user, project_id)
    try:
        text, uploaded = api.incoming(session, user, project_id, scenario_yaml,
                                      read_uploads(files))
        service.add_version(session, user, project_id, text, uploaded, parent_version,
                            message)
    except ServiceError as exc:
        if exc.status not in (409, 422):
            raise
        return _editor_page(request, session, user, project_id, form, api.masked(exc, names))
    session.commit()              # before the redirect: the next page must find the version
    return RedirectResponse(f"/projects/{project_id}", status_code=303)


def parent_id(text: str) -> int | None:
    """The hidden parent field: a version id, or empty for a project's first version."""
    if not text.strip():
        return None
    if not text.strip().isdigit():
        raise ServiceError(422, f"parent {text!r} is not a version id")
    return int(text)


# --- versions, runs, reports, differences ----------------------------------------------------

@router.get("/versions/{version_id}")
def version_page(version_id: int, request: Request, session: SessionDep, user: UserDep
                 ) -> HTMLResponse:
    """A version's scenario and files (supplier data withheld as the API withholds it) and
    its runs."""
    version, role = service.version_for(session, user, version_id)
    doc = api.version_document(session, user, version)
    runs = session.scalars(select(Run).where(Run.version_id == version.id)
                           .order_by(Run.id.desc())).all()
    return render(request, "version.html", {
        "user": user, "version": version, "project": version.project, "doc": doc, "role": role,
        "files": shown_files(doc["files"]), "runs": runs, "can_edit": at_least(role, "editor")})


@router.post("/versions/{version_id}/run", **POST)
def start_run(version_id: int, request: Request, session: SessionDep, user: UserDep
              ) -> Response:
    """Queue a run of the version and watch it."""
    run = service.create_run(session, user, version_id)
    session.commit()
    request.app.state.start_run(run.id)
    return RedirectResponse(f"/runs/{run.id}", status_code=303)


@router.get("/runs/{run_id}")
def run_page(run_id: int, request: Request, session: SessionDep, user: UserDep
             ) -> HTMLResponse:
    """A run's status and progress (the page polls ``/api/runs/{id}``), then its report."""
    run, version = service.run_for(session, user, run_id)
    progress = json.loads(run.progress or "{}")
    return render(request, "run.html", {
        "user": user, "run": run, "version": version, "project": version.project,
        "progress": progress, "total": stage_count(version) or len(progress),
        "done": stages_done(run.status, progress)})


def stages_done(status: str, progress: dict[str, str]) -> int:
    """Stages finished: the stages run one at a time and each is marked ``running`` when it
    starts, so while a run runs all but the last one listed are done."""
    if status == "running":
        return max(len(progress) - 1, 0)
    return sum(state != "running" for state in progress.values())


def stage_count(version: Version) -> int | None:
    """How many stages a run of the version runs (those enabled on its scenario)."""
    try:
        scenario = service.check_scenario(version.scenario_yaml,
                                          {f.name: f.text for f in version.files})
    except ServiceError:
        return None
    return sum(pipeline.enabled(scenario).values())


@router.get("/runs/{run_id}/report")
def report(run_id: int, session: SessionDep, user: UserDep) -> HTMLResponse:
    """The run's report, supplier data withheld as the API's report route withholds it."""
    return api.get_report(run_id, session, user)


@router.get("/diff")
def diff_page(a: int, b: int, request: Request, session: SessionDep, user: UserDep
              ) -> HTMLResponse:
    """Two versions side by side: the keys that changed and the answers before and after."""
    changes = api.diff_versions(a, b, session, user)
    old, _ = service.version_for(session, user, a)
    new, _ = service.version_for(session, user, b)
    return render(request, "diff.html", {"user": user, "diff": changes, "old": old, "new": new})
