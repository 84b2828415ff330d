"""Login sessions kept server-side: the cookie holds a random token, the database its hash and expiry.

Logging out deletes the row, so a copied cookie stops working at once; a session also ends when it
expires, and when the API key changes (each session records which key it proved).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from analyzer.service._db import LoginSession
from analyzer.service._store import Store


def key_id(api_key: str) -> str:
    """A fingerprint of the API key (an HMAC, so the key itself is never stored)."""
    return hmac.new(api_key.encode(), b"walkaway-service-session", hashlib.sha256).hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Sessions:
    """Create, check and revoke login sessions in the service's database (safe to share between threads)."""

    def __init__(self, store: Store, *, lifetime_seconds: int) -> None:
        self._session = store.session_factory
        self.lifetime = timedelta(seconds=lifetime_seconds)

    def create(self, api_key: str) -> str:
        """Start a session for a client that proved ``api_key``; returns the token for its cookie."""
        token = secrets.token_urlsafe(32)
        now = _now()
        with self._session() as s:
            # Opportunistic clean-up: expired rows are useless, and logins are rare enough to pay for it.
            s.execute(delete(LoginSession).where(LoginSession.expires_at < now))
            s.add(LoginSession(token_hash=_hash(token), key_id=key_id(api_key), created_at=now,
                               expires_at=now + self.lifetime))
            s.commit()
        return token

    def valid(self, token: str, api_key: str) -> bool:
        """Whether ``token`` names a live session that proved the current ``api_key``."""
        if not token or len(token) > 256:
            return False
        with self._session() as s:
            row = s.execute(
                select(LoginSession.key_id, LoginSession.expires_at).where(LoginSession.token_hash == _hash(token))
            ).one_or_none()
        if row is None or row.expires_at <= _now():
            return False
        return hmac.compare_digest(row.key_id, key_id(api_key))

    def revoke(self, token: str) -> None:
        """End a session (log out); unknown tokens are ignored."""
        with self._session() as s:
            s.execute(delete(LoginSession).where(LoginSession.token_hash == _hash(token)))
            s.commit()
