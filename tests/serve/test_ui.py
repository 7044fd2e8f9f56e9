"""The web pages of ``rackforge serve`` through FastAPI's TestClient: signing in and out, the
pages, redirects without a sign-in, the editor's check and saves (409 on a stale form, 422 on a
scenario that does not load), supplier data withheld from the other organisation, and the
defences (escaping, the Origin check, the HttpOnly SameSite=Strict cookie)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from rackforge.serve import demo
from rackforge.serve.app import ServerConfig, create_app
from rackforge.serve.confidential import WITHHELD
from rackforge.serve.models import Run, Version
from rackforge.serve.ui import error_line, figure

REFERENCE = demo.REFERENCE.read_text(encoding="utf-8")
SUPPLIERS = demo.REFERENCE.parent / "suppliers-reference.csv"


def broken_racks(text: str) -> str:
    """The reference scenario with its ``racks:`` list replaced by ``racks: 3``."""
    return re.sub(r"^racks:\n(?:(?:[ #].*)?\n)*", "racks: 3\n\n", text, count=1, flags=re.M)


@pytest.fixture
def app(tmp_path):
    """The server on a SQLite file; runs are not started (each test starts what it needs)."""
    return create_app(ServerConfig(db_url=f"sqlite:///{tmp_path / 'ui.db'}",
                                   cache_dir=str(tmp_path / "cache"), workers=1,
                                   processes=False))


@pytest.fixture
def client(app):
    """A browser-like client of the started app."""
    with TestClient(app) as client:
        app.state.start_run = lambda run_id: None
        yield client


@pytest.fixture
def tokens(app, client):
    """The demo workspace's tokens by user."""
    with app.state.sessions() as session:
        tokens = demo.seed(session)
        session.commit()
    return tokens


@pytest.fixture
def maker(client, tokens):
    """The client signed in as the manufacturer's engineer."""
    assert client.post("/signin", data={"token": tokens["mfg-engineer"]}).status_code == 200
    return client


@pytest.fixture
def lab(app, client, tokens):
    """A second client, signed in as the lab's engineer."""
    other = TestClient(app)
    assert other.post("/signin", data={"token": tokens["lab-engineer"]}).status_code == 200
    return other


def first_version(app) -> Version:
    """Version 1 of the demo project."""
    with app.state.sessions() as session:
        return session.query(Version).order_by(Version.id).first()


def new_project(client, name: str) -> int:
    """Create a project through its form; its id."""
    answer = client.post("/projects", data={"name": name}, follow_redirects=False)
    assert answer.status_code == 303
    return int(answer.headers["location"].rsplit("/", 1)[1])


def save(client, project: int, text: str, parent: int | None, message: str = "", files=None):
    """Post the editor's form."""
    return client.post(f"/projects/{project}/versions", follow_redirects=False,
                       data={"scenario_yaml": text, "parent": "" if parent is None else parent,
                             "message": message}, files=files or [])


def test_signin_sets_an_httponly_strict_cookie_and_never_shows_the_token(client, tokens):
    token = tokens["mfg-engineer"]
    answer = client.post("/signin", data={"token": token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/projects"
    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith("rackforge_token=") and "httponly" in cookie
    assert "samesite=strict" in cookie and "path=/" in cookie
    page = client.get("/projects")
    assert page.status_code == 200 and "signed in as mfg-engineer" in page.text
    assert demo.PROJECT in page.text and "demo-manufacturer" in page.text
    for path in ("/", "/projects", "/projects/1", "/projects/1/edit", "/versions/1"):
        assert token not in client.get(path).text


def test_a_bad_token_is_refused(client, tokens):
    answer = client.post("/signin", data={"token": "rf_not-a-token"}, follow_redirects=False)
    assert answer.status_code == 401 and "not valid" in answer.text
    assert "set-cookie" not in answer.headers


@pytest.mark.parametrize("path", ["/projects", "/projects/1", "/projects/1/edit", "/versions/1",
                                  "/runs/1", "/runs/1/report", "/diff?a=1&b=1"])
def test_pages_redirect_to_the_signin_form_without_a_token(client, tokens, path):
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    client.cookies.set("rackforge_token", "rf_forged")
    assert client.get(path, follow_redirects=False).headers["location"] == "/"


def test_forms_redirect_without_a_token(client, tokens):
    for path in ("/projects", "/projects/1/versions", "/versions/1/run"):
        answer = client.post(path, data={"name": "x"}, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/", path


def test_a_bearer_header_works_for_pages(client, tokens):
    page = client.get("/projects", headers={"Authorization": f"Bearer {tokens['lab-engineer']}"})
    assert page.status_code == 200 and "signed in as lab-engineer" in page.text


def test_signout_forgets_the_cookie(maker):
    answer = maker.post("/signout", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert maker.get("/projects", follow_redirects=False).status_code == 303


def test_a_form_from_another_site_is_refused(maker):
    answer = maker.post("/projects", data={"name": "from elsewhere"},
                        headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403 and "refused" in answer.text
    answer = maker.post("/projects", data={"name": "from elsewhere"},
                        headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 403
    assert "from elsewhere" not in maker.get("/projects").text
    answer = maker.post("/projects", data={"name": "from here"},
                        headers={"Origin": "http://testserver"})
    assert answer.status_code == 200 and "from here" in answer.text


def test_project_pages_render(app, maker):
    v1 = first_version(app)
    project = maker.get(f"/projects/{v1.project_id}")
    assert project.status_code == 200
    assert "version 1" in project.text and "the reference scenario" in project.text
    assert f'action="/versions/{v1.id}/run"' in project.text
    assert f'href="/projects/{v1.project_id}/edit"' in project.text
    version = maker.get(f"/versions/{v1.id}")
    assert "Reference program, four rack generations, US build" in version.text
    assert "suppliers-reference.csv" in version.text and WITHHELD not in version.text
    editor = maker.get(f"/projects/{v1.project_id}/edit")
    assert editor.status_code == 200 and 'name="scenario_yaml"' in editor.text
    assert f'name="parent" value="{v1.id}"' in editor.text
    assert "description: &gt;-" in editor.text      # the YAML, escaped in the text area
    assert 'type="file" id="upload" name="files" multiple' in editor.text


def test_everything_shown_is_escaped(maker):
    page = maker.post("/projects", data={"name": "<script>alert(1)</script>"})
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)" not in page.text
    assert "<script>alert(1)" not in maker.get("/projects").text


def test_a_refused_request_renders_an_error_page(maker):
    page = maker.get("/projects/999")
    assert page.status_code == 404 and "no project 999" in page.text
    assert page.headers["content-type"].startswith("text/html")


def test_pages_say_what_the_browser_may_do(maker):
    headers = maker.get("/projects").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"


def test_the_check_returns_the_loaders_error_and_its_line(app, maker):
    project = first_version(app).project_id
    broken = REFERENCE + "\nextra: [unclosed\n"
    answer = maker.post(f"/projects/{project}/check", data={"scenario_yaml": broken}).json()
    assert answer["ok"] is False
    assert answer["errors"][0].startswith("scenario.yaml:line ")
    assert answer["line"] == int(re.search(r"line (\d+)", answer["errors"][0]).group(1))
    assert answer["line"] > len(REFERENCE.splitlines())
    answer = maker.post(f"/projects/{project}/check",
                        data={"scenario_yaml": broken_racks(REFERENCE)}).json()
    assert answer["ok"] is False and "racks" in answer["errors"][0]
    racks_line = REFERENCE.splitlines().index("racks:") + 1
    assert answer["line"] == racks_line
    good = maker.post(f"/projects/{project}/check", data={"scenario_yaml": REFERENCE}).json()
    assert good == {"ok": True, "errors": [], "line": None}


def test_the_check_takes_a_scenario_over_a_megabyte(app, maker):
    """Form fields up to the API's 5 MB limit on a scenario (Starlette's default is 1 MB)."""
    big = REFERENCE + ("# padding" + " " * 90 + "\n") * 20_000
    answer = maker.post(f"/projects/{first_version(app).project_id}/check",
                        data={"scenario_yaml": big})
    assert len(big) > 2_000_000 and answer.json()["ok"] is True


def test_the_check_uses_withheld_files_on_the_server(app, lab):
    """The lab sees the supplier table as withheld, yet its check loads the real one."""
    v1 = first_version(app)
    assert WITHHELD in lab.get(f"/versions/{v1.id}").text
    answer = lab.post(f"/projects/{v1.project_id}/check", data={"scenario_yaml": REFERENCE})
    assert answer.json()["ok"] is True


def test_the_check_takes_files_about_to_be_uploaded(maker):
    project = new_project(maker, "new rack")
    answer = maker.post(f"/projects/{project}/check", data={"scenario_yaml": REFERENCE}).json()
    assert answer["ok"] is False and answer["line"] is None
    assert answer["errors"][0].startswith("suppliers-reference.csv")
    upload = [("files", (SUPPLIERS.name, SUPPLIERS.read_bytes(), "text/csv")),
              ("files", ("", b"", "application/octet-stream"))]   # an empty file input
    answer = maker.post(f"/projects/{project}/check", data={"scenario_yaml": REFERENCE},
                        files=upload).json()
    assert answer["ok"] is True
    bad = [("files", ("scenario.yaml", b"x", "text/plain"))]
    answer = maker.post(f"/projects/{project}/check", data={"scenario_yaml": REFERENCE},
                        files=bad).json()
    assert answer["ok"] is False and "plain file name" in answer["errors"][0]


def test_figures_in_the_diff():
    assert [figure(v) for v in (55368.0, 207314392245.839, 0.4106663, 3.41464, None, "x", True)
            ] == ["55,368", "207,314,392,246", "0.4107", "3.415", None, "x", True]


def test_error_lines():
    text = "name: x\nracks:\n  - id: a\n    cooling:\n      supply_temp_c: hot\n"
    assert error_line("scenario.yaml:line 7, column 2: YAML syntax error", text) == 7
    assert error_line("scenario.yaml:racks[0].cooling.supply_temp_c: bad", text) == 5
    assert error_line("scenario.yaml:racks[0].cooling.missing: missing key", text) == 4
    assert error_line("scenario.yaml:nothing: missing key", text) is None
    assert error_line("suppliers.csv: cannot read supplier table", text) is None


def test_saving_a_version_and_the_diff(app, maker):
    v1 = first_version(app)
    changed = REFERENCE.replace("supply_temp_c: 40 degC", "supply_temp_c: 35 degC", 1)
    answer = save(maker, v1.project_id, changed, v1.id, "cooler water")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/projects/{v1.project_id}"
    page = maker.get(f"/projects/{v1.project_id}")
    assert "version 2" in page.text and "cooler water" in page.text
    with app.state.sessions() as session:
        v2 = session.query(Version).filter_by(number=2).one()
        assert [f.name for f in v2.files] == [SUPPLIERS.name]     # carried over
    diff = maker.get(f"/diff?a={v1.id}&b={v2.id}")
    assert diff.status_code == 200
    assert "racks[0].cooling.supply_temp_c" in diff.text
    assert "40 degC" in diff.text and "35 degC" in diff.text


def test_a_stale_form_answers_409_with_the_text_kept(app, maker):
    v1 = first_version(app)
    assert save(maker, v1.project_id, REFERENCE + "\n# one\n", v1.id).status_code == 303
    answer = save(maker, v1.project_id, REFERENCE + "\n# mine\n", v1.id, "my change")
    assert answer.status_code == 409
    assert "is not the latest version" in answer.text and 'id="stale"' in answer.text
    assert "# mine" in answer.text and 'value="my change"' in answer.text
    assert f'name="parent" value="{v1.id}"' in answer.text


def test_a_scenario_that_does_not_load_answers_422(app, maker):
    v1 = first_version(app)
    answer = save(maker, v1.project_id, broken_racks(REFERENCE), v1.id)
    assert answer.status_code == 422 and "the scenario does not load" in answer.text
    assert "racks: 3" in answer.text and 'id="stale"' not in answer.text
    assert "your form was for an older version" not in answer.text


def test_a_new_project_takes_its_files_from_the_form(app, maker):
    project = new_project(maker, "uploaded")
    editor = maker.get(f"/projects/{project}/edit")
    assert 'name="parent" value=""' in editor.text and "None yet" in editor.text
    files = [("files", (SUPPLIERS.name, SUPPLIERS.read_bytes(), "text/csv")),
             ("files", ("", b"", "application/octet-stream"))]   # an empty file input
    assert save(maker, project, REFERENCE, None, "first", files).status_code == 303
    with app.state.sessions() as session:
        version = session.query(Version).filter_by(project_id=project).one()
        assert {f.name: f.text for f in version.files} == {
            SUPPLIERS.name: SUPPLIERS.read_text(encoding="utf-8")}
    page = maker.get(f"/versions/{version.id}")
    assert SUPPLIERS.name in page.text and "first" in page.text
    assert save(maker, project, REFERENCE, None, "first again", files).status_code == 409


def test_runs_and_reports_follow_the_confidentiality_rule(app, maker, lab):
    v1 = first_version(app)
    answer = maker.post(f"/versions/{v1.id}/run", follow_redirects=False)
    assert answer.status_code == 303
    run_path = answer.headers["location"]
    page = maker.get(run_path)
    assert page.status_code == 200 and "queued" in page.text and "0 of 12 stages" in page.text
    assert maker.get(run_path + "/report").status_code == 409
    assert maker.get("/api" + run_path).json()["status"] == "queued"    # the cookie, on the API
    assert TestClient(app).get("/api" + run_path).status_code == 401
    with app.state.sessions() as session:
        run = session.get(Run, int(run_path.rsplit("/", 1)[1]))
        run.status, run.progress = "done", '{"checks": "ok"}'
        run.report_html, run.report_public_html = "FULL REPORT", "TOTALS ONLY"
        session.commit()
    assert maker.get(run_path + "/report").text == "FULL REPORT"
    assert lab.get(run_path + "/report").text == "TOTALS ONLY"
    assert "Open the report" in lab.get(run_path).text
    assert "report" in maker.get(f"/versions/{v1.id}").text
