"""What every route reaches through ``request.app.state``, and the dependencies built on it."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request

from analyzer.config import Settings
from analyzer.service._config import ServiceConfig
from analyzer.service._intake import Upload, UploadError, clean_filename
from analyzer.service._procs import BrokenProcessPool, ChildPool
from analyzer.service._ratelimit import UploadLimiter, retry_after
from analyzer.service._sessions import Sessions
from analyzer.service._store import Store
from analyzer.service._worker import Worker


@dataclass
class ServiceState:
    """The app's store, worker, settings, login sessions, upload rate limiter and CPU-work processes."""

    store: Store
    worker: Worker
    config: ServiceConfig
    settings: Settings
    sessions: Sessions
    uploads: UploadLimiter
    children: ChildPool


T = TypeVar("T")


def state_of(request: Request) -> ServiceState:
    """The state of the app serving this request."""
    state: ServiceState = request.app.state.walkaway
    return state


def client_key(request: Request) -> str:
    """Who is uploading, for the rate limit: the peer address (``serve`` trusts no proxy headers)."""
    return request.client.host if request.client is not None else "unknown"


async def offload(state: ServiceState, size: int, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` off the event loop: in a thread when ``size`` (the bytes it works on) is at
    most ``config.child_process_bytes``, else in a child process (then everything must pickle)."""
    if size <= state.config.child_process_bytes:
        return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))
    return await state.children.run(fn, *args, **kwargs)


async def parse_upload(state: ServiceState, size: int, fn: Callable[..., Upload], /, **kwargs: Any) -> Upload:
    """``fn(**kwargs)`` (``prepare`` or ``prepare_json``) off the event loop (see :func:`offload`); a parser
    process that died answers a 422 sentence."""
    try:
        return await offload(state, size, fn, **kwargs)
    except BrokenProcessPool:
        label = clean_filename(kwargs.get("filename"), "the transcript")
        raise UploadError(
            f"{label}: the parser stopped while reading the file (it may have run out of memory); "
            "expected a call transcript", code="invalid_transcript",
        ) from None


async def rate_limit_uploads(request: Request) -> None:
    """Refuse an upload with 429 and Retry-After when this client has used up its uploads for now."""
    wait = state_of(request).uploads.take(client_key(request))
    if wait > 0:
        after = retry_after(wait)
        raise UploadError(
            f"too many uploads from this client; try again in {after} s", status=429, code="rate_limited",
            retry_after=after,
        )
