"""``rackforge serve``, ``rackforge db upgrade``, ``rackforge org add``, ``rackforge user add``
and ``rackforge user revoke``: the shared workspace and who may use it."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from rackforge.cli.app import _Group, app, console
from rackforge.serve import db
from rackforge.serve.demo import seed
from rackforge.serve.models import utcnow
from rackforge.serve.service import ServiceError, create_org, create_user, revoke_user

db_app = typer.Typer(cls=_Group, no_args_is_help=True, help="The workspace's database.")
org_app = typer.Typer(cls=_Group, no_args_is_help=True, help="Organisations of the workspace.")
user_app = typer.Typer(cls=_Group, no_args_is_help=True, help="Users and their API tokens.")
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(user_app, name="user")

DbOption = Annotated[str | None, typer.Option(
    "--db", envvar="RACKFORGE_DB", show_default=False,
    help="Database URL: sqlite:///FILE (default sqlite:///rackforge.db) or "
         "postgresql+psycopg://USER@HOST/DB.")]


def _sessions(url: str | None):  # noqa: ANN202 - a sessionmaker
    url = db.database_url(url)
    db.upgrade(url)
    return db.session_factory(db.make_engine(url))


def _apply(url: str | None, action) -> object:  # noqa: ANN001
    """Run `action(session)` in one transaction; a refusal is one line, exit 2."""
    with _sessions(url)() as session:
        try:
            result = action(session)
        except ServiceError as exc:
            raise typer.BadParameter(exc.message) from None
        session.commit()
        return result


@db_app.command("upgrade")
def db_upgrade(db_url: DbOption = None) -> None:
    """Create the database or migrate it to the current schema (Alembic)."""
    url = db.database_url(db_url)
    db.upgrade(url)
    console.print(f"database at revision {db.current_revision(url)}")


@org_app.command("add")
def org_add(name: str, kind: Annotated[str, typer.Option("--kind", help="lab or manufacturer")],
            db_url: DbOption = None) -> None:
    """Add an organisation."""
    _apply(db_url, lambda s: create_org(s, name, kind))
    console.print(f"organisation {name} ({kind}) added")


@user_app.command("add")
def user_add(name: str, org: Annotated[str, typer.Option("--org", help="Organisation name.")],
             role: Annotated[str, typer.Option("--role", help="owner, editor or viewer.")],
             db_url: DbOption = None) -> None:
    """Add a user; prints their API token once (only its hash is stored)."""
    _, token = _apply(db_url, lambda s: create_user(s, name, org, role))
    console.print(f"user {name} ({role} in {org}) added; API token, shown once:")
    console.print(token, highlight=False, markup=False, soft_wrap=True)


@user_app.command("revoke")
def user_revoke(name: str, db_url: DbOption = None) -> None:
    """Revoke a user's API token."""
    _apply(db_url, lambda s: revoke_user(s, name, utcnow()))
    console.print(f"user {name} revoked")


@app.command("serve")
def serve(host: Annotated[str, typer.Option("--host", help="Address to bind; the default "
                                            "serves this machine only.")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
          db_url: DbOption = None,
          workers: Annotated[int, typer.Option("--workers", min=1,
                                               help="Processes that run pipelines.")] = 2,
          demo: Annotated[bool, typer.Option("--demo", help="Create the demo lab and "
                                             "manufacturer, print their tokens, load the "
                                             "reference scenario.")] = False) -> None:
    """Start the shared workspace (API at /api, pages at /, OpenAPI at /openapi.json)."""
    import uvicorn  # deferred: uvicorn and FastAPI take 0.3 s to import; only serve needs them

    url = db.database_url(db_url)
    if demo:
        tokens = _apply(url, seed)
        for user, token in tokens.items():
            console.print(f"{user}: {token}", highlight=False, markup=False, soft_wrap=True)
    console.print(f"rackforge workspace on http://{host}:{port} (database {url})")
    os.environ["RACKFORGE_DB"], os.environ["RACKFORGE_WORKERS"] = url, str(workers)
    # uvicorn imports the app factory by name, so the command line never imports FastAPI
    uvicorn.run("rackforge.serve.app:app_from_environment", factory=True, host=host,
                port=port, log_level="warning")
