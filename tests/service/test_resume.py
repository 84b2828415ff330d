"""Jobs live in the database: queued or running jobs survive a restart and complete in the next app."""

from __future__ import annotations

import asyncio
import time

from analyzer.service import Store
from tests.service.conftest import AppFactory, engine, upload, wait_done


def test_jobs_queued_before_a_stop_complete_after_restart(db_url: str, make_client: AppFactory) -> None:
    first = make_client(url=db_url, start_worker=False)
    ids = [upload(first, account=f"acct-{i}").json()["id"] for i in range(3)]
    assert {first.get(f"/api/v1/analyses/{i}").json()["status"] for i in ids} == {"queued"}
    first.__exit__(None, None, None)  # stop the app before anything ran

    second = make_client(url=db_url)
    for i in ids:
        done = wait_done(second, i)
        assert done["status"] == "done"
        assert done["verdict"] == "walk_away"
        assert done["attempts"] == 1


def test_running_job_interrupted_by_a_stop_runs_again(db_url: str, make_client: AppFactory) -> None:
    started = 0

    async def stuck(**_: object) -> object:
        nonlocal started
        started += 1
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    first = make_client(url=db_url, analyzer=engine(stuck, concurrency=1), concurrency=1)
    ids = [upload(first).json()["id"] for _ in range(3)]
    deadline = time.monotonic() + 5
    while first.get(f"/api/v1/analyses/{ids[0]}").json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert [first.get(f"/api/v1/analyses/{i}").json()["status"] for i in ids] == ["running", "queued", "queued"]
    first.__exit__(None, None, None)  # graceful stop: the running job goes back to the queue
    store = Store(db_url)
    assert store.counts() == {"queued": 3}
    store.close()
    assert started == 1

    second = make_client(url=db_url)
    results = [wait_done(second, i) for i in ids]
    assert [r["verdict"] for r in results] == ["walk_away"] * 3
    assert [r["attempts"] for r in results] == [2, 1, 1]


def test_job_left_running_by_a_crash_is_requeued(db_url: str, make_client: AppFactory) -> None:
    first = make_client(url=db_url, start_worker=False)
    aid = upload(first).json()["id"]
    first.__exit__(None, None, None)
    store = Store(db_url)
    job = store.claim_next()  # a process that claimed it, then died without a word
    assert job is not None
    assert job.id == aid
    assert store.counts() == {"running": 1}
    store.close()

    second = make_client(url=db_url)
    done = wait_done(second, aid)
    assert done["status"] == "done"
    assert done["attempts"] == 2
