"""Storage: alembic migrations, the atomic claim, and bytes kept in the database."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import inspect

from analyzer._errors import ConfigError
from analyzer.service import Store
from analyzer.service._migrate import current_revision
from analyzer.service._store import normalize_url, redact


def _fill(store: Store, n: int) -> list[str]:
    return [
        store.create(content=f"A: {i}\nB: ok\n".encode(), filename=f"{i}.txt", fmt="plain", account=None,
                     seller=(), seller_domain=None).id
        for i in range(n)
    ]


def test_migrations_create_the_schema_once(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    store.migrate()  # idempotent: a restart runs it again
    assert current_revision(store.engine) == "0001"
    cols = {c["name"] for c in inspect(store.engine).get_columns("analyses")}
    assert {"id", "status", "content", "report_json", "verdict", "account", "attempts"} <= cols
    store.close()


def test_claims_are_atomic_across_threads(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    ids = _fill(store, 40)
    claimed: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        while (job := store.claim_next()) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)  # each job exactly once
    assert store.counts() == {"running": 40}
    store.close()


def test_oldest_first_and_bytes_round_trip(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    raw = b"\xff\xfeA\x00:\x00 \x00h\x00i\x00"  # arbitrary bytes (UTF-16) survive as they are
    first = store.create(content=raw, filename="x.txt", fmt=None, account="Acme", seller=["Jo"], seller_domain=None)
    _fill(store, 2)
    job = store.claim_next()
    assert job is not None
    assert job.id == first.id
    assert job.content == raw
    assert job.seller == ["Jo"]
    assert store.accounts() == ["Acme"]
    store.close()


def test_bad_database_urls_are_config_errors(tmp_path: object) -> None:
    with pytest.raises(ConfigError, match="is not a database URL"):
        Store("not a url")
    store = Store("postgresql://walkaway:hunter2@127.0.0.1:1/nope")
    with pytest.raises(ConfigError) as info:
        store.migrate()
    assert str(info.value).startswith("cannot open database postgresql+psycopg://walkaway:***@127.0.0.1:1/nope: ")
    assert "hunter2" not in str(info.value)


def test_url_helpers() -> None:
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    assert redact("postgresql+psycopg://u:pw@h/db") == "postgresql+psycopg://u:***@h/db"
