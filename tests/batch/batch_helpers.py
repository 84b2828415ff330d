"""A scripted analyze function standing in for the pipeline in engine/CLI/resume tests."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from analyzer._errors import BackendError, ExtractionError, TranscriptError
from analyzer.extraction.findings import Flag, Usage
from analyzer.report.model import Report
from analyzer.taxonomy import CATEGORIES, VERDICTS


class ScriptedAnalyze:
    """Deterministic fake of ``analyze_async``: the verdict and flags follow from the content hash.

    ``fail`` maps a content substring to how many times analyses of that content fail before succeeding:
    with ExtractionError (unusable model output), or BackendError when the substring contains ``down`` (an
    endpoint that kept failing); content containing ``BAD`` raises TranscriptError every time.
    """

    def __init__(self, *, delay: float = 0.0, fail: dict[str, int] | None = None, calls: int = 3) -> None:
        self.delay = delay
        self.fail = dict(fail or {})
        self.calls_per_item = calls
        self.invocations = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.seen: list[dict[str, Any]] = []

    async def __call__(
        self,
        path: str | Path | None = None,
        *,
        data: bytes | None = None,
        filename: str | None = None,
        settings: Any = None,
        seller: Sequence[str] = (),
        seller_domain: str | None = None,
        backend: str | None = None,
        **_: Any,
    ) -> Report:
        self.invocations += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if data is None:
                assert path is not None
                data = Path(path).read_bytes()
                filename = Path(path).name
            self.seen.append(
                {
                    "filename": filename,
                    "seller": tuple(seller),
                    "seller_domain": seller_domain,
                    "use_cache": _.get("use_cache"),
                }
            )
            await asyncio.sleep(self.delay)
            text = data.decode()
            if "BAD" in text:
                raise TranscriptError("no speaker turns found", path=filename, line=1)
            for needle, left in list(self.fail.items()):
                if needle in text and left > 0:
                    self.fail[needle] = left - 1
                    if "down" in needle:
                        raise BackendError(f"endpoint returned 500 for {filename}")
                    raise ExtractionError("evidence stayed invalid after 2 re-asks", chunk_id=0)
            return fake_report(data, filename or "upload", seller)
        finally:
            self.in_flight -= 1


def fake_report(data: bytes, source: str, seller: Sequence[str] = ()) -> Report:
    """The report the scripted analysis gives for this content (seller hints shift the verdict)."""
    digest = hashlib.sha256(data + "|".join(seller).encode()).digest()
    verdict = VERDICTS[digest[0] % len(VERDICTS)]
    n_flags = digest[9] % 3
    flags = [Flag(category=CATEGORIES[digest[i] % len(CATEGORIES)], severity="medium") for i in range(1, 1 + n_flags)]
    usage = Usage(calls=3, prompt_tokens=100 + digest[2], completion_tokens=5, cost_usd=0.001)
    return Report(source=source, verdict=verdict, flags=flags, usage=usage, backend="fake", model="scripted")


@pytest.fixture
def scripted() -> Callable[..., ScriptedAnalyze]:
    """Factory of scripted analyze functions."""
    return ScriptedAnalyze
