"""Request size limits that account for base64, and the per-client upload rate limit."""

from __future__ import annotations

import base64

from analyzer.service._ratelimit import UploadLimiter, retry_after
from analyzer.service._security import request_body_limit
from tests.service.conftest import CALL, AppFactory, upload, wait_done

LIMIT = 300_000


def test_base64_upload_under_the_transcript_limit_is_accepted(make_client: AppFactory) -> None:
    client = make_client(max_upload_bytes=LIMIT)
    content = CALL * (290_000 // len(CALL))  # just under the per-transcript limit
    assert len(content) <= LIMIT < len(base64.b64encode(content))
    resp = client.post("/api/v1/analyses",
                       json={"filename": "call.txt", "content_base64": base64.b64encode(content).decode()})
    assert resp.status_code == 202, resp.text
    assert resp.json()["size"] == len(content)
    assert wait_done(client, resp.json()["id"])["status"] == "done"


def test_too_large_says_what_was_too_large(make_client: AppFactory) -> None:
    client = make_client(max_upload_bytes=LIMIT)
    over = CALL * (310_000 // len(CALL))  # over the transcript limit, yet its base64 fits in a request
    resp = client.post("/api/v1/analyses",
                       json={"filename": "big.txt", "content_base64": base64.b64encode(over).decode()})
    assert resp.status_code == 413
    assert resp.json() == {"error": "too_large",
                           "detail": f"big.txt: the file is {len(over):,} bytes; the limit is 300,000 bytes"}
    body = b"x" * (request_body_limit(LIMIT) + 1)  # the request itself is too large: refused unread
    resp = client.post("/api/v1/analyses", content=body, headers={"content-type": "application/json"})
    assert resp.status_code == 413
    assert resp.json()["detail"] == (
        f"the request body is {len(body):,} bytes; a request may carry at most {request_body_limit(LIMIT):,} "
        "bytes (one transcript of at most 300,000 bytes, base64-encoded, and the form around it)"
    )
    assert request_body_limit(LIMIT) == 400_000 + 64 * 1024


def test_uploads_are_rate_limited_per_client(make_client: AppFactory) -> None:
    client = make_client(uploads_per_minute=1, upload_burst=2, start_worker=False)
    assert [upload(client).status_code for _ in range(2)] == [202, 202]
    resp = upload(client)
    assert resp.status_code == 429
    assert resp.json()["error"] == "rate_limited"
    assert resp.json()["detail"].startswith("too many uploads from this client; try again in ")
    assert 1 <= int(resp.headers["retry-after"]) <= 60
    # The form upload shares the bucket and says so on the page.
    page = client.post("/upload", files=[("file", ("a.txt", CALL))], headers={"accept": "text/html"})
    assert page.status_code == 429
    assert "too many uploads from this client" in page.text
    # Reading is never limited.
    assert client.get("/api/v1/analyses").status_code == 200
    assert client.get("/api/v1/analyses").json()["total"] == 2


def test_rate_limit_is_off_when_zero(make_client: AppFactory) -> None:
    client = make_client(uploads_per_minute=0, upload_burst=1, start_worker=False)
    assert {upload(client).status_code for _ in range(5)} == {202}


def test_token_bucket() -> None:
    now = [0.0]
    limiter = UploadLimiter(per_minute=6, burst=2, clock=lambda: now[0])  # one every 10 s
    assert limiter.take("a") == 0 and limiter.take("a") == 0
    assert limiter.take("a") == 10.0  # empty: the next token is 10 s away
    assert limiter.take("b") == 0  # another client has its own bucket
    now[0] = 10.0
    assert limiter.take("a") == 0
    now[0] = 1000.0
    assert [limiter.take("a") for _ in range(3)][:2] == [0, 0]  # refilled to the burst, not beyond
    assert retry_after(0.2) == "1" and retry_after(10.0) == "10" and retry_after(10.1) == "11"
