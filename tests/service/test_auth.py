"""The optional API key: bearer header for the API, a cookie from the login form for pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from analyzer.service._security import COOKIE, safe_next
from tests.service.conftest import CALL, AppFactory, upload

KEY = "s3cret-key"


@pytest.fixture
def locked(make_client: AppFactory) -> TestClient:
    return make_client(service_api_key=KEY)


def test_api_needs_the_bearer_key(locked: TestClient) -> None:
    r = upload(locked)
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"
    assert r.headers["www-authenticate"].startswith("Bearer")
    for path in ("/api/v1/analyses", "/api/v1/analyses/x", "/api/v1/analyses/x/report.md", "/openapi.json"):
        assert locked.get(path).status_code == 401, path
    assert locked.get("/api/v1/analyses", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = {"Authorization": f"Bearer {KEY}"}
    assert locked.get("/api/v1/analyses", headers=ok).status_code == 200
    r = locked.post("/api/v1/analyses", headers=ok, files={"file": ("a.txt", CALL)})
    assert r.status_code == 202


def test_pages_redirect_to_login_and_the_cookie_opens_them(locked: TestClient) -> None:
    for path in ("/", "/analyses", "/analyses/abc", "/docs"):
        r = locked.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login?next=")
    assert locked.get("/login").status_code == 200
    assert locked.get("/static/app.css").status_code == 200
    assert locked.get("/healthz").json() == {"status": "ok"}

    bad = locked.post("/login", data={"key": "nope", "next": "/analyses"}, follow_redirects=False)
    assert bad.status_code == 401
    assert "That key is not right." in bad.text
    assert COOKIE not in locked.cookies

    good = locked.post("/login", data={"key": KEY, "next": "/analyses"}, follow_redirects=False)
    assert good.status_code == 303
    assert good.headers["location"] == "/analyses"
    set_cookie = good.headers["set-cookie"]
    assert "HttpOnly" in set_cookie
    assert "SameSite=strict" in set_cookie
    assert KEY not in set_cookie  # the cookie holds an HMAC of the key, not the key
    # The cookie now opens pages and the API the pages call.
    assert locked.get("/analyses").status_code == 200
    assert locked.get("/api/v1/analyses").status_code == 200
    out = locked.post("/logout", follow_redirects=False)
    assert out.status_code == 303
    locked.cookies.clear()
    assert locked.get("/analyses", follow_redirects=False).status_code == 303


def test_forged_cookie_is_refused(locked: TestClient) -> None:
    locked.cookies.set(COOKIE, KEY)
    assert locked.get("/api/v1/analyses").status_code == 401


def test_login_redirects_stay_on_this_site() -> None:
    assert safe_next("/analyses?verdict=pursue") == "/analyses?verdict=pursue"
    for evil in ("https://evil.example/", "//evil.example", "/\\evil.example", "", None):
        assert safe_next(evil) == "/"


def test_no_key_means_open(client: TestClient) -> None:
    assert client.get("/api/v1/analyses").status_code == 200
    assert client.get("/", follow_redirects=False).status_code == 200
