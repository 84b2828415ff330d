"""The bad-input corpus through `walkaway batch` and the upload API (the parse/analyze CLI runs are in
``test_corpus.py``): every file ends as a result or as one sentence naming it, the batch always finishes,
no request answers 5xx and no job stays queued or running."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from analyzer.cli import cli
from analyzer.config import Settings
from analyzer.service import ServiceConfig, create_app

CORPUS = Path(__file__).resolve().parent / "corpus"
FILES = sorted(p for p in CORPUS.iterdir() if p.is_file() and not p.name.startswith("."))


def test_the_corpus_is_big_enough() -> None:
    assert len(FILES) >= 60


def _one_sentence(text: str) -> None:
    assert text and "\n" not in text.strip() and "Traceback" not in text, text


def test_batch_over_the_whole_corpus_finishes_with_a_sentence_per_failure(tmp_path: Path) -> None:
    # A manifest naming every file (a folder walk would skip names without a transcript extension).
    manifest = CORPUS / "_manifest.csv"
    try:
        manifest.write_text("path\n" + "".join(f"{p.name}\n" for p in FILES), encoding="utf-8")
        out = tmp_path / "out"
        res = CliRunner().invoke(cli, ["batch", str(manifest), "--out", str(out), "--backend", "keywords"])
    finally:
        manifest.unlink(missing_ok=True)
    assert res.exit_code in (0, 1), res.output
    assert "Traceback" not in res.output
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(records) == len(FILES)
    for r in records:
        if r["status"] == "error":
            _one_sentence(r["error"])
            assert not r["error"].startswith("unexpected"), r
            assert r["error_type"] in ("TranscriptError", "ConfigError"), r
        else:
            assert r["verdict"] in ("pursue", "qualify_further", "walk_away", "nurture")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    cfg = ServiceConfig(
        database_url=f"sqlite:///{tmp_path / 'service.sqlite3'}", poll_seconds=0.05, uploads_per_minute=0
    )
    app = create_app(Settings(), cfg, backend="keywords")
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_every_corpus_file_uploads_to_a_sentence_or_a_finished_job(client: TestClient) -> None:
    pending: dict[str, str] = {}
    for p in FILES:
        resp = client.post("/api/v1/analyses", files={"file": (p.name, p.read_bytes(), "application/octet-stream")})
        assert resp.status_code < 500, (p.name, resp.status_code, resp.text[:300])
        if resp.status_code == 202:
            pending[resp.json()["id"]] = p.name
        else:
            assert resp.headers["content-type"] == "application/json", p.name
            _one_sentence(resp.json()["detail"])
    deadline = time.monotonic() + 120  # a hang guard for the whole queue, not a speed assertion
    while pending and time.monotonic() < deadline:
        for job_id, name in list(pending.items()):
            body = client.get(f"/api/v1/analyses/{job_id}").json()
            if body["status"] == "failed":
                _one_sentence(body["error"])
                del pending[job_id]
            elif body["status"] == "done":
                assert body["verdict"], name
                del pending[job_id]
        time.sleep(0.1)
    assert not pending, f"jobs never finished: {sorted(pending.values())}"
