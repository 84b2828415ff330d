"""Hostile uploads: every one ends as a 4xx JSON sentence or an accepted job, never a plain-text 500."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import AppFactory, upload, wait_done

TWO_TURNS = '{{"turns": [{{"speaker": "Jordan Ellis", "text": "Hello there.", "start": {start}}}, ' \
    '{{"speaker": "Dana Price", "text": "The budget is frozen."}}]}}'

# The JSON transcripts of issue 11 that used to answer "Internal Server Error" (text/plain) on upload.
HOSTILE_JSON = {
    "digits": TWO_TURNS.format(start="9" * 5000),
    "deep_list": "[" * 100_000 + "]" * 100_000,
    "deep_object": '{"turns": ' + "[" * 5000 + "]" * 5000 + "}",
    "nan_time": TWO_TURNS.format(start="NaN"),
    "infinite_time": TWO_TURNS.format(start="-Infinity"),
    "huge_int_time": TWO_TURNS.format(start="9" * 400),
    "lone_surrogate": '{"turns": [{"speaker": "Jordan Ellis", "text": "Hi \\ud800 there."}, '
                      '{"speaker": "Dana Price\\udc00", "text": "The budget is frozen."}]}',
}


def _one_sentence_error(resp: Any) -> str:
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert set(body) == {"error", "detail"}
    detail: str = body["detail"]
    assert detail and "\n" not in detail and "Traceback" not in detail
    return detail


@pytest.mark.parametrize("name", sorted(HOSTILE_JSON))
def test_hostile_json_transcripts_never_answer_500(client: TestClient, name: str) -> None:
    text = HOSTILE_JSON[name]
    multipart = upload(client, content=text.encode(), filename=f"{name}.json")
    as_json = client.post("/api/v1/analyses", json={"filename": f"{name}.json", "content": text})
    for resp in (multipart, as_json):
        if resp.status_code == 202:  # read correctly: then the job must end, with a storable outcome
            done = wait_done(client, resp.json()["id"])
            assert done["status"] in ("done", "failed"), done
            if done["status"] == "done":
                assert client.get(done["links"]["report_json"]).status_code == 200
                assert client.get(f"/analyses/{done['id']}").status_code == 200
        else:
            assert _one_sentence_error(resp).startswith(f"{name}.json")


@pytest.mark.parametrize(
    "exc",
    [RecursionError("maximum recursion depth exceeded"), ValueError("Exceeds the limit (4300 digits)"),
     OverflowError("cannot convert float infinity to integer"),
     UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), KeyError("speaker")],
    ids=lambda e: type(e).__name__,
)
def test_parser_crash_is_a_422_sentence(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, exc: Exception
) -> None:
    """Whatever the parser raises on hostile input, the client gets one sentence (we get the traceback)."""
    import analyzer.transcript

    def broken(*_: object, **__: object) -> object:
        raise exc

    monkeypatch.setattr(analyzer.transcript, "parse_bytes", broken)
    with caplog.at_level(logging.WARNING, logger="analyzer.service"):
        resp = upload(client, content=b'{"turns": []}', filename="call.json")
    assert resp.json()["error"] == "invalid_transcript"
    detail = _one_sentence_error(resp)
    assert detail.startswith("call.json: ")
    assert detail.endswith("expected a call transcript")
    if isinstance(exc, RecursionError):
        assert "nested too deeply" in detail
    else:
        assert type(exc).__name__ in detail
    assert any(r.exc_info for r in caplog.records), "the traceback is logged server-side"
    assert client.get("/api/v1/analyses").json()["total"] == 0


def test_json_body_errors_are_sentences(client: TestClient) -> None:
    for raw in (b'{"content": "A: hi \\ud800"}', b'{"content": ', b"[" * 50_000, b'{"content": 1e999}'):
        resp = client.post("/api/v1/analyses", content=raw, headers={"content-type": "application/json"})
        _one_sentence_error(resp)
    resp = client.post("/api/v1/analyses", content=b'{"content": ', headers={"content-type": "application/json"})
    assert resp.json()["detail"].startswith("the request body is not valid JSON (")


def test_lone_surrogates_in_labels_are_made_storable(client: TestClient) -> None:
    from analyzer.service._intake import clean_filename, clean_optional, split_names
    from analyzer.service._store import valid_text

    assert valid_text("a\ud800b\udc00c\ud83d\ude00\x00") == "a\ufffdb\ufffdc\U0001f600\ufffd"
    assert clean_filename("x\ud800.txt") == "x\ufffd.txt"
    assert clean_optional("Ac\udfffme", "account") == "Ac\ufffdme"
    assert split_names(["Jo\ud800, Al"]) == ("Jo\ufffd", "Al")
    state = client.app.state.walkaway  # type: ignore[attr-defined]
    view = state.store.create(content=b"x", filename="x\ud800.txt", fmt=None, account="A\udc00",
                              seller=["S\ud800"], seller_domain="d\ud800")
    assert (view.filename, view.account, view.seller) == ("x\ufffd.txt", "A\ufffd", ["S\ufffd"])


def test_unexpected_errors_are_json_500_with_a_request_id(
    make_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The catch-all: a bug in a route answers JSON with a sentence and a request id, and is logged."""
    client = make_client()

    async def boom() -> None:
        raise RuntimeError("secret internals")

    app: Any = client.app
    app.add_api_route("/api/v1/boom", boom)
    with caplog.at_level(logging.ERROR, logger="analyzer.service"):
        resp = client.get("/api/v1/boom")
    assert resp.status_code == 500
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    rid = resp.headers["x-request-id"]
    assert body == {"error": "internal_error", "request_id": rid,
                    "detail": f"an internal error stopped this request; it was logged with request id {rid}"}
    assert "secret internals" not in resp.text
    logged = [r for r in caplog.records if rid in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    # Every answer carries a request id, errors or not.
    assert len(client.get("/healthz").headers["x-request-id"]) == 16
