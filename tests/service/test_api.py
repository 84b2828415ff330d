"""The JSON API: submit (multipart and JSON), poll, list, reports, and one-sentence 4xx errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from analyzer._errors import TranscriptError
from analyzer.service._intake import clean_filename
from analyzer.transcript import parse_bytes
from tests.service.conftest import CALL, AppFactory, upload, wait_done


def test_multipart_upload_is_queued_then_done(client: TestClient) -> None:
    resp = upload(client, seller="Jordan Ellis", account="Brightline", seller_domain="acme.io")
    assert resp.status_code == 202
    body = resp.json()
    assert body["status"] == "queued"
    assert resp.headers["location"] == f"/api/v1/analyses/{body['id']}"
    assert body["format"] == "plain"  # detected at upload
    assert body["seller"] == ["Jordan Ellis"]
    assert body["account"] == "Brightline"
    done = wait_done(client, body["id"])
    assert done["status"] == "done", done
    assert done["verdict"] == "walk_away"
    assert done["flags"] == ["ethics:high", "budget:medium"]
    assert done["attempts"] == 1
    report = client.get(done["links"]["report_json"]).json()
    assert report["verdict"] == "walk_away"
    # The seller hint reached the parser: Jordan is the seller, Dana the prospect.
    roles = {s["name"]: s["role"] for s in report["speakers"]}
    assert roles == {"Jordan Ellis": "seller", "Dana Price": "prospect"}


def test_json_upload_text_and_base64(client: TestClient) -> None:
    body = {"filename": "a.txt", "content": CALL.decode(), "seller": ["Jordan Ellis"]}
    r1 = client.post("/api/v1/analyses", json=body)
    r2 = client.post("/api/v1/analyses", json={"filename": "b.txt", "content_base64": base64.b64encode(CALL).decode()})
    assert r1.status_code == r2.status_code == 202
    assert wait_done(client, r1.json()["id"])["verdict"] == "walk_away"
    assert wait_done(client, r2.json()["id"])["verdict"] == "walk_away"


def test_reports_in_every_format(client: TestClient) -> None:
    aid = upload(client).json()["id"]
    wait_done(client, aid)
    md = client.get(f"/api/v1/analyses/{aid}/report.md")
    assert md.status_code == 200
    assert md.headers["content-type"].startswith("text/markdown")
    assert "finder's fee" in md.text
    html = client.get(f"/api/v1/analyses/{aid}/report.html")
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    # The standalone report may style itself inline but may never run a script.
    assert "script-src" not in html.headers["content-security-policy"]
    assert html.headers["content-security-policy"].startswith("default-src 'none'")
    js = client.get(f"/api/v1/analyses/{aid}/report.json")
    assert js.headers["content-type"] == "application/json"
    assert json.loads(js.text)["flags"][0]["evidence"][0]["quote"].startswith("Honestly, a finder's fee")
    assert client.get(f"/api/v1/analyses/{aid}/report.pdf").status_code == 422


def test_report_before_done_is_409(make_client: AppFactory) -> None:
    client = make_client(start_worker=False)
    aid = upload(client).json()["id"]
    resp = client.get(f"/api/v1/analyses/{aid}/report.json")
    assert resp.status_code == 409
    assert resp.json() == {"error": "not_ready", "detail": "the analysis is queued; the report is not ready yet"}
    assert resp.headers["retry-after"] == "2"


def test_list_is_paginated_and_filtered(client: TestClient) -> None:
    calm = b"Jordan Ellis: Hello there.\nDana Price: The budget is frozen until next fiscal year.\n"
    ids = [upload(client, account="Acme").json()["id"] for _ in range(3)]
    ids.append(upload(client, content=calm, account="Globex").json()["id"])
    for aid in ids:
        wait_done(client, aid)
    page1 = client.get("/api/v1/analyses", params={"limit": 3}).json()
    assert page1["total"] == 4
    assert len(page1["items"]) == 3
    assert page1["items"][0]["id"] == ids[-1]  # newest first
    page2 = client.get(page1["next"]).json()
    assert [i["id"] for i in page2["items"]] == [ids[0]]
    assert page2["next"] is None
    walk = client.get("/api/v1/analyses", params={"verdict": "walk_away"}).json()
    assert walk["total"] == 3
    assert {i["account"] for i in walk["items"]} == {"Acme"}
    globex = client.get("/api/v1/analyses", params={"account": "Globex"}).json()
    assert [i["verdict"] for i in globex["items"]] == ["qualify_further"]
    assert client.get("/api/v1/analyses", params={"status": "queued"}).json()["total"] == 0


def test_bad_transcript_is_422_with_the_parser_sentence(client: TestClient) -> None:
    resp = upload(client, content=b"%PDF-1.7 binary junk", filename="deck.pdf")
    assert resp.status_code == 422
    body = resp.json()
    assert body["error"] == "invalid_transcript"
    assert body["detail"] == _parser_sentence(b"%PDF-1.7 binary junk", "deck.pdf")
    assert body["detail"].startswith("deck.pdf: ")
    one_voice = b"WEBVTT\n\n00:00.000 --> 00:02.000\nJo: hi there\n"
    resp = upload(client, content=one_voice, filename="solo.vtt")
    assert resp.json() == {"error": "invalid_transcript", "detail": _parser_sentence(one_voice, "solo.vtt")}
    empty = upload(client, content=b"  \n", filename="empty.vtt")
    assert empty.status_code == 422
    assert empty.json()["detail"] == "empty.vtt: the file is empty; expected a call transcript"
    assert client.get("/api/v1/analyses").json()["total"] == 0  # nothing stored


def _parser_sentence(data: bytes, filename: str) -> str:
    with pytest.raises(TranscriptError) as info:
        parse_bytes(data, filename=filename)
    return str(info.value)


def test_request_errors_are_one_sentence(client: TestClient) -> None:
    r = client.post("/api/v1/analyses", content=b"hello", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    assert "multipart/form-data" in r.json()["detail"]
    r = client.post("/api/v1/analyses", json={"filename": "x.txt"})
    assert r.status_code == 422
    assert r.json()["detail"] == (
        "send the transcript as exactly one of 'content' (text) or 'content_base64' (bytes)"
    )
    r = client.post("/api/v1/analyses", json={"content": "a", "colour": "red"})
    assert r.status_code == 422
    assert r.json()["detail"].startswith("colour: Extra inputs are not permitted")
    r = client.post("/api/v1/analyses", json={"content_base64": "***"})
    assert r.json()["detail"] == "'content_base64' is not valid base64"
    r = client.post("/api/v1/analyses", data={"seller": "Jo"}, files={"other": ("a.txt", b"x")})
    assert r.json()["detail"] == "the form has no 'file' part; attach the transcript as 'file'"
    r = client.get("/api/v1/analyses", params={"limit": 0})
    assert r.status_code == 422
    assert r.json()["detail"].startswith("limit: ")
    r = client.get("/api/v1/analyses", params={"verdict": "maybe"})
    assert r.json()["detail"].startswith("verdict: ")
    r = client.get("/api/v1/analyses/nope")
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "detail": "no analysis with id 'nope'"}


def test_upload_size_limit(make_client: AppFactory) -> None:
    client = make_client(max_upload_bytes=1000)
    big = CALL * 10  # 3.7 kB, under the envelope allowance: refused by the per-file check
    r = upload(client, content=big)
    assert r.status_code == 413
    assert r.json()["detail"] == f"call.txt: the file is {len(big):,} bytes; the limit is 1,000 bytes"
    huge = b"x" * 200_000  # over limit + envelope: refused from Content-Length before reading
    r = upload(client, content=huge)
    assert r.status_code == 413
    assert r.json()["error"] == "too_large"

    def stream():  # no Content-Length: the guard counts the bytes as they arrive
        for _ in range(100):
            yield b"y" * 4096

    r = client.post("/api/v1/analyses", content=stream(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["detail"] == (
        "the request body is over 66,872 bytes, the most a request may carry (one transcript of at most "
        "1,000 bytes, base64-encoded, and the form around it)"
    )


def test_filename_is_only_a_label(client: TestClient) -> None:
    vtt = b"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nJo: hi there\n\n00:00:02.000 --> 00:00:04.000\nAl: hello\n"
    r = upload(client, filename="../../etc/passwd.vtt", content=vtt)
    assert r.status_code == 202
    body = r.json()
    assert body["filename"] == "passwd.vtt"
    assert body["format"] == "vtt"  # the extension still hints the format
    r = upload(client, filename="C:\\Users\\x\\call.txt")
    assert r.json()["filename"] == "call.txt"
    assert clean_filename("a/b\x00c\x1b.txt") == "bc.txt"
    assert clean_filename("..") == clean_filename("") == "transcript.txt"
    assert 240 < len(clean_filename("x" * 400 + ".vtt")) <= 255
    assert clean_filename("x" * 400 + ".vtt").endswith(".vtt")


def test_failed_analysis_stores_the_sentence(make_client: AppFactory, tmp_path: Path) -> None:
    from analyzer._errors import ExtractionError
    from tests.service.conftest import engine

    async def broken(**_: object) -> object:
        raise ExtractionError("output stayed invalid after 2 re-asks", chunk_id=3)

    async def crash(**_: object) -> object:
        raise RuntimeError("secret internals")

    client = make_client(analyzer=engine(broken))
    done = wait_done(client, upload(client).json()["id"])
    assert done["status"] == "failed"
    assert done["error"] == "chunk 3: output stayed invalid after 2 re-asks"
    r = client.get(done["links"]["report_json"])
    assert r.status_code == 409
    assert r.json()["error"] == "analysis_failed"

    # A database of its own: on a shared one, the first app's worker may claim this job and fail it its own way.
    client2 = make_client(analyzer=engine(crash), url=f"sqlite:///{tmp_path / 'second.sqlite3'}")
    done = wait_done(client2, upload(client2).json()["id"])
    assert done["error"] == "internal error while analyzing (RuntimeError)"


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) >= {
        "/api/v1/analyses", "/api/v1/analyses/{analysis_id}", "/api/v1/analyses/{analysis_id}/report.{fmt}"
    }
    body = spec["paths"]["/api/v1/analyses"]["post"]["requestBody"]["content"]
    assert set(body) == {"multipart/form-data", "application/json"}
    assert "/" not in spec["paths"]  # pages are not part of the API
    assert client.get("/docs").status_code == 200


def test_cors_is_off_by_default(client: TestClient, make_client: AppFactory) -> None:
    pre = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    r = client.options("/api/v1/analyses", headers=pre)
    assert "access-control-allow-origin" not in r.headers
    r = client.get("/api/v1/analyses", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    allowed = make_client(cors_origins=["https://crm.example"])
    r = allowed.options("/api/v1/analyses", headers={**pre, "Origin": "https://crm.example"})
    assert r.headers["access-control-allow-origin"] == "https://crm.example"
