"""Fixtures for the upload service: apps on SQLite (and PostgreSQL when one runs), a fake analysis."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from analyzer.batch.engine import Engine
from analyzer.config import Settings
from analyzer.extraction.findings import Evidence, Flag, SignalFinding
from analyzer.report.model import MessageDraft, OpenQuestion, Report
from analyzer.service import ServiceConfig, create_app
from analyzer.transcript import Transcript, parse_bytes

# Where .ci/services starts a throwaway PostgreSQL (trust auth on loopback only).
PG_HOST, PG_PORT = "127.0.0.1", 54329

CALL = b"""Jordan Ellis: Thanks for making the time today. What are you hoping to fix?
Dana Price: Our dispatch team loses hours every week to manual routing.
Dana Price: Honestly, a finder's fee paid to me directly would help this move. Nobody else needs to know.
Jordan Ellis: I understand. What budget have you set aside?
Dana Price: The budget is frozen until next fiscal year.
"""

# Cue -> (category, severity). A tiny deterministic stand-in for the real extractor.
CUES: dict[str, tuple[str, str]] = {
    "finder's fee": ("ethics", "high"),
    "budget is frozen": ("budget", "medium"),
    "send something over": ("engagement", "low"),
}


def _evidence(t: Transcript, needle: str) -> list[Evidence]:
    out = []
    for turn in t.turns:
        for s in turn.sentences:
            if needle in s.text.lower():
                out.append(Evidence(sentence_id=s.id, turn_id=turn.id, speaker=turn.speaker, role=turn.role,
                                    start=turn.start, quote=s.text))
    return out


def fake_report(transcript: Transcript) -> Report:
    """A report whose flags come from fixed cues, with real sentence ids, like the real pipeline."""
    flags = []
    for cue, (cat, sev) in CUES.items():
        ev = _evidence(transcript, cue)
        if ev:
            flags.append(Flag(category=cat, severity=sev, rationale=f"said {cue!r}", evidence=ev))  # type: ignore[arg-type]
    signals = []
    need = _evidence(transcript, "loses hours")
    if need:
        signals.append(SignalFinding(signal="need_confirmed", evidence=need))
    verdict = "walk_away" if any(f.severity == "high" for f in flags) else "qualify_further"
    from analyzer.coaching import coach

    return Report(
        source=transcript.source, verdict=verdict, flags=flags, signals=signals, decided_by="fake-rule",  # type: ignore[arg-type]
        open_questions=[OpenQuestion(element="budget", question="When does the budget unfreeze?")],
        message=MessageDraft(kind="decline", subject="Thanks for your time", body="Hi Dana,\nThanks for the call."),
        transcript=transcript, speakers=transcript.speakers, backend="fake",
        coaching=coach(transcript, flags),  # as the pipeline adds it
    )


async def fake_analyze(
    path: Path | None = None, *, data: bytes | None = None, filename: str | None = None,
    seller: Sequence[str] = (), seller_domain: str | None = None, **_: Any,
) -> Report:
    """The pipeline's shape, without an LLM."""
    assert data is not None
    t = parse_bytes(data, filename=filename or "upload", seller=seller, seller_domain=seller_domain)
    return fake_report(t)


def engine(analyze: Callable[..., Any] = fake_analyze, concurrency: int = 2) -> Engine:
    """The real Engine with an injected analysis and no whole-transcript retries (fast tests)."""
    return Engine(Settings(), concurrency=concurrency, analyze=analyze, item_retries=0)


AppFactory = Callable[..., TestClient]


def _pg_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the .ci/services server, dropped afterwards."""
    if not _pg_reachable():
        pytest.skip(f"no PostgreSQL on {PG_HOST}:{PG_PORT} (bash .ci/services starts one when apt is available)")
    import psycopg

    name = f"walkaway_test_{uuid.uuid4().hex[:12]}"
    admin = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on SQLite, and on PostgreSQL too when a server is up."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.sqlite3'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An SQLite file in the test's temp folder."""
    return f"sqlite:///{tmp_path / 'service.sqlite3'}"


@pytest.fixture
def make_client(sqlite_url: str) -> Iterator[AppFactory]:
    """Build a started TestClient; closes every client it made at the end."""
    clients: list[TestClient] = []

    def factory(
        *, url: str | None = None, analyzer: Any = None, start_worker: bool = True, **config: Any
    ) -> TestClient:
        config.setdefault("poll_seconds", 0.05)
        cfg = ServiceConfig(database_url=url or sqlite_url, **config)
        app = create_app(Settings(), cfg, analyzer=analyzer or engine(), start_worker=start_worker)
        client = TestClient(app, raise_server_exceptions=True)
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    """A started app on SQLite with the fake analysis."""
    return make_client()


def wait_done(client: TestClient, analysis_id: str, timeout: float = 10.0, **kwargs: Any) -> dict[str, Any]:
    """Poll the API until the analysis is done or failed."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/api/v1/analyses/{analysis_id}", **kwargs).json()
        if body["status"] in ("done", "failed"):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"analysis {analysis_id} still {body['status']} after {timeout}s")
        time.sleep(0.02)


def upload(client: TestClient, content: bytes = CALL, filename: str = "call.txt", **fields: Any) -> Any:
    """POST one multipart upload."""
    return client.post("/api/v1/analyses", files={"file": (filename, content, "text/plain")}, data=fields)
