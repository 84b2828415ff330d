"""The guard in front of every route: API key or session, request size limit, security headers, and
the last line of defence against an unstructured 500.

A pure ASGI middleware (rather than a FastAPI dependency) so that nothing can be added later that
forgets to ask for the key: every path needs it except the health check, the login page and the one
stylesheet that page loads. When a key is set, a request is let in by ``Authorization: Bearer <key>``
(compared in constant time) or by the cookie of a live server-side session (see ``_sessions``).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import uuid
from http.cookies import SimpleCookie
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from analyzer.service._sessions import Sessions

log = logging.getLogger("analyzer.service")

COOKIE = "walkaway_session"
# Our own pages load nothing from elsewhere; the CSP makes that a browser-enforced promise.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# FastAPI's /docs page loads Swagger UI from a CDN; it gets the other headers but not our CSP.
_NO_CSP = ("/docs", "/redoc")
# Exact paths, not prefixes: "/login" must not open "/login/../api" or "/loginx".
OPEN_PATHS = frozenset({"/healthz", "/login", "/static/app.css"})
# Room for the multipart envelope and form fields (or the JSON keys) around the largest transcript.
ENVELOPE_BYTES = 64 * 1024


def request_body_limit(max_upload_bytes: int) -> int:
    """The largest request body to read for a transcript of ``max_upload_bytes``: room for base64
    (4 characters per 3 bytes, as a JSON ``content_base64``) and the envelope around it."""
    return -(-max_upload_bytes // 3) * 4 + ENVELOPE_BYTES


class BodyTooLarge(Exception):
    """The request body grew past the limit while streaming (no or false Content-Length)."""


def too_large_sentence(max_upload_bytes: int, size: int | None = None) -> str:
    """Why a request body was refused, naming the request limit and what it allows."""
    limit = request_body_limit(max_upload_bytes)
    what = f"one transcript of at most {max_upload_bytes:,} bytes, base64-encoded, and the form around it"
    if size is None:
        return f"the request body is over {limit:,} bytes, the most a request may carry ({what})"
    return f"the request body is {size:,} bytes; a request may carry at most {limit:,} bytes ({what})"


def _json_response(
    status: int, code: str, detail: str, extra: list[tuple[bytes, bytes]] | None = None,
    request_id: str | None = None,
) -> list[Message]:
    payload = {"error": code, "detail": detail}
    if request_id is not None:
        payload["request_id"] = request_id
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(extra or [])]
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    ]


class Guard:
    """Key or session check, body size limit, security headers and request ids for every HTTP request."""

    def __init__(
        self, app: ASGIApp, *, api_key: str | None, max_upload_bytes: int, sessions: Sessions | None = None
    ) -> None:
        self.app = app
        self.api_key = api_key
        self.max_upload = max_upload_bytes
        self.max_body = request_body_limit(max_upload_bytes)
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope["path"]
        started = False
        csp = not path.startswith(_NO_CSP)

        async def send_with_headers(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
                extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                         (b"x-frame-options", b"DENY"), (b"x-request-id", request_id.encode())]
                # A route that sets its own policy (the standalone report) keeps it: two CSP headers
                # would both apply, and ours would block that page's inline styles.
                if csp and not any(k.lower() == b"content-security-policy" for k, _ in msg.get("headers", [])):
                    extra.append((b"content-security-policy", CSP.encode()))
                msg = {**msg, "headers": [*msg.get("headers", []), *extra]}
            await send(msg)

        try:
            await self._handle(scope, receive, send_with_headers, path)
        except Exception:
            # Nothing should get here (every error a client can cause has a 4xx handler); if a bug does,
            # the traceback goes to our log and the client still gets JSON with a sentence.
            log.exception("request %s (%s %s) failed", request_id, scope.get("method"), path)
            if not started:
                for msg in _json_response(
                    500, "internal_error",
                    f"an internal error stopped this request; it was logged with request id {request_id}",
                    request_id=request_id,
                ):
                    await send_with_headers(msg)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.api_key is not None and path not in OPEN_PATHS and not await self._authorized(headers):
            for msg in self._deny(scope, path):
                await send(msg)
            return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            for msg in _json_response(413, "too_large", too_large_sentence(self.max_upload, int(length))):
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

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            # Raised while a route read the body outside the app's own handlers (e.g. in a dependency).
            for msg in _json_response(413, "too_large", too_large_sentence(self.max_upload)):
                await send(msg)

    async def _authorized(self, headers: dict[str, str]) -> bool:
        assert self.api_key is not None
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        # Constant time (the length aside); the header's own bytes (it was decoded as latin-1) against the
        # key's UTF-8, so a non-ASCII key works too.
        if scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode("latin-1"), self.api_key.encode()):
            return True
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is just "no cookie"
            return False
        morsel = cookie.get(COOKIE)
        if morsel is None or self.sessions is None:
            return False
        return await asyncio.to_thread(self.sessions.valid, morsel.value, self.api_key)

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
