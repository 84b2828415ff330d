"""The app factory: storage, worker and routes wired together, with errors as one-sentence JSON.

Every answer that is not a success is JSON ``{"error": code, "detail": sentence}`` (or the error page
for a browser): 4xx for anything a client can cause, and a 500 with a request id only for our own bugs,
which the :class:`~analyzer.service._security.Guard` catches and logs with their traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware

from analyzer._errors import AnalyzerError
from analyzer.config import Settings, load_settings
from analyzer.service import _api, _pages
from analyzer.service._config import ServiceConfig, load_service_config
from analyzer.service._intake import UploadError
from analyzer.service._procs import ChildPool, Recipe
from analyzer.service._ratelimit import UploadLimiter
from analyzer.service._security import BodyTooLarge, Guard, too_large_sentence
from analyzer.service._sessions import Sessions
from analyzer.service._state import ServiceState
from analyzer.service._store import Store
from analyzer.service._worker import Analyzer, Worker

log = logging.getLogger(__name__)

_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
                 422: "invalid_request", 429: "rate_limited"}


def create_app(
    settings: Settings | None = None,
    config: ServiceConfig | None = None,
    *,
    analyzer: Analyzer | None = None,
    backend: str | None = None,
    start_worker: bool = True,
) -> FastAPI:
    """Build the service.

    ``settings`` are walkaway's analysis settings (default: from the environment); ``config`` the
    service's own (database, API key, limits; default: from the environment). ``analyzer`` is what runs
    a job, by default ``analyzer.batch.Engine(settings, concurrency=config.concurrency, backend=backend)``,
    the same engine `walkaway batch` uses; tests pass an Engine with an injected analyze function.
    ``start_worker=False`` stores jobs without running them (for maintenance, and restart tests).
    The database is migrated here, so a bad URL fails now with a ConfigError rather than on first use.
    With the default analyzer, analyses run in child processes (``config.analysis_processes``).
    """
    settings = settings or load_settings()
    config = config or load_service_config()
    store = Store(config.resolved_database_url(settings))
    store.migrate()
    recipe: Recipe | None = None
    if analyzer is None:
        from analyzer.batch.engine import Engine

        analyzer = Engine(settings, concurrency=config.concurrency, backend=backend)
        in_processes = config.analysis_processes
        if in_processes is None:
            in_processes = (backend or settings.resolved_backend()) != "local"
        if in_processes:
            recipe = Recipe(settings=settings, backend=backend, database_url=store.url)
    worker = Worker(store, analyzer, concurrency=config.concurrency, poll_seconds=config.poll_seconds,
                    lease_seconds=config.job_lease_seconds, max_attempts=config.max_attempts, processes=recipe)
    sessions = Sessions(store, lifetime_seconds=config.session_seconds)
    children = ChildPool(2)
    state = ServiceState(store=store, worker=worker, config=config, settings=settings, sessions=sessions,
                         uploads=UploadLimiter(config.uploads_per_minute, config.upload_burst), children=children)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_worker:
            await worker.start()
        try:
            yield
        finally:
            await worker.stop()
            await asyncio.to_thread(children.close)
            store.close()

    app = FastAPI(
        title="walkaway",
        version="1",
        summary="Upload sales-call transcripts; get pursue / qualify further / walk away / nurture, with evidence.",
        lifespan=lifespan,
    )
    app.state.walkaway = state
    app.include_router(_api.router)
    app.include_router(_pages.router)
    app.mount("/static", StaticFiles(directory=_pages.HERE / "static"), name="static")
    _install_error_handlers(app)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=config.cors_origins, allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    # Outermost, so that even CORS preflights and unknown paths go through the key check and size limit.
    app.add_middleware(Guard, api_key=config.service_api_key, max_upload_bytes=config.max_upload_bytes,
                       sessions=sessions)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", "")


def _error(request: Request, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)
    return _pages.page(request, "error.html", status_code=status, title=f"Error {status}", message=detail)


def _install_error_handlers(app: FastAPI) -> None:
    async def upload_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UploadError)
        headers = {"Retry-After": "2"} if exc.code == "not_ready" else None
        if exc.retry_after is not None:
            headers = {"Retry-After": exc.retry_after}
        return _error(request, exc.status, exc.code, str(exc), headers)

    async def analyzer_error(request: Request, exc: Exception) -> Response:
        return _error(request, 422, "invalid_input", str(exc))

    async def too_large(request: Request, exc: Exception) -> Response:
        limit = request.app.state.walkaway.config.max_upload_bytes
        return _error(request, 413, "too_large", too_large_sentence(limit))

    async def validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        err: dict[str, Any] = exc.errors()[0]
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        return _error(request, 422, "invalid_request", f"{loc + ': ' if loc else ''}{err.get('msg', 'invalid')}")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return _error(request, exc.status_code, code, detail, dict(exc.headers or {}))

    app.add_exception_handler(UploadError, upload_error)
    app.add_exception_handler(AnalyzerError, analyzer_error)
    app.add_exception_handler(BodyTooLarge, too_large)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
