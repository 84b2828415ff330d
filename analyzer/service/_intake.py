"""Turning an upload into a job: size limit, a safe label, role hints, and a parse that rejects bad input.

The uploaded file name is only ever a label and a format hint: it is reduced to its last path component,
stripped of control characters and never joined to a directory.

Whatever the bytes are, an upload ends either accepted or as an :class:`UploadError` (a 4xx with one
sentence): the parser's own errors keep their sentence, and anything else it raises on hostile input
(deep nesting, huge numbers, odd code points) is turned into one here rather than a 500.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from analyzer._errors import AnalyzerError, TranscriptError
from analyzer.service._store import valid_text

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UploadError(AnalyzerError):
    """An upload the API refuses; carries the HTTP status and a stable code besides the sentence."""

    def __init__(
        self, message: str, *, status: int = 422, code: str = "invalid_request", retry_after: str | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.retry_after = retry_after
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only fields would be lost by the default pickling (uploads are parsed in child processes).
        return (_upload_error, (str(self), self.status, self.code, self.retry_after))


def _upload_error(message: str, status: int, code: str, retry_after: str | None) -> UploadError:
    return UploadError(message, status=status, code=code, retry_after=retry_after)


@dataclass(frozen=True)
class Upload:
    """A validated upload, ready to store."""

    content: bytes
    filename: str
    format: str | None
    seller: tuple[str, ...]
    seller_domain: str | None
    account: str | None


def clean_filename(name: str | None, default: str = "transcript.txt") -> str:
    """The last path component of ``name``, without control characters, at most 255 characters."""
    if not name:
        return default
    name = unicodedata.normalize("NFC", valid_text(_CONTROL.sub("", name))).replace("\\", "/")
    name = _CONTROL.sub("", name.rsplit("/", 1)[-1]).strip()
    if name in ("", ".", ".."):
        return default
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 250 - len(ext)] + dot + ext) if dot and len(ext) < 16 else name[:255]
    return name


def split_names(values: Iterable[str]) -> tuple[str, ...]:
    """Seller names from repeated fields and/or comma-separated lists, trimmed, without duplicates."""
    out: list[str] = []
    for value in values:
        for part in valid_text(_CONTROL.sub("", value)).split(","):
            part = _CONTROL.sub("", part).strip()
            if part and part not in out:
                out.append(part[:200])
    return tuple(out)


def clean_optional(value: str | None, field: str, limit: int = 200) -> str | None:
    """A trimmed optional text field, or None when blank; too long raises UploadError."""
    if value is None:
        return None
    value = valid_text(_CONTROL.sub("", value)).strip()
    if not value:
        return None
    if len(value) > limit:
        raise UploadError(f"{field} is longer than {limit} characters")
    return value


def decode_json_content(content: str | None, content_base64: str | None) -> bytes:
    """The bytes of a JSON request: exactly one of ``content`` and ``content_base64``."""
    if (content is None) == (content_base64 is None):
        raise UploadError("send the transcript as exactly one of 'content' (text) or 'content_base64' (bytes)")
    if content is not None:
        return valid_text(content).encode("utf-8")
    try:
        return base64.b64decode(content_base64 or "", validate=True)
    except (binascii.Error, ValueError):
        raise UploadError("'content_base64' is not valid base64") from None


def check_size(content: bytes, filename: str, max_bytes: int) -> None:
    """Refuse empty and oversized uploads with a sentence that names the file and the limit."""
    if not content.strip():
        raise UploadError(f"{filename}: the file is empty; expected a call transcript", code="invalid_transcript")
    if len(content) > max_bytes:
        raise UploadError(
            f"{filename}: the file is {len(content):,} bytes; the limit is {max_bytes:,} bytes",
            status=413, code="too_large",
        )


def detect_format(
    content: bytes, filename: str, seller: tuple[str, ...], seller_domain: str | None, max_bytes: int
) -> str:
    """Parse the upload once so bad input is refused now, with the parser's sentence; return the format."""
    from analyzer.transcript import parse_bytes

    try:
        transcript = parse_bytes(
            content, filename=filename, fmt=None, seller=seller, seller_domain=seller_domain, max_bytes=max_bytes
        )
    except AnalyzerError:
        raise
    except Exception as exc:
        # A parser bug met by hostile input: the client still gets one sentence; we get the traceback.
        log.warning("the parser raised %s on upload %r", type(exc).__name__, filename, exc_info=True)
        raise TranscriptError(f"{_unreadable(exc)}; expected a call transcript", path=filename) from None
    if not transcript.turns:
        raise TranscriptError("no speaker turns found; expected a call transcript", path=filename)
    return transcript.format


def _unreadable(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "the file is nested too deeply to read"
    if isinstance(exc, MemoryError):
        return "the file needs too much memory to read"
    return f"the file could not be read ({type(exc).__name__})"


def prepare_json(raw: bytes, max_bytes: int) -> Upload:
    """Validate a JSON upload request body (``AnalysisRequest``) and the transcript in it."""
    from analyzer.service._schemas import AnalysisRequest

    try:
        body = AnalysisRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise UploadError(validation_sentence(exc)) from None
    content = decode_json_content(body.content, body.content_base64)
    return prepare(content=content, filename=body.filename, seller=body.seller, seller_domain=body.seller_domain,
                   account=body.account, max_bytes=max_bytes)


def validation_sentence(exc: ValidationError) -> str:
    """The first error of a request body's validation as one sentence, prefixed with the field."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
    msg = str(err.get("msg", "invalid value"))
    if err.get("type") == "json_invalid":
        return f"the request body is not valid JSON ({msg.removeprefix('Invalid JSON: ')})"
    return f"{loc + ': ' if loc else ''}{msg}"


def prepare(
    *,
    content: bytes,
    filename: str | None,
    seller: Iterable[str],
    seller_domain: str | None,
    account: str | None,
    max_bytes: int,
) -> Upload:
    """Validate one upload (size, hints, transcript) and return what to store; raises UploadError."""
    label = clean_filename(filename)
    check_size(content, label, max_bytes)
    names = split_names(seller)
    domain = clean_optional(seller_domain, "seller_domain", 255)
    acct = clean_optional(account, "account")
    try:
        fmt = detect_format(content, label, names, domain, max_bytes)
    except TranscriptError as exc:
        raise UploadError(str(exc), code="invalid_transcript") from None
    return Upload(content=content, filename=label, format=fmt, seller=names, seller_domain=domain, account=acct)
