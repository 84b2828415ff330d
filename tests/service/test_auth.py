"""The optional API key: bearer header for the API, a server-side session from the login form for pages,
and every route behind one of them except the health check and the login page."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import update
from starlette.routing import Mount, Route

from analyzer.service import _security
from analyzer.service._db import LoginSession
from analyzer.service._security import COOKIE, OPEN_PATHS, safe_next
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
    assert KEY not in set_cookie  # the cookie holds a random session token, not the key
    assert "Max-Age=43200" in set_cookie  # the session expires (12 h by default)
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


def _login(client: TestClient, key: str = KEY) -> str:
    client.cookies.clear()
    resp = client.post("/login", data={"key": key, "next": "/"}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    token = client.cookies.get(COOKIE)
    assert token
    return token


def test_logout_revokes_the_session_server_side(locked: TestClient) -> None:
    token = _login(locked)
    assert locked.get("/api/v1/analyses").status_code == 200
    assert locked.post("/logout", follow_redirects=False).status_code == 303
    assert COOKIE not in locked.cookies  # the browser is told to forget it
    # A copy of the cookie (another tab, a stolen cookie) no longer opens anything.
    locked.cookies.set(COOKIE, token)
    assert locked.get("/api/v1/analyses").status_code == 401
    assert locked.get("/analyses", follow_redirects=False).status_code == 303
    # Each login is a new session; the old one stays revoked.
    assert _login(locked) != token


def test_sessions_expire(locked: TestClient) -> None:
    _login(locked)
    assert locked.get("/api/v1/analyses").status_code == 200
    store = locked.app.state.walkaway.store  # type: ignore[attr-defined]
    with store.session_factory() as s:  # move the session's expiry into the past
        s.execute(update(LoginSession).values(expires_at=datetime(2000, 1, 1)))
        s.commit()
    assert locked.get("/api/v1/analyses").status_code == 401


def test_sessions_end_when_the_key_changes(make_client: AppFactory, sqlite_url: str) -> None:
    first = make_client(service_api_key=KEY)
    token = _login(first)
    second = make_client(service_api_key="another-key")  # same database, new key
    second.cookies.set(COOKIE, token)
    assert second.get("/api/v1/analyses").status_code == 401


def test_the_key_is_compared_in_constant_time(locked: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    assert _security.hmac is hmac
    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert locked.get("/api/v1/analyses", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert calls == [(b"nope", KEY.encode())]
    assert locked.post("/login", data={"key": "nope"}).status_code == 401
    assert calls[-1] == (b"nope", KEY.encode())


def _concrete(path: str) -> str:
    path = path.replace("{fmt}", "json")
    return re.sub(r"\{[^}]+\}", "x", path)


def _requests(routes: Any) -> list[tuple[str, str]]:
    """(method, path) for every route, in included routers too, and every file under a static mount."""
    out: list[tuple[str, str]] = []
    for route in routes:
        if isinstance(route, APIRoute | Route):
            for method in sorted(route.methods or {"GET"}):
                out.append((method, _concrete(route.path)))
        elif isinstance(route, Mount):
            folder = Path(route.app.directory)  # type: ignore[attr-defined]
            out += [("GET", f"{route.path}/{f.relative_to(folder).as_posix()}") for f in folder.rglob("*")
                    if f.is_file()]
        elif hasattr(route, "original_router"):  # FastAPI >= 0.16x keeps include_router()'s routers as such
            assert not route.include_context.prefix  # we include routers as they are
            out += _requests(route.original_router.routes)
        else:  # a new kind of route must be added to this test, not skipped by it
            raise AssertionError(f"unknown route type {type(route).__name__}")
    return out


def test_every_route_needs_the_key(locked: TestClient) -> None:
    requests = _requests(locked.app.routes)  # type: ignore[attr-defined]
    paths = {p for _, p in requests}
    assert {"/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect", "/static/app.js", "/static/app.css",
            "/api/v1/analyses/x/report.json", "/analyses/x", "/healthz", "/login", "/logout", "/upload"} <= paths
    for method, path in requests:
        resp = locked.request(method, path, follow_redirects=False)
        if path in OPEN_PATHS:
            assert resp.status_code not in (401, 303) or path == "/login", (method, path, resp.status_code)
            continue
        assert resp.status_code in (401, 303), (method, path, resp.status_code)
        if resp.status_code == 303:
            assert resp.headers["location"].startswith("/login?next="), (method, path)
        elif method != "HEAD":
            assert resp.json()["error"] == "unauthorized", (method, path)
    # Unknown paths and look-alikes of the open ones are locked too.
    for path in ("/nope", "/login/x", "/loginx", "/healthz/x", "/static/", "/static/../api/v1/analyses"):
        assert locked.get(path, follow_redirects=False).status_code in (401, 303), path


def test_only_the_login_page_and_its_stylesheet_are_open(locked: TestClient) -> None:
    assert {"/healthz", "/login", "/static/app.css"} == OPEN_PATHS
    login = locked.get("/login")
    assert login.status_code == 200
    assets = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', login.text))
    assert assets == {"/static/app.css"}  # the login page loads nothing that is behind the key
    assert locked.get("/static/app.js", follow_redirects=False).status_code == 303
    assert locked.get("/healthz").json() == {"status": "ok"}
