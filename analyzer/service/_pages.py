"""The web pages: upload, progress, the report with highlighted evidence, past analyses, login.

Jinja2 with autoescaping on for every template, so transcript text can never become markup; the
pages load only this app's own CSS and JS (the Content-Security-Policy enforces it).
"""

from __future__ import annotations

import asyncio
import hmac
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from analyzer.report._common import coaching_lines
from analyzer.report.model import Report
from analyzer.service._intake import UploadError, prepare
from analyzer.service._security import COOKIE, safe_next
from analyzer.service._state import offload, parse_upload, rate_limit_uploads, state_of
from analyzer.service._store import AnalysisView
from analyzer.taxonomy import SEVERITY_RANK, VERDICTS

HERE = Path(__file__).resolve().parent
router = APIRouter(include_in_schema=False)

VERDICT_LABELS = {
    "pursue": "Pursue",
    "qualify_further": "Qualify further",
    "walk_away": "Walk away",
    "nurture": "Nurture",
}
VERDICT_BLURBS = {
    "pursue": "Qualified: need, budget and authority are evidenced, and no serious red flag was heard.",
    "qualify_further": "Open questions or medium flags that more discovery can still resolve.",
    "walk_away": "Disqualifying evidence. Decline courteously and leave the door open.",
    "nurture": "The prospect declined or the timing is off, and nothing disqualifying was said.",
}
PAGE_SIZE = 25


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(verdict_labels=VERDICT_LABELS, verdicts=VERDICTS)
    env.filters["label"] = lambda v: str(v).replace("_", " ")
    env.filters["when"] = lambda d: d.strftime("%Y-%m-%d %H:%M UTC") if d else ""
    env.filters["clock"] = _clock
    return env


ENV = _env()


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page template with what every page needs."""
    return HTMLResponse(render(template, **_common(request), **context), status_code=status_code)


def render(template: str, **context: Any) -> str:
    """A template rendered with ``context`` (which must hold ``root`` and ``auth``)."""
    return ENV.get_template(template).render(**context)


def _common(request: Request) -> dict[str, Any]:
    return {"root": request.scope.get("root_path", ""), "auth": state_of(request).config.service_api_key is not None}


def render_analysis(view: AnalysisView, raw: str | None, root: str, auth: bool) -> str:
    """The analysis page: progress, or the report (stored JSON) with its evidence highlighted. Pure, so
    the report of a long call (seconds of CPU) can be rendered in a child process."""
    context: dict[str, Any] = {"a": view}
    if raw is not None:
        context.update(report_view(Report.model_validate_json(raw)))
    return render("analysis.html", root=root, auth=auth, **context)


# -- report view model -------------------------------------------------------------------------------


@dataclass
class Mark:
    """Why a sentence is highlighted: a flag or signal citing it."""

    kind: str  # "flag" or "signal"
    label: str
    severity: str | None = None


@dataclass
class SentenceView:
    """A transcript sentence and the marks on it."""

    id: str
    text: str
    marks: list[Mark] = field(default_factory=list)

    @property
    def css(self) -> str:
        """The highlight class: the worst flag severity, else 'signal'."""
        sev = [m.severity for m in self.marks if m.kind == "flag" and m.severity]
        if sev:
            return "sev-" + max(sev, key=lambda s: SEVERITY_RANK.get(s, 0))  # type: ignore[call-overload]
        return "signal" if self.marks else ""

    @property
    def title(self) -> str:
        """Tooltip text naming what cites this sentence."""
        return "; ".join(f"{m.label} ({m.severity})" if m.severity else m.label for m in self.marks)


@dataclass
class TurnView:
    """A transcript turn for the page."""

    id: str
    speaker: str
    role: str
    start: float | None
    sentences: list[SentenceView]


def report_view(report: Report) -> dict[str, Any]:
    """Everything the report template needs, with evidence mapped onto transcript sentences."""
    marks: dict[str, list[Mark]] = {}
    flags = sorted(report.flags, key=lambda f: -SEVERITY_RANK.get(f.severity, 0))
    for flag in flags:
        for ev in flag.evidence:
            marks.setdefault(ev.sentence_id, []).append(Mark("flag", flag.category.replace("_", " "), flag.severity))
    for sig in report.signals:
        for ev in sig.evidence:
            marks.setdefault(ev.sentence_id, []).append(Mark("signal", sig.signal.replace("_", " ")))
    turns: list[TurnView] = []
    if report.transcript is not None:
        for t in report.transcript.turns:
            sents = [SentenceView(s.id, s.text, marks.get(s.id, [])) for s in t.sentences]
            if not sents:
                sents = [SentenceView(t.id, t.text, marks.get(t.id, []))]
            turns.append(TurnView(t.id, t.speaker, t.role, t.start, sents))
    return {
        "report": report,
        "flags": flags,
        "turns": turns,
        "highlighted": sum(1 for t in turns for s in t.sentences if s.marks),
        "verdict_label": VERDICT_LABELS.get(report.verdict, report.verdict),
        "verdict_blurb": VERDICT_BLURBS.get(report.verdict, ""),
        "coaching": coaching_lines(report),
    }


# -- routes ------------------------------------------------------------------------------------------


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, str]:
    """Liveness: answers without the API key and says nothing about the data."""
    return {"status": "ok"}


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    """The upload page, with the most recent analyses below it."""
    return await _index(request)


async def _index(request: Request, *, error: str | None = None, status: int = 200) -> HTMLResponse:
    state = state_of(request)
    recent, _ = await asyncio.to_thread(state.store.page, limit=8)
    accounts = await asyncio.to_thread(state.store.accounts)
    return page(request, "index.html", status_code=status, recent=recent, accounts=accounts, error=error,
                max_mb=state.config.max_upload_bytes / 1_000_000, max_bytes=state.config.max_upload_bytes)


@router.post("/upload", dependencies=[Depends(rate_limit_uploads)])
async def upload_form(request: Request) -> Response:
    """The upload form without JavaScript: queue every file, then show it (or the list for several)."""
    state = state_of(request)
    form = await request.form(max_files=50, max_fields=50)
    files = [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]
    if not files:
        return await _index(request, error="Choose at least one transcript file.", status=422)
    sellers = [v for v in form.getlist("seller") if isinstance(v, str)]
    domain = form.get("seller_domain")
    account = form.get("account")
    prepared = []
    try:
        for f in files:
            content = await f.read()
            prepared.append(await parse_upload(
                state, len(content), prepare, content=content, filename=f.filename, seller=sellers,
                seller_domain=domain if isinstance(domain, str) else None,
                account=account if isinstance(account, str) else None, max_bytes=state.config.max_upload_bytes,
            ))
    except UploadError as exc:
        return await _index(request, error=str(exc), status=exc.status)
    ids = []
    for p in prepared:
        view = await asyncio.to_thread(
            state.store.create, content=p.content, filename=p.filename, fmt=p.format, account=p.account,
            seller=p.seller, seller_domain=p.seller_domain,
        )
        ids.append(view.id)
    state.worker.wake()
    root = request.scope.get("root_path", "")
    target = f"{root}/analyses/{ids[0]}" if len(ids) == 1 else f"{root}/analyses"
    return RedirectResponse(target, status_code=303)


@router.get("/analyses", response_class=HTMLResponse)
async def analyses_page(
    request: Request, verdict: str = "", account: str = "", status: str = "", page_no: int = 1
) -> HTMLResponse:
    """Past analyses, newest first, filterable by verdict, account and status."""
    state = state_of(request)
    verdict = verdict if verdict in VERDICTS else ""
    status = status if status in ("queued", "running", "done", "failed") else ""
    page_no = max(1, page_no)
    views, total = await asyncio.to_thread(
        state.store.page, verdict=verdict or None, account=account or None, status=status or None,
        limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE,
    )
    accounts = await asyncio.to_thread(state.store.accounts)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    query = {k: v for k, v in (("verdict", verdict), ("account", account), ("status", status)) if v}

    def page_link(n: int) -> str:
        return "?" + urlencode({**query, "page_no": n})

    return page(request, "list.html", items=views, total=total, accounts=accounts, verdict=verdict,
                account=account, status=status, page_no=page_no, pages=pages, page_link=page_link)


@router.get("/pipeline", response_class=HTMLResponse)
async def pipeline_page(request: Request) -> HTMLResponse:
    """The manager's pipeline review of the stored accounts (see analyzer/accounts/review.py)."""
    from analyzer.service._review import stored_review

    rv = await asyncio.to_thread(stored_review, state_of(request).store)
    return page(request, "pipeline.html", review=rv)


@router.get("/analyses/{analysis_id}", response_class=HTMLResponse)
async def analysis_page(request: Request, analysis_id: str) -> HTMLResponse:
    """The report of one analysis, or its progress while it is queued or running."""
    state = state_of(request)
    view = await asyncio.to_thread(state.store.get, analysis_id)
    if view is None:
        return page(request, "error.html", status_code=404, title="Not found",
                    message="There is no analysis with this id.")
    raw = await asyncio.to_thread(state.store.report_json, analysis_id) if view.status == "done" else None
    html = await offload(state, len(raw or ""), render_analysis, view, raw, **_common(request))
    return HTMLResponse(html)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/") -> HTMLResponse:
    """The small form that trades the API key for a session cookie (open without the key)."""
    return page(request, "login.html", next=safe_next(next), error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the key; on success start a server-side session, set its cookie, go where the user was going."""
    state = state_of(request)
    form = await request.form(max_files=0, max_fields=5)
    key = form.get("key")
    target = safe_next(form.get("next") if isinstance(form.get("next"), str) else None)  # type: ignore[arg-type]
    expected = state.config.service_api_key
    if expected is None:
        return RedirectResponse(target, status_code=303)
    if not isinstance(key, str) or not hmac.compare_digest(
        key.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    ):
        return page(request, "login.html", status_code=401, next=target, error="That key is not right.")
    token = await asyncio.to_thread(state.sessions.create, expected)
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(COOKIE, token, max_age=state.config.session_seconds, httponly=True, samesite="strict",
                    secure=request.url.scheme == "https", path="/")
    return resp


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session server-side (the cookie stops working everywhere) and forget the cookie."""
    token = request.cookies.get(COOKIE)
    if token:
        await asyncio.to_thread(state_of(request).sessions.revoke, token)
    resp = RedirectResponse(f"{request.scope.get('root_path', '')}/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return resp
