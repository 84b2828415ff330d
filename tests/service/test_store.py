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
        store.create(
            content=f"A: {i}\nB: ok\n".encode(),
            filename=f"{i}.txt",
            fmt="plain",
            account=None,
            seller=(),
            seller_domain=None,
        ).id
        for i in range(n)
    ]


def test_migrations_create_the_schema_once(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    store.migrate()  # idempotent: a restart runs it again
    assert current_revision(store.engine) == "0002"
    cols = {c["name"] for c in inspect(store.engine).get_columns("analyses")}
    assert {"id", "status", "content", "report_json", "verdict", "account", "attempts", "lease_until"} <= cols
    assert {c["name"] for c in inspect(store.engine).get_columns("sessions")} == {
        "token_hash",
        "key_id",
        "created_at",
        "expires_at",
    }
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


def test_unstorable_text_is_made_valid_on_every_database(db_url: str) -> None:
    """Lone surrogates and NULs (which PostgreSQL refuses) never stop a write: a job always gets its outcome."""
    from analyzer.transcript import parse_bytes
    from tests.service.conftest import CALL, fake_report

    store = Store(db_url)
    store.migrate()
    view = store.create(
        content=b"\x00\xff",
        filename="a\ud800\x00.txt",
        fmt=None,
        account="Ac\x00me",
        seller=["Jo\udc00"],
        seller_domain="x\ud800.io",
    )
    assert (view.filename, view.account, view.seller, view.seller_domain) == (
        "a\ufffd\ufffd.txt",
        "Ac\ufffdme",
        ["Jo\ufffd"],
        "x\ufffd.io",
    )
    job = store.claim_next()
    assert job is not None
    report = fake_report(parse_bytes(CALL, filename="call.txt"))
    report.flags[0].rationale = "lone \ud800 and nul \x00"
    assert store.finish(job.id, report, attempt=job.attempt)
    stored = store.report_json(job.id)
    assert stored is not None and "lone \ufffd and nul" in stored
    other = store.create(content=b"x", filename="b.txt", fmt=None, account=None, seller=(), seller_domain=None)
    claimed = store.claim_next()
    assert claimed is not None and claimed.id == other.id
    assert store.fail(other.id, "bad \x00 byte \udfff here", attempt=claimed.attempt)
    failed = store.get(other.id)
    assert failed is not None and failed.error == "bad \ufffd byte \ufffd here"
    store.close()


def test_account_signatures_and_calls_of_chosen_accounts(db_url: str) -> None:
    from analyzer.transcript import parse_bytes
    from tests.service.conftest import fake_report

    store = Store(db_url)
    store.migrate()
    text = b"Jo: Hi.\nPat: The budget is frozen.\n"
    for account in ("Acme", "Globex", "Acme", None):
        store.create(content=text, filename="c.txt", fmt=None, account=account, seller=["Jo"], seller_domain=None)
    while (job := store.claim_next()) is not None:
        assert store.finish(job.id, fake_report(parse_bytes(job.content, filename=job.filename, seller=job.seller)))
    signatures = store.account_signatures()
    assert sorted(signatures) == ["Acme", "Globex"] and len(signatures["Acme"]) == 2
    assert list(store.account_calls(["Globex"])) == ["Globex"]  # only what was asked for
    assert [len(v) for v in store.account_calls().values()] == [2, 1]
    store.close()
