"""The API against its own OpenAPI schema: schemathesis sends generated requests (valid ones and,
for bodies and parameters, invalid ones) to every operation of the in-process app with the demo
manufacturer's token, and no answer may be a server error. Then the limits a caller cannot get
round: the 10 MB body limit, the token on every API route but ``/api/health``, and file names
that are never paths."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi

from rackforge.serve import db, demo
from rackforge.serve.app import MAX_BODY_BYTES, ServerConfig, create_app

MAKER = "mfg-engineer"      # demo manufacturer's owner: owns project 1, the reference scenario
EXAMPLES = 25               # per operation and generation mode
SPEC = create_app(ServerConfig()).openapi()     # the routes, without starting anything
OPERATIONS = [(method.upper(), path) for path, item in SPEC["paths"].items() for method in item]
UNAUTHENTICATED = {("GET", "/api/health")}


def seeded_app(folder: Path) -> tuple[FastAPI, dict[str, str]]:
    """An app on a fresh SQLite database in `folder` holding the demo workspace; the demo
    users' tokens. Runs execute in one thread, results cached in `folder`."""
    url = f"sqlite:///{folder / 'rackforge.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            tokens = demo.seed(session)
            session.commit()
    finally:
        engine.dispose()
    app = create_app(ServerConfig(db_url=url, cache_dir=str(folder / "cache"), workers=1,
                                  processes=False))
    return app, tokens


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A started app (lifespan run) and the demo tokens."""
    app, tokens = seeded_app(tmp_path)
    with TestClient(app) as client:
        yield client, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_operation_answers_a_server_error(method, path, tmp_path):
    app, tokens = seeded_app(tmp_path)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)    # starts the lifespan
    try:
        operation = schema[path][method]
        auth = bearer(tokens[MAKER])
        existing = {name: 1 for name in re.findall(r"{(\w+)}", path)}  # project 1, version 1
        passes = [(schemathesis.GenerationMode.POSITIVE, {}),
                  (schemathesis.GenerationMode.NEGATIVE, {})]
        if existing:       # the bodies against things that exist, not only against 404s
            passes.append((schemathesis.GenerationMode.POSITIVE, existing))
        for mode, ids in passes:
            strategy = operation.as_strategy(mode, path_parameters=ids,
                                             headers={"authorization": auth["Authorization"]})

            @given(case=strategy)
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), print_blob=True)
            def call(case: schemathesis.Case) -> None:
                response = case.call(headers=auth)
                case.validate_response(response, checks=[not_a_server_error])

            try:
                call()
            except Unsatisfiable:
                # nothing of the operation can be made invalid (no body, no parameters)
                if mode is schemathesis.GenerationMode.POSITIVE:
                    raise
    finally:
        asgi.shutdown_lifespans()


def test_a_body_over_10_mb_is_refused_with_413(served):
    client, tokens = served
    big = b'{"scenario_yaml": "' + b"x" * (MAX_BODY_BYTES + MAX_BODY_BYTES // 20) + b'"}'
    said = client.post("/api/projects/1/versions", content=big,
                       headers=bearer(tokens[MAKER]) | {"Content-Type": "application/json"})
    assert said.status_code == 413, said.text

    def chunks() -> Iterator[bytes]:     # no Content-Length: counted as it arrives
        for start in range(0, len(big), 1 << 20):
            yield big[start:start + (1 << 20)]

    streamed = client.post("/api/projects/1/versions", content=chunks(),
                           headers=bearer(tokens[MAKER]) | {"Content-Type": "application/json"})
    assert streamed.status_code == 413, streamed.text


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer nope", "Basic dXNlcjpw"])
def test_every_api_route_but_health_needs_a_token(served, authorization):
    client, _ = served
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in OPERATIONS:
        url = path.format(project_id=1, version_id=1, a=1, b=1, run_id=1)
        said = client.request(method, url, headers=headers, json={} if method == "POST" else None)
        expected = 200 if (method, path) in UNAUTHENTICATED else 401
        assert said.status_code == expected, f"{method} {url}: {said.status_code} {said.text}"


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/b", "..", "./x", "x\\y", ""])
def test_a_file_name_is_never_a_path(served, name):
    client, tokens = served
    auth = bearer(tokens[MAKER])
    latest = client.get("/api/projects/1/versions", headers=auth).json()[-1]["id"]
    said = client.post("/api/projects/1/versions", headers=auth, json={
        "scenario_yaml": "name: x\n", "files": {name: "a"}, "parent": latest})
    assert said.status_code == 422, said.text
    assert "not a plain file name" in said.json()["errors"][0]
    assert len(client.get("/api/projects/1/versions", headers=auth).json()) == 1


def test_an_id_past_what_the_database_stores_is_422_not_500(served):
    client, tokens = served
    said = client.get(f"/api/versions/{2**63}", headers=bearer(tokens[MAKER]))
    assert said.status_code == 422, said.text
    assert client.get(f"/api/versions/{2**63 - 1}",
                      headers=bearer(tokens[MAKER])).status_code == 404
