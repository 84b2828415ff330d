"""The guard in front of every route: API key, request size limit, and security headers.

A pure ASGI middleware (rather than a FastAPI dependency) so that nothing can be added later that
forgets to ask for the key: every path needs it except the login form, static assets and the health check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from http.cookies import SimpleCookie
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "walkaway_session"
# Our own pages load nothing from elsewhere; the CSP makes that a browser-enforced promise.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# FastAPI's /docs page loads Swagger UI from a CDN; it gets the other headers but not our CSP.
_NO_CSP = ("/docs", "/redoc")
_OPEN = ("/login", "/static/", "/healthz")
# Room for the multipart envelope and form fields around a file of the maximum size.
ENVELOPE_BYTES = 64 * 1024


def session_token(api_key: str) -> str:
    """The cookie value for a key: an HMAC of it, so the cookie never holds the key itself."""
    return hmac.new(api_key.encode(), b"walkaway-service-session", hashlib.sha256).hexdigest()


class BodyTooLarge(Exception):
    """The request body grew past the limit while streaming (no or false Content-Length)."""


def _json_response(
    status: int, code: str, detail: str, extra: list[tuple[bytes, bytes]] | None = None
) -> list[Message]:
    body = json.dumps({"error": code, "detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(extra or [])]
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    ]


class Guard:
    """API key check, body size limit and security headers for every HTTP request."""

    def __init__(self, app: ASGIApp, *, api_key: str | None, max_body: int) -> None:
        self.app = app
        self.api_key = api_key
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.api_key is not None and not path.startswith(_OPEN) and not self._authorized(headers):
            for msg in self._deny(scope, path):
                await send(msg)
            return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            for msg in _json_response(413, "too_large", f"the request is {int(length):,} bytes; the limit is "
                                      f"{self.max_body - ENVELOPE_BYTES:,} bytes per transcript"):
                await send(msg)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge()
            return msg

        csp = not path.startswith(_NO_CSP)

        async def send_with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                         (b"x-frame-options", b"DENY")]
                # A route that sets its own policy (the standalone report) keeps it: two CSP headers
                # would both apply, and ours would block that page's inline styles.
                if csp and not any(k.lower() == b"content-security-policy" for k, _ in msg.get("headers", [])):
                    extra.append((b"content-security-policy", CSP.encode()))
                msg = {**msg, "headers": [*msg.get("headers", []), *extra]}
            await send(msg)

        await self.app(scope, limited_receive, send_with_headers)

    def _authorized(self, headers: dict[str, str]) -> bool:
        assert self.api_key is not None
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.api_key.encode()):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is just "no cookie"
            return False
        morsel = cookie.get(COOKIE)
        return morsel is not None and hmac.compare_digest(morsel.value.encode(), session_token(self.api_key).encode())

    def _deny(self, scope: Scope, path: str) -> list[Message]:
        wants_page = not (path.startswith("/api/") or path == "/openapi.json")
        if wants_page and scope["method"] in ("GET", "HEAD"):
            target = path + (("?" + scope["query_string"].decode("latin-1")) if scope["query_string"] else "")
            location = f"{scope.get('root_path', '')}/login?next={quote(target, safe='')}"
            return [
                {"type": "http.response.start", "status": 303,
                 "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")]},
                {"type": "http.response.body", "body": b""},
            ]
        return _json_response(
            401, "unauthorized", "this service needs an API key: send 'Authorization: Bearer <key>'",
            [(b"www-authenticate", b'Bearer realm="walkaway"')],
        )


def safe_next(target: str | None) -> str:
    """A post-login redirect target limited to this site (no scheme, no host, no '//')."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target

