"""A persistent response cache (SQLite in the user folder) in front of any ChatModel.

The key covers everything that can change an answer: backend, model, the messages, the schema and the
request settings. The messages carry the full text of every prompt file involved, so the key is addressed
by content: editing one question re-asks that question only, and every other cached answer stays valid.
A re-run over the same calls therefore makes no LLM call.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from analyzer.extraction.backends.chat import ChatModel, ChatResult, Message

# Changes only when the stored format or the key's make-up changes (old entries then simply miss).
CACHE_NAMESPACE = "walkaway-cache-2"


class ResponseCache:
    """Key/value store of ChatResults; safe for threads and several processes (WAL mode)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # Under WAL, NORMAL stays consistent after a crash (a last answer may be lost, never corrupted)
        # and makes each commit ~10x cheaper: commits run on the event loop between model calls.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._db.commit()

    def get(self, key: str) -> ChatResult | None:
        """The stored result, marked ``from_cache``, or None."""
        with self._lock:
            row = self._db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        data["top_logprobs"] = [tuple(x) for x in data["top_logprobs"]]
        data["from_cache"] = True
        return ChatResult(**data)

    def put(self, key: str, result: ChatResult) -> None:
        """Store a result (last writer wins; both writers computed the same answer)."""
        value = json.dumps(asdict(result))
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)", (key, value))
            self._db.commit()

    def delete(self, key: str) -> None:
        """Drop one entry, if present."""
        with self._lock:
            self._db.execute("DELETE FROM responses WHERE key = ?", (key,))
            self._db.commit()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


class CachedChat:
    """Wraps a ChatModel so identical requests are answered from the cache."""

    def __init__(self, inner: ChatModel, cache: ResponseCache, *, namespace: str, endpoint: str | None = None) -> None:
        self.inner = inner
        # Two endpoints serving the same model name (a proxy, a fine-tune behind the same alias) must not
        # share answers. The embedded model has no endpoint, so its keys are unchanged.
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        self.cache = cache
        self.namespace = namespace
        self.backend = inner.backend
        self.model = inner.model
        self.sequential = inner.sequential
        self.chunk_lock = getattr(inner, "chunk_lock", None)

    def key(
        self, messages: Sequence[Message], max_tokens: int, top_logprobs: int, schema: dict[str, Any] | None
    ) -> str:
        """Stable key of one request."""
        fields: dict[str, Any] = {
            "ns": self.namespace,
            "backend": self.backend,
            "model": self.model,
            "messages": list(messages),
            "max_tokens": max_tokens,
            "top_logprobs": top_logprobs,
            "schema": schema,
        }
        if self.endpoint:
            fields["endpoint"] = self.endpoint
        payload = json.dumps(fields, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        top_logprobs: int = 0,
        schema: dict[str, Any] | None = None,
        schema_name: str = "answer",
    ) -> ChatResult:
        """Cached answer, else the inner model's (stored for next time)."""
        k = self.key(messages, max_tokens, top_logprobs, schema)
        hit = self.cache.get(k)
        if hit is not None:
            return hit
        result = await self.inner.complete(
            messages, max_tokens=max_tokens, top_logprobs=top_logprobs, schema=schema, schema_name=schema_name
        )
        self.cache.put(k, result)
        return result

    def forget(
        self, messages: Sequence[Message], max_tokens: int, top_logprobs: int, schema: dict[str, Any] | None
    ) -> None:
        """Drop one entry (used when a cached answer turned out invalid)."""
        self.cache.delete(self.key(messages, max_tokens, top_logprobs, schema))
