"""Load on ``rackforge serve``: a real server (uvicorn in its own process, as ``rackforge serve``
starts it, on 127.0.0.1 and a free port, SQLite in a temporary folder, the demo workspace) and
50 concurrent clients for 30 s mixing reads (the project list, a project's versions, one
version) and version writes (a one-rack scenario). Each client writes to a project of its own
with the last version it wrote as parent, so writes succeed; about one write in 20 names an older
parent on purpose and must be refused with 409 (an expected conflict, not an error).

Printed: requests/s, p50/p95 latency of reads and of writes, errors (answers other than 2xx and
the expected 409s, and exceptions), then a check against the database after the server stops:
every acknowledged write (201 with an id) is stored exactly once, under its id, in order, and
nothing else is (no refused or unanswered write); the exit status is 1 if not. Target: reads
p95 under 100 ms on SQLite. ``--seconds N`` sets the duration, ``--quick`` 5 s; ``--clients N``
the clients (50).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from sqlalchemy import select

from rackforge.serve import db, demo, service
from rackforge.serve.models import User, Version

ROOT = Path(__file__).parent.parent
REFERENCE = ROOT / "scenarios" / "reference.yaml"
HOST = "127.0.0.1"
READ_P95_TARGET_S = 0.100
STALE_EVERY = 20            # one write in about this many names an older parent: 409 expected
READS = (("projects", 0.3), ("versions", 0.25), ("version", 0.25))
WRITE_SHARE = 0.2
ROUTES = {"projects": "GET /api/projects", "versions": "GET /api/projects/{id}/versions",
          "version": "GET /api/versions/{id}"}


def one_rack_scenario(name: str) -> str:
    """A scenario of just a name and the reference scenario's first rack."""
    racks = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))["racks"][:1]
    return yaml.safe_dump({"name": name, "racks": racks}, sort_keys=False)


@dataclass
class Client:
    """One simulated client: its project, its versions, and what it saw."""

    number: int
    project: int
    versions: list[int]                                  # ids, oldest first
    reads: dict[str, list[float]] = field(     # latencies [s] by kind of read
        default_factory=lambda: {kind: [] for kind, _ in READS})
    writes: list[float] = field(default_factory=list)
    acknowledged: dict[str, int] = field(default_factory=dict)   # message -> version id
    refused: list[str] = field(default_factory=list)     # messages of writes answered 409
    unexpected_conflicts: int = 0
    errors: Counter = field(default_factory=Counter)


def prepare(url: str, clients: int, text: str) -> tuple[str, list[Client]]:
    """The demo workspace plus one project per client with one version; the manufacturer's
    token and the clients."""
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            token = demo.seed(session)["mfg-engineer"]
            maker = session.scalar(select(User).where(User.name == "mfg-engineer"))
            made = []
            for number in range(clients):
                project = service.create_project(session, maker, f"bench client {number}")
                first = service.add_version(session, maker, project.id, text, {}, None,
                                            "bench seed")
                made.append(Client(number, project.id, [first.id]))
            session.commit()
    finally:
        engine.dispose()
    return token, made


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(url: str, folder: Path, port: int) -> subprocess.Popen:
    """``rackforge serve`` on `url` (its uvicorn, its app factory) in a child process, its
    output to ``server.log`` in `folder`."""
    env = os.environ | {"RACKFORGE_CACHE": str(folder / "cache")}
    with open(folder / "server.log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "rackforge", "serve", "--host", HOST, "--port", str(port),
             "--db", url, "--workers", "1"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


def wait_until_up(server: subprocess.Popen, base: str, log: Path, timeout_s: float = 30.0
                  ) -> None:
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped at start:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/api/health", timeout=1.0, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not answer within {timeout_s:.0f} s")


async def drive(client: Client, base: str, token: str, text: str, until: float) -> None:
    """Requests one after another until `until` (monotonic clock)."""
    rng = random.Random(client.number)
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30.0,
                                 limits=limits, trust_env=False) as http:
        written = 0
        while time.monotonic() < until:
            if rng.random() < WRITE_SHARE:
                written += 1
                await write(client, http, text, written, rng)
                continue
            kind = rng.choices([k for k, _ in READS], [w for _, w in READS])[0]
            url = {"projects": "/api/projects",
                   "versions": f"/api/projects/{client.project}/versions",
                   "version": f"/api/versions/{rng.choice(client.versions)}"}[kind]
            began = time.perf_counter()
            try:
                answer = await http.get(url)
            except httpx.HTTPError as exc:
                client.errors[f"GET {kind}: {type(exc).__name__}"] += 1
                continue
            client.reads[kind].append(time.perf_counter() - began)
            if answer.status_code != 200:
                client.errors[f"GET {kind}: {answer.status_code}"] += 1


async def write(client: Client, http: httpx.AsyncClient, text: str, written: int,
                rng: random.Random) -> None:
    stale = len(client.versions) > 1 and rng.random() < 1 / STALE_EVERY
    parent = client.versions[rng.randrange(len(client.versions) - 1)] if stale \
        else client.versions[-1]
    message = f"bench client {client.number} write {written}"
    began = time.perf_counter()
    try:
        answer = await http.post(f"/api/projects/{client.project}/versions", json={
            "scenario_yaml": text, "parent": parent, "message": message})
    except httpx.HTTPError as exc:   # written or not: the database check will tell
        client.errors[f"POST version: {type(exc).__name__}"] += 1
        await resync(client, http)
        return
    client.writes.append(time.perf_counter() - began)
    if answer.status_code == 201:
        client.acknowledged[message] = answer.json()["id"]
        client.versions.append(answer.json()["id"])
    elif answer.status_code == 409:
        client.refused.append(message)
        if not stale:       # someone else wrote to the project: carry on from its latest
            client.unexpected_conflicts += 1
            await resync(client, http)
    else:
        client.errors[f"POST version: {answer.status_code}"] += 1


async def resync(client: Client, http: httpx.AsyncClient) -> None:
    """The project's versions as the server has them (after an unexpected 409)."""
    try:
        answer = await http.get(f"/api/projects/{client.project}/versions")
        client.versions = [v["id"] for v in answer.raise_for_status().json()]
    except httpx.HTTPError as exc:
        client.errors[f"GET versions: {type(exc).__name__}"] += 1


async def load(clients: list[Client], base: str, token: str, text: str, seconds: float
               ) -> float:
    began = time.monotonic()
    await asyncio.gather(*(drive(c, base, token, text, began + seconds) for c in clients))
    return time.monotonic() - began


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def check_database(url: str, clients: list[Client]) -> list[str]:
    """What the database holds against what the clients were told: one line per problem."""
    problems = []
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            for client in clients:
                stored = session.scalars(select(Version).where(
                    Version.project_id == client.project).order_by(Version.number)).all()
                written = [v for v in stored if v.message != "bench seed"]
                by_message = Counter(v.message for v in written)
                ids = {v.message: v.id for v in written}
                twice = [m for m, n in by_message.items() if n > 1]
                missing = [m for m in client.acknowledged if m not in ids]
                moved = [m for m, i in client.acknowledged.items() if m in ids and ids[m] != i]
                extra = [m for m in ids if m not in client.acknowledged]
                chain = all(v.number == n and v.parent_id == (stored[n - 2].id if n > 1 else None)
                            for n, v in enumerate(stored, start=1))
                if len(written) != len(client.acknowledged):
                    problems.append(f"project {client.project}: {len(written)} versions "
                                    f"stored, {len(client.acknowledged)} acknowledged")
                for what, messages in (("stored more than once", twice),
                                       ("acknowledged, not stored", missing),
                                       ("stored under another id", moved),
                                       ("stored, never acknowledged", extra)):
                    if messages:
                        problems.append(f"project {client.project}: {what}: {messages[:3]}")
                if not chain:
                    problems.append(f"project {client.project}: numbers or parents not a chain")
    finally:
        engine.dispose()
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true", help="5 s")
    parser.add_argument("--clients", type=int, default=50)
    options = parser.parse_args()
    seconds = 5.0 if options.quick else options.seconds
    text = one_rack_scenario("bench one-rack scenario")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'rackforge.db'}"
        token, clients = prepare(url, options.clients, text)
        port = free_port()
        base = f"http://{HOST}:{port}"
        server = start_server(url, Path(folder), port)
        try:
            wait_until_up(server, base, Path(folder) / "server.log")
            elapsed = asyncio.run(load(clients, base, token, text, seconds))
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        problems = check_database(url, clients)
        if report(clients, elapsed, problems):
            print(server_errors(Path(folder) / "server.log"))
        if problems:
            sys.exit(1)


def server_errors(log: Path) -> str:
    """The exceptions the server logged, one line each with its count."""
    found = Counter(line[:160] for line in log.read_text(errors="replace").splitlines()
                    if re.match(r"[A-Za-z_][\w.]*(Error|Exception): ", line))
    return "server log: " + ("; ".join(f"{line} x{n}" for line, n in found.most_common(3))
                             or "no exception")


def report(clients: list[Client], elapsed: float, problems: list[str]) -> bool:
    """Print the figures; whether anything went wrong (errors, database problems)."""
    by_kind = {kind: [t for c in clients for t in c.reads[kind]] for kind, _ in READS}
    reads = [t for times in by_kind.values() for t in times]
    writes = [t for c in clients for t in c.writes]
    errors = sum((c.errors for c in clients), Counter())
    acknowledged = sum(len(c.acknowledged) for c in clients)
    refused = sum(len(c.refused) for c in clients)
    unexpected = sum(c.unexpected_conflicts for c in clients)
    done = len(reads) + len(writes)
    p95 = percentile(reads, 0.95)
    print(f"{len(clients)} clients for {elapsed:.1f} s: {done:,} requests, "
          f"{done / elapsed:,.1f} requests/s ({len(reads):,} reads, {len(writes):,} writes)")
    print(f"reads:  p50 {percentile(reads, 0.5) * 1e3:6.1f} ms, p95 {p95 * 1e3:6.1f} ms "
          f"(target p95 < {READ_P95_TARGET_S * 1e3:.0f} ms on SQLite: "
          f"{'met' if p95 < READ_P95_TARGET_S else 'NOT met'})")
    print("        p95 by route: " + ", ".join(
        f"{ROUTES[kind]} {percentile(times, 0.95) * 1e3:.1f} ms"
        for kind, times in by_kind.items()))
    print(f"writes: p50 {percentile(writes, 0.5) * 1e3:6.1f} ms, p95 "
          f"{percentile(writes, 0.95) * 1e3:6.1f} ms; {acknowledged:,} acknowledged (201), "
          f"{refused:,} expected conflicts (409: {refused - unexpected} on a stale parent "
          f"sent on purpose, {unexpected} other)")
    depth = [len(c.versions) for c in clients]
    print(f"        versions per project at the end: {min(depth)} to {max(depth)}")
    print(f"errors: {sum(errors.values()):,} (non-2xx other than 409, and exceptions)"
          + "".join(f"; {what} x{n}" for what, n in errors.most_common(5)))
    verdict = f"{len(problems)} problem(s)" if problems else \
        "every acknowledged write stored exactly once under its id, nothing else stored"
    print(f"database: {verdict}" + "".join(f"\n  {p}" for p in problems[:10]))
    return bool(problems or errors)


if __name__ == "__main__":
    main()
