"""The JSON API, version 1: submit a transcript, poll it, list analyses, fetch the report."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from analyzer.report.model import Report
from analyzer.service._intake import UploadError, prepare, prepare_json
from analyzer.service._schemas import AnalysisList, AnalysisOut, AnalysisRequest, ErrorOut, ReportFormat
from analyzer.service._state import ServiceState, offload, parse_upload, rate_limit_uploads, state_of

router = APIRouter(prefix="/api/v1", tags=["analyses"])

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "Missing or wrong API key."},
    404: {"model": ErrorOut, "description": "No analysis with this id."},
}

_MEDIA = {"json": "application/json", "md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}
# The stand-alone report page may carry its own inline CSS but never runs a script.
REPORT_HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


async def submit(state: ServiceState, request: Request) -> AnalysisOut:
    """Read an upload (multipart or JSON), validate it, store it as a queued job and wake the worker.

    Parsing the JSON body, decoding base64 and parsing the transcript are CPU work on up to tens of
    megabytes: they run off the event loop (see ``parse_upload``), so other requests are served meanwhile."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    max_bytes = state.config.max_upload_bytes
    if ctype == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=50)
        files = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
        if not files:
            raise UploadError("the form has no 'file' part; attach the transcript as 'file'")
        upload = files[0]
        content = await upload.read()
        text = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        sellers = [v for v in form.getlist("seller") if isinstance(v, str)]
        prepared = await parse_upload(
            state, len(content), prepare, content=content, filename=upload.filename, seller=sellers,
            seller_domain=text.get("seller_domain"), account=text.get("account"), max_bytes=max_bytes,
        )
    elif ctype == "application/json":
        raw = await request.body()
        prepared = await parse_upload(state, len(raw), prepare_json, raw=raw, max_bytes=max_bytes)
    else:
        raise UploadError(
            f"unsupported content type {ctype or '(none)'!r}; send multipart/form-data with a 'file' part "
            "or application/json", status=415, code="unsupported_media_type",
        )
    view = await asyncio.to_thread(
        state.store.create, content=prepared.content, filename=prepared.filename, fmt=prepared.format,
        account=prepared.account, seller=prepared.seller, seller_domain=prepared.seller_domain,
    )
    state.worker.wake()
    return AnalysisOut.of(view, request.scope.get("root_path", ""))


@router.post(
    "/analyses",
    status_code=202,
    response_model=AnalysisOut,
    responses={**_ERRORS, 413: {"model": ErrorOut}, 415: {"model": ErrorOut}, 422: {"model": ErrorOut},
               429: {"model": ErrorOut, "description": "Too many uploads from this client; see Retry-After."}},
    dependencies=[Depends(rate_limit_uploads)],
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary", "description": "The transcript."},
                            "seller": {"type": "string", "description": "Seller name(s), comma-separated."},
                            "seller_domain": {"type": "string"},
                            "account": {"type": "string"},
                        },
                    }
                },
                "application/json": {"schema": AnalysisRequest.model_json_schema()},
            },
            "required": True,
        }
    },
)
async def create_analysis(request: Request) -> JSONResponse:
    """Queue one transcript for analysis. Answers 202 with the new analysis; poll its ``links.self``."""
    out = await submit(state_of(request), request)
    return JSONResponse(out.model_dump(mode="json"), status_code=202, headers={"Location": out.links.self})


@router.get("/analyses", response_model=AnalysisList, responses={401: _ERRORS[401]})
async def list_analyses(
    request: Request,
    status: Annotated[Literal["queued", "running", "done", "failed"] | None, Query()] = None,
    verdict: Annotated[Literal["pursue", "qualify_further", "walk_away", "nurture"] | None, Query()] = None,
    account: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AnalysisList:
    """Analyses, newest first, filtered by status, verdict and account; paginated by limit/offset."""
    state = state_of(request)
    views, total = await asyncio.to_thread(
        state.store.page, status=status, verdict=verdict, account=account, limit=limit, offset=offset
    )
    root = request.scope.get("root_path", "")
    nxt = None
    if offset + len(views) < total:
        params = {k: v for k, v in (("status", status), ("verdict", verdict), ("account", account)) if v}
        nxt = f"{root}/api/v1/analyses?" + urlencode({**params, "limit": limit, "offset": offset + limit})
    return AnalysisList(items=[AnalysisOut.of(v, root) for v in views], total=total, limit=limit, offset=offset,
                        next=nxt)


@router.get("/pipeline", responses={401: _ERRORS[401]})
async def pipeline_review(request: Request) -> JSONResponse:
    """The pipeline review over stored analyses that name an account: one row per account, the deals to fire
    first, and per rep the calls held after disqualifying evidence surfaced."""
    from analyzer.service._review import stored_review

    rv = await asyncio.to_thread(stored_review, state_of(request).store)
    return JSONResponse(rv.model_dump(mode="json"))


@router.get("/analyses/{analysis_id}", response_model=AnalysisOut, responses=_ERRORS)
async def get_analysis(request: Request, analysis_id: str) -> AnalysisOut:
    """One analysis: status, detected format, and once done its verdict and flags."""
    state = state_of(request)
    view = await asyncio.to_thread(state.store.get, analysis_id)
    if view is None:
        raise UploadError(f"no analysis with id {analysis_id!r}", status=404, code="not_found")
    return AnalysisOut.of(view, request.scope.get("root_path", ""))


@router.get(
    "/analyses/{analysis_id}/report.{fmt}",
    responses={**_ERRORS, 409: {"model": ErrorOut, "description": "Not finished yet, or failed."},
               200: {"content": {m.split(";")[0]: {} for m in _MEDIA.values()}}},
)
async def get_report(request: Request, analysis_id: str, fmt: ReportFormat) -> Response:
    """The report as JSON (the full ``Report`` model), Markdown or a standalone HTML page."""
    state = state_of(request)
    await _check_done(state, analysis_id)
    raw = await asyncio.to_thread(state.store.report_json, analysis_id)
    if raw is None:
        raise UploadError(f"no analysis with id {analysis_id!r}", status=404, code="not_found")
    # Validating and rendering the report of a long call is seconds of CPU: a thread, or a process if large.
    text = await offload(state, len(raw), render_report, raw, fmt)
    headers = {"Content-Security-Policy": REPORT_HTML_CSP} if fmt == "html" else {}
    if fmt == "md":
        headers["Content-Disposition"] = f'inline; filename="walkaway-{analysis_id}.md"'
    return Response(text, media_type=_MEDIA[fmt], headers=headers)


async def _check_done(state: ServiceState, analysis_id: str) -> None:
    """UploadError (404/409) unless the analysis exists and is done."""
    view = await asyncio.to_thread(state.store.get, analysis_id)
    if view is None:
        raise UploadError(f"no analysis with id {analysis_id!r}", status=404, code="not_found")
    if view.status == "failed":
        raise UploadError(f"the analysis failed: {view.error}", status=409, code="analysis_failed")
    if view.status != "done":
        raise UploadError(f"the analysis is {view.status}; the report is not ready yet", status=409,
                          code="not_ready")


def render_report(raw: str, fmt: ReportFormat) -> str:
    """A stored report (JSON) rendered as ``fmt``: pure, so it can run in a child process."""
    report = Report.model_validate_json(raw)
    if fmt == "json":
        return report.model_dump_json(indent=2)
    from analyzer.report import render

    return render(report, fmt)
