"""A job never stays running: outcomes are always storable, dead workers' jobs are taken back, poison
jobs fail after max_attempts, and analyses run off the server's event loop (in a process by default)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from analyzer.config import Settings
from analyzer.report.model import Report
from analyzer.service import ServiceConfig, Store, create_app
from analyzer.service._store import abandoned_sentence
from analyzer.transcript import parse_bytes
from tests.service.conftest import CALL, AppFactory, engine, fake_report, upload, wait_done


async def surrogate_analyze(*, data: bytes | None = None, filename: str | None = None,
                            seller: Sequence[str] = (), **_: Any) -> Report:
    """A report carrying lone surrogates, as a JSON transcript with a "\\ud800" escape produces."""
    assert data is not None
    t = parse_bytes(data, filename=filename or "upload", seller=seller)
    t.turns[1].sentences[0].text = "Our dispatch team loses hours \ud800 every week."
    report = fake_report(t)
    report.flags[0].rationale = "said \udc00 a finder's fee"
    return report


def test_report_with_lone_surrogates_is_stored_and_served(make_client: AppFactory) -> None:
    client = make_client(analyzer=engine(surrogate_analyze))
    done = wait_done(client, upload(client).json()["id"])
    assert done["status"] == "done", done
    report = client.get(done["links"]["report_json"]).json()
    assert report["flags"][0]["rationale"] == "said \ufffd a finder's fee"
    assert "loses hours \ufffd every week" in client.get(f"/analyses/{done['id']}").text
    assert client.get(done["links"]["report_md"]).status_code == 200


def test_a_report_that_cannot_be_stored_becomes_a_failure(
    make_client: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Store, *_: object, **__: object) -> bool:
        raise ValueError("the database said no")

    monkeypatch.setattr(Store, "finish", refuse)
    client = make_client()
    done = wait_done(client, upload(client).json()["id"])
    assert done["status"] == "failed"
    assert done["error"] == "the analysis ended but its outcome could not be stored (ValueError)"


def test_job_of_a_dead_worker_is_taken_back_after_its_lease(make_client: AppFactory, sqlite_url: str) -> None:
    # One slot that looks at the database only when woken (by an upload through this app).
    client = make_client(concurrency=1, poll_seconds=3600)
    assert wait_done(client, upload(client).json()["id"])["status"] == "done"  # the slot is idle now
    other = Store(sqlite_url)  # another process: it claims a job, then dies without renewing its lease
    dead = other.create(content=CALL, filename="dead.txt", fmt="plain", account=None, seller=(),
                        seller_domain=None)
    job = other.claim_next(lease_seconds=0)
    assert job is not None and job.id == dead.id
    other.close()
    assert client.get(f"/api/v1/analyses/{dead.id}").json()["status"] == "running"
    upload(client)  # wakes the slot: its claim takes the expired job back first (it is the oldest)
    done = wait_done(client, dead.id)
    assert done["status"] == "done"
    assert done["attempts"] == 2  # the dead worker's attempt, then this app's


def test_a_job_that_keeps_killing_its_worker_is_failed(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    store.migrate()
    aid = store.create(content=CALL, filename="call.txt", fmt="plain", account=None, seller=(),
                       seller_domain=None).id
    for attempt in (1, 2, 3):  # each claim's worker dies at once (its lease is already over)
        job = store.claim_next(lease_seconds=0, max_attempts=3)
        assert job is not None
        assert job.attempt == attempt
    assert store.claim_next(lease_seconds=0, max_attempts=3) is None
    view = store.get(aid)
    assert view is not None
    assert view.status == "failed"
    assert view.error == abandoned_sentence(3)
    assert view.error.startswith("the analysis was started 3 times and never finished")
    store.close()


def test_a_poison_job_left_running_is_failed_at_start_up(make_client: AppFactory, sqlite_url: str) -> None:
    first = make_client(start_worker=False)
    aid = upload(first).json()["id"]
    first.__exit__(None, None, None)
    store = Store(sqlite_url)
    for _ in range(2):  # two processes claimed it and crashed...
        assert store.claim_next() is not None
        store.reclaim()
    assert store.claim_next() is not None  # ...and a third is crashing right now
    store.close()
    second = make_client(max_attempts=3)
    done = wait_done(second, aid)
    assert done["status"] == "failed"
    assert done["attempts"] == 3
    assert done["error"] == abandoned_sentence(3)


def test_a_late_outcome_of_a_replaced_attempt_is_dropped(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    store.migrate()
    aid = store.create(content=CALL, filename="call.txt", fmt="plain", account=None, seller=(),
                       seller_domain=None).id
    stale = store.claim_next(lease_seconds=0)
    fresh = store.claim_next(lease_seconds=60)  # took the job back from the silent first worker
    assert stale is not None and fresh is not None and fresh.attempt == 2
    report = fake_report(parse_bytes(CALL, filename="call.txt"))
    assert store.fail(aid, "too late", attempt=stale.attempt) is False
    assert store.finish(aid, report, attempt=fresh.attempt) is True
    view = store.get(aid)
    assert view is not None and view.status == "done" and view.error is None
    store.close()


def test_injected_analyses_run_off_the_event_loop(make_client: AppFactory) -> None:
    threads: list[str] = []

    async def where(**kwargs: Any) -> Report:
        threads.append(threading.current_thread().name)
        await asyncio.sleep(0)
        return await surrogate_analyze(**kwargs)

    client = make_client(analyzer=engine(where))
    assert wait_done(client, upload(client).json()["id"])["status"] == "done"
    assert threads == ["walkaway-analysis"]


@pytest.fixture
def keywords_client(tmp_path: Path) -> Any:
    """The default analyzer (the real Engine, backend keywords): analyses run in child processes."""
    cfg = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'p.sqlite3'}", poll_seconds=0.05, concurrency=1,
                        child_process_bytes=0)
    app = create_app(Settings(home=tmp_path, cache=False), cfg, backend="keywords")
    with TestClient(app) as client:
        yield client


def test_default_analyzer_runs_in_a_child_process(keywords_client: TestClient) -> None:
    worker = keywords_client.app.state.walkaway.worker  # type: ignore[attr-defined]
    assert len(worker._procs) == 1
    resp = upload(keywords_client, seller="Jordan Ellis")  # parsed in a child too (child_process_bytes=0)
    assert resp.status_code == 202, resp.text
    done = wait_done(keywords_client, resp.json()["id"], timeout=60)
    assert done["status"] == "done", done
    assert done["verdict"] in ("walk_away", "qualify_further")
    # With child_process_bytes=0 the report and its page are rendered in a child process too.
    report = keywords_client.get(done["links"]["report_json"]).json()
    assert report["backend"] == "keywords"
    assert keywords_client.get(done["links"]["report_md"]).text.startswith("#")
    page = keywords_client.get(f"/analyses/{done['id']}")
    assert page.status_code == 200
    assert 'class="banner v-' in page.text
    # An upload the parser refuses in the child keeps its status, code and sentence.
    bad = upload(keywords_client, content=b"%PDF-1.7 binary junk", filename="deck.pdf")
    assert bad.status_code == 422
    assert bad.json()["error"] == "invalid_transcript"
    assert bad.json()["detail"].startswith("deck.pdf: ")
