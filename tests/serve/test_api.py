"""The workspace API: tokens, projects shared by role, immutable versions, runs in workers, the
version diff, and supplier-level data kept from every organisation that does not own it (the
whole matrix of organisation x role x route that returns results)."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from rackforge.cli import app as cli
from rackforge.serve import db
from rackforge.serve.app import ServerConfig, create_app
from rackforge.serve.models import Run, User
from rackforge.serve.security import token_hash
from rackforge.serve.service import create_org, create_user

ROOT = Path(__file__).parents[2]
REFERENCE = (ROOT / "scenarios" / "reference.yaml").read_text(encoding="utf-8")
SUPPLIERS = (ROOT / "scenarios" / "suppliers-reference.csv").read_text(encoding="utf-8")
SUPPLIER_NAMES = sorted({row[0] for row in csv.reader(
    line for line in SUPPLIERS.splitlines() if line and not line.startswith("#"))} - {"supplier"})
ROLES = ("owner", "editor", "viewer")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A workspace with a manufacturer, a lab (shared as editor) and an outsider, a user of
    each role in each, and the reference scenario run once."""
    folder = tmp_path_factory.mktemp("serve")
    url = f"sqlite:///{folder / 'w.db'}"
    db.upgrade(url)
    tokens = {}
    with db.session_factory(db.make_engine(url))() as session:
        for org, kind in (("maker", "manufacturer"), ("lab", "lab"), ("other", "lab")):
            create_org(session, org, kind)
            for role in ROLES:
                tokens[(org, role)] = create_user(session, f"{org}-{role}", org, role)[1]
        session.commit()
    config = ServerConfig(db_url=url, cache_dir=str(folder / "cache"), workers=1,
                          processes=False)
    with TestClient(create_app(config)) as client:
        maker = bearer(tokens[("maker", "owner")])
        project = client.post("/api/projects", json={"name": "nvl72"}, headers=maker).json()
        client.post(f"/api/projects/{project['id']}/members", json={"org": "lab",
                    "role": "editor"}, headers=maker)
        version = client.post(f"/api/projects/{project['id']}/versions", headers=maker, json={
            "scenario_yaml": REFERENCE, "files": {"suppliers-reference.csv": SUPPLIERS},
            "message": "reference"}).json()
        run = client.post(f"/api/versions/{version['id']}/runs", headers=maker).json()
        assert wait(client, run["id"], maker)["status"] == "done"
        yield {"client": client, "tokens": tokens, "project": project["id"],
               "version": version["id"], "run": run["id"], "url": url}


def wait(client: TestClient, run_id: int, headers: dict, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(f"/api/runs/{run_id}", headers=headers).json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still {state['status']}")


def test_health_needs_no_token_and_everything_else_does(world):
    client = world["client"]
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/projects").status_code == 401
    assert client.get("/api/projects", headers=bearer("rf_not-a-token")).status_code == 401
    assert client.get("/openapi.json").json()["info"]["title"] == "rackforge workspace"


def test_tokens_are_stored_hashed(world):
    with db.session_factory(db.make_engine(world["url"]))() as session:
        stored = session.scalar(select(User.token_hash).where(User.name == "maker-owner"))
    token = world["tokens"][("maker", "owner")]
    assert stored == token_hash(token) and token not in stored


def test_the_run_records_each_stage_and_reuses_the_cache(world):
    client, maker = world["client"], bearer(world["tokens"][("maker", "owner")])
    state = client.get(f"/api/runs/{world['run']}", headers=maker).json()
    assert set(state["progress"]) >= {"checks", "plan", "source", "compare"}
    again = client.post(f"/api/versions/{world['version']}/runs", headers=maker).json()
    second = wait(client, again["id"], maker)
    assert set(second["progress"].values()) == {"cached"}
    assert second["results"]["stages"]["plan"]["data"] == state["results"]["stages"]["plan"][
        "data"]


@pytest.mark.parametrize("org", ["maker", "lab", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_supplier_data_stays_with_its_owner(world, org, role):
    """Every route that returns a version or results: the manufacturer sees its suppliers, the
    lab sees totals only, an organisation the project is not shared with sees nothing."""
    client, headers = world["client"], bearer(world["tokens"][(org, role)])
    routes = [f"/api/versions/{world['version']}", f"/api/runs/{world['run']}",
              f"/api/runs/{world['run']}/report",
              f"/api/versions/{world['version']}/diff/{world['version']}",
              f"/api/projects/{world['project']}/versions"]
    for route in routes:
        response = client.get(route, headers=headers)
        if org == "other":
            assert response.status_code == 403, route
            continue
        assert response.status_code == 200, (route, response.text[:200])
        named = [s for s in SUPPLIER_NAMES if s in response.text]
        if org == "lab":
            assert named == [], (route, named)
        elif "runs" in route or route.endswith(f"/versions/{world['version']}"):
            assert named, route           # the owner sees its supplier names
    if org == "lab":
        results = client.get(f"/api/runs/{world['run']}", headers=headers).json()["results"]
        source = results["stages"]["source"]["data"]
        assert source["domestic_share"] > 0.65 and source["result"]["cost"]["total_usd"] > 0
        plan = results["stages"]["plan"]["data"]     # the sourced rack is generation gb200
        assert source["racks_total"] == plan["racks_total_by_system"]["gb200"]


@pytest.mark.parametrize(("org", "role", "status"), [
    ("maker", "owner", 201), ("maker", "editor", 201), ("maker", "viewer", 403),
    ("lab", "owner", 201), ("lab", "editor", 201), ("lab", "viewer", 403),
    ("other", "owner", 403)])
def test_who_may_write_a_version(world, org, role, status):
    """The lab is shared as editor: its owner and editor write, its viewer reads only."""
    client, headers = world["client"], bearer(world["tokens"][(org, role)])
    latest = client.get(f"/api/projects/{world['project']}/versions",
                        headers=bearer(world["tokens"][("maker", "owner")])).json()[-1]
    text = REFERENCE.replace("target_w: 10 GW", "target_w: 9 GW")
    response = client.post(f"/api/projects/{world['project']}/versions", headers=headers,
                           json={"scenario_yaml": text, "parent": latest["id"],
                                 "message": f"{org} {role}"})
    assert response.status_code == status, response.text


def test_a_stale_parent_is_409_and_nothing_is_lost(world):
    client, maker = world["client"], bearer(world["tokens"][("maker", "owner")])
    project = client.post("/api/projects", json={"name": "race"}, headers=maker).json()["id"]
    first = client.post(f"/api/projects/{project}/versions", headers=maker, json={
        "scenario_yaml": REFERENCE, "files": {"suppliers-reference.csv": SUPPLIERS}}).json()
    body = {"scenario_yaml": REFERENCE.replace("10 GW", "8 GW"), "parent": first["id"]}
    assert client.post(f"/api/projects/{project}/versions", headers=maker,
                       json=body).status_code == 201
    stale = client.post(f"/api/projects/{project}/versions", headers=maker, json=body)
    assert stale.status_code == 409 and "not the latest version" in stale.json()["detail"]
    history = client.get(f"/api/projects/{project}/versions", headers=maker).json()
    assert [v["number"] for v in history] == [1, 2]


@pytest.mark.parametrize(("yaml_text", "files", "expected"), [
    ("name: x\nracks: 3\n", {}, "scenario.yaml:racks: Input should be a valid list"),
    ("name: x\nracks: [\n", {}, "YAML syntax error"),
    ("name: x\n", {"../x": "a"}, "'../x' is not a plain file name"),
    ("name: x\n", {"/etc/passwd": "a"}, "'/etc/passwd' is not a plain file name"),
])
def test_bad_versions_are_422_with_the_loaders_line(world, yaml_text, files, expected):
    client, maker = world["client"], bearer(world["tokens"][("maker", "owner")])
    project = client.post("/api/projects", json={"name": f"bad: {expected}"},
                          headers=maker).json()["id"]
    response = client.post(f"/api/projects/{project}/versions", headers=maker,
                           json={"scenario_yaml": yaml_text, "files": files})
    assert response.status_code == 422
    assert any(expected in line for line in response.json()["errors"]), response.json()


def test_diff_names_the_changed_keys_and_the_answers(world):
    client, maker = world["client"], bearer(world["tokens"][("maker", "owner")])
    project = client.post("/api/projects", json={"name": "diff"}, headers=maker).json()["id"]
    ids = []
    for target in ("10 GW", "6 GW"):
        body = {"scenario_yaml": REFERENCE.replace("target_w: 10 GW", f"target_w: {target}"),
                "files": {"suppliers-reference.csv": SUPPLIERS},
                "parent": ids[-1] if ids else None}
        ids.append(client.post(f"/api/projects/{project}/versions", headers=maker,
                               json=body).json()["id"])
        run = client.post(f"/api/versions/{ids[-1]}/runs", headers=maker).json()
        assert wait(client, run["id"], maker)["status"] == "done"
    diff = client.get(f"/api/versions/{ids[0]}/diff/{ids[1]}", headers=maker).json()
    assert diff["scenario"] == [{"path": "plan.target_w", "old": "10 GW", "new": "6 GW"}]
    changed = {(row["stage"], row["figure"]) for row in diff["answers"] if row["changed"]}
    assert ("plan", "racks_total") in changed and ("demand", "summary") in changed
    assert ("build", "racks_per_week") not in changed


def test_a_run_left_running_by_a_stopped_server_is_queued_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    db.upgrade(url)
    with db.session_factory(db.make_engine(url))() as session:
        create_org(session, "maker", "manufacturer")
        user, token = create_user(session, "u", "maker", "owner")
        session.commit()
    config = ServerConfig(db_url=url, cache_dir=str(tmp_path / "c"), workers=1,
                          processes=True)      # the server's own worker processes
    with TestClient(create_app(config)) as client:
        headers = bearer(token)
        project = client.post("/api/projects", json={"name": "p"}, headers=headers).json()
        version = client.post(f"/api/projects/{project['id']}/versions", headers=headers,
                              json={"scenario_yaml": "name: tiny\n"}).json()
    with db.session_factory(db.make_engine(url))() as session:   # as if killed mid-run
        session.add(Run(version_id=version["id"], requested_by=user.id, status="running"))
        session.commit()
    with TestClient(create_app(config)) as client:      # restart: the run is picked up again
        state = wait(client, 1, bearer(token))
    assert state["status"] == "done", state
    assert state["results"]["stages"] == {}               # a scenario of only a name: no stage


def test_org_and_user_commands(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["org", "add", "acme", "--kind", "lab", "--db", url]).exit_code == 0
    added = runner.invoke(cli, ["user", "add", "ann", "--org", "acme", "--role", "viewer",
                                "--db", url])
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    with db.session_factory(db.make_engine(url))() as session:
        assert session.scalar(select(User.token_hash)) == token_hash(token)
    bad = runner.invoke(cli, ["user", "add", "bob", "--org", "acme", "--role", "admin",
                              "--db", url], terminal_width=200)
    assert bad.exit_code == 2 and "role 'admin'" in bad.output
    assert runner.invoke(cli, ["user", "revoke", "ann", "--db", url]).exit_code == 0
    client = TestClient(create_app(ServerConfig(db_url=url, processes=False, workers=1)))
    with client:
        assert client.get("/api/projects", headers=bearer(token)).status_code == 401


def test_the_lab_edits_with_aliases_and_the_suppliers_stay_the_makers(world):
    """The lab reads the scenario with supplier names as aliases and the table withheld,
    changes the target and writes it back: the stored version names the real suppliers, keeps
    the maker's table, and the maker still owns (and sees) the supplier data."""
    client = world["client"]
    lab, maker = (bearer(world["tokens"][(o, "owner")]) for o in ("lab", "maker"))
    project = client.post("/api/projects", json={"name": "round trip"}, headers=maker).json()
    client.post(f"/api/projects/{project['id']}/members", json={"org": "lab", "role": "editor"},
                headers=maker)
    first = client.post(f"/api/projects/{project['id']}/versions", headers=maker, json={
        "scenario_yaml": REFERENCE, "files": {"suppliers-reference.csv": SUPPLIERS}}).json()
    seen = client.get(f"/api/versions/{first['id']}", headers=lab).json()
    assert seen["suppliers_withheld"] and "alamo-systems" not in seen["scenario_yaml"]
    assert "supplier-01" in seen["scenario_yaml"]
    edited = seen["scenario_yaml"].replace("target_w: 10 GW", "target_w: 9 GW")
    second = client.post(f"/api/projects/{project['id']}/versions", headers=lab, json={
        "scenario_yaml": edited, "files": seen["files"], "parent": first["id"]})
    assert second.status_code == 201, second.text
    stored = client.get(f"/api/versions/{second.json()['id']}", headers=maker).json()
    assert not stored["suppliers_withheld"] and "alamo-systems" in stored["scenario_yaml"]
    assert stored["files"]["suppliers-reference.csv"] == SUPPLIERS
    assert "target_w: 9 GW" in stored["scenario_yaml"]
    forged = client.post(f"/api/projects/{project['id']}/versions", headers=lab, json={
        "scenario_yaml": edited, "files": {"suppliers-reference.csv": "supplier,part\n"},
        "parent": second.json()["id"]})
    assert forged.status_code == 403
