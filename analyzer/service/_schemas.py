"""The JSON shapes of the API (they document themselves in the OpenAPI page at /docs)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from analyzer.service._store import AnalysisView

ReportFormat = Literal["json", "md", "html"]


class AnalysisRequest(BaseModel):
    """A transcript sent as JSON (the alternative to a multipart upload)."""

    model_config = {"extra": "forbid"}

    filename: str = Field(
        default="transcript.txt",
        max_length=255,
        description="A label for the upload; its extension is a format hint (.vtt, .srt, .json, .docx...). "
        "It never names a file on the server.",
    )
    content: str | None = Field(default=None, description="The transcript text (UTF-8).")
    content_base64: str | None = Field(
        default=None, description="The transcript file's bytes, base64-encoded (for .docx or odd encodings)."
    )
    seller: list[str] = Field(
        default_factory=list, description="Names of the people on the selling side (role hint)."
    )
    seller_domain: str | None = Field(
        default=None, description="The seller's company or e-mail domain (role hint), e.g. 'acme.io'."
    )
    account: str | None = Field(
        default=None, max_length=200, description="Optional account (prospect company) name, for filtering."
    )


class Links(BaseModel):
    """Where to read an analysis and its report."""

    self: str = Field(description="This analysis in the API.")
    page: str = Field(description="The human-readable report page.")
    report_json: str = Field(description="The full report as JSON (available once status is 'done').")
    report_md: str = Field(description="The report as Markdown.")
    report_html: str = Field(description="The report as a standalone HTML page.")


class AnalysisOut(BaseModel):
    """One analysis: its status and, once done, its verdict and flags."""

    id: str = Field(description="Opaque id.")
    status: Literal["queued", "running", "done", "failed"] = Field(
        description="queued → running → done or failed; queued/running jobs survive a server restart."
    )
    filename: str = Field(description="The upload's label (never a server path).")
    format: str | None = Field(description="The transcript format detected at upload, e.g. 'vtt' or 'gong'.")
    account: str | None = Field(description="The account name given at upload.")
    seller: list[str] = Field(description="The seller-name hint given at upload.")
    seller_domain: str | None = Field(description="The seller-domain hint given at upload.")
    size: int = Field(description="Size of the upload in bytes.")
    created_at: datetime = Field(description="When it was uploaded (UTC).")
    started_at: datetime | None = Field(description="When the current or last attempt started (UTC).")
    finished_at: datetime | None = Field(description="When it finished (UTC).")
    attempts: int = Field(description="How many times a worker started it (more than 1 after a restart).")
    verdict: Literal["pursue", "qualify_further", "walk_away", "nurture"] | None = Field(
        description="The verdict, once done."
    )
    flags: list[str] = Field(description="Red flags found, as 'category:severity'.")
    error: str | None = Field(description="Why it failed: one sentence (e.g. what is wrong with the transcript).")
    links: Links

    @classmethod
    def of(cls, view: AnalysisView, base: str = "") -> AnalysisOut:
        """The API shape of a stored analysis; ``base`` is the URL prefix (root path) of the app."""
        api = f"{base}/api/v1/analyses/{view.id}"
        return cls(
            id=view.id, status=view.status, filename=view.filename, format=view.format, account=view.account,
            seller=view.seller, seller_domain=view.seller_domain, size=view.size,
            created_at=_utc(view.created_at), started_at=_utc(view.started_at), finished_at=_utc(view.finished_at),
            attempts=view.attempts, verdict=view.verdict,
            flags=view.flags, error=view.error,
            links=Links(self=api, page=f"{base}/analyses/{view.id}", report_json=f"{api}/report.json",
                        report_md=f"{api}/report.md", report_html=f"{api}/report.html"),
        )


class AnalysisList(BaseModel):
    """One page of analyses, newest first."""

    items: list[AnalysisOut] = Field(description="The analyses on this page.")
    total: int = Field(description="How many analyses match the filters in all.")
    limit: int = Field(description="Page size.")
    offset: int = Field(description="Index of the first item of this page.")
    next: str | None = Field(description="URL of the next page, or null on the last one.")


class ErrorOut(BaseModel):
    """Every 4xx/5xx answer of the API."""

    error: str = Field(description="A stable machine-readable code, e.g. 'invalid_transcript'.")
    detail: str = Field(description="One sentence saying what is wrong and what was expected.")
    request_id: str | None = Field(
        default=None, description="Only on a 500 (a bug of ours): the id under which the server logged it."
    )


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None
