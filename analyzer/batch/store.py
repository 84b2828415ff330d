"""The output folder of a batch, written so that a run killed at any instant resumes with nothing lost
and nothing duplicated.

    OUT/
      reports/<id>.json   one Report per transcript (written to a temp file, fsynced, then os.replace)
      results.jsonl       the ledger: one ResultRecord per finished item; appended as items finish and
                          rebuilt (deduplicated, in input order) when the run ends or is interrupted
      summary.csv         id, verdict, flags, tokens, cost, error (+ account, path, status), rebuilt at the end
      .lock               held while a run writes here, so two runs cannot interleave

Work is keyed by ``work_key``: the transcript's content hash, the hints that change roles, and the
settings fingerprint (backend, model, prompts, policy, chunking). A re-run skips an item whose key has an
``ok`` record and whose report file exists; anything else (new, changed, failed, or killed mid-write) is
analyzed again. A killed run can leave at most a torn last ledger line (skipped when read) or a temp
report file (removed on the next start).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from analyzer._errors import ConfigError
from analyzer.batch.inputs import BatchItem
from analyzer.report.model import Report

RESULTS = "results.jsonl"
SUMMARY = "summary.csv"
REPORTS = "reports"
SUMMARY_COLUMNS = (
    "id",
    "verdict",
    "flags",
    "tokens",
    "cost",
    "error",
    "status",
    "complete",
    "account_id",
    "path",
    "report",
)


class ResultRecord(BaseModel):
    """One finished item in results.jsonl: its outcome, or why it failed."""

    id: str = Field(description="The item's id (path as given, or the manifest's id).")
    key: str = Field(description="Work key: content hash + hints + settings fingerprint.")
    path: str = Field(description="The transcript file.")
    account_id: str | None = None
    date: str | None = Field(default=None, description="The call's date from the manifest (ISO).")
    status: Literal["ok", "error"]
    verdict: str | None = None
    flags: list[str] = Field(default_factory=list, description="'category:severity' for each red flag.")
    complete: bool = Field(default=True, description="False when a chunk failed even after retries.")
    tokens: int = Field(default=0, description="Prompt plus completion tokens of this analysis.")
    cost_usd: float = 0.0
    llm_calls: int = Field(default=0, description="Calls that reached the endpoint (cache hits excluded).")
    seconds: float = 0.0
    report: str | None = Field(default=None, description="The report file, relative to the output folder.")
    error: str | None = Field(default=None, description="Why the item failed, one sentence.")
    error_type: str | None = Field(default=None, description="The error class, e.g. 'TranscriptError'.")

    @field_validator("id", "path", "error", "account_id", mode="before")
    @classmethod
    def _valid_utf8(cls, value: object) -> object:
        # A file name with undecodable bytes (surrogate escapes) or an error quoting a lone surrogate
        # must not make the ledger line unwritable: that would lose the item's outcome.
        if isinstance(value, str):
            return value.encode("utf-8", "replace").decode("utf-8")
        return value


def content_hash(data: bytes) -> str:
    """sha256 of a transcript's bytes."""
    return hashlib.sha256(data).hexdigest()


def work_key(item: BatchItem, digest: str, fingerprint: str) -> str:
    """The identity of one unit of work: same key, same result."""
    payload: dict[str, object] = {
        "content": digest,
        # The extension picks the parser when detection is ambiguous, so it is part of the input.
        "suffix": item.path.suffix.lower(),
        "seller": list(item.seller),
        "seller_domain": item.seller_domain,
        "settings": fingerprint,
    }
    if item.account_id is not None:
        # A call of an account is also asked the account behaviours: a different report. Only added when
        # set, so the keys of every other item (and the batches they resume) are unchanged.
        payload["behaviours"] = True
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def report_name(item_id: str) -> str:
    """File name of an item's report: the id made file-safe, plus a hash when that changed it."""
    slug = _UNSAFE.sub("_", item_id.replace("/", "__")).strip("._") or "item"
    if slug != item_id:
        slug = f"{slug[:150]}-{hashlib.sha1(item_id.encode('utf-8', 'replace')).hexdigest()[:8]}"
    return f"{slug}.json"


def _atomic_write(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


class RunStore:
    """Reads and writes one batch output folder; use as a context manager to hold its lock."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.reports = out / REPORTS
        self.results = out / RESULTS
        self.summary = out / SUMMARY
        self._lock_fh: io.BufferedRandom | None = None

    def __enter__(self) -> RunStore:
        try:
            self.reports.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{self.out}: cannot create the output folder ({exc.strerror})") from None
        self._lock()
        for stale in self.reports.glob(".*.tmp"):
            stale.unlink(missing_ok=True)  # half-written reports from a killed run
        for stale in self.out.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        self._drop_torn_tail()
        return self

    def _drop_torn_tail(self) -> None:
        # A kill mid-append can leave a last line without its newline; the next append would be glued
        # onto it and both records lost, so cut the ledger back to its last complete line.
        try:
            with open(self.results, "r+b") as fh:
                data = fh.read()
                if data and not data.endswith(b"\n"):
                    fh.truncate(data.rfind(b"\n") + 1)
        except FileNotFoundError:
            pass

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._lock_fh is not None:
            self._lock_fh.close()  # closing the file releases the lock
            self._lock_fh = None

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory lock, runs must not overlap
            return
        fh = open(self.out / ".lock", "a+b")  # noqa: SIM115 - held open for the run's lifetime
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise ConfigError(f"{self.out}: another walkaway batch is writing to this folder") from None
        self._lock_fh = fh

    # ----------------------------------------------------------- reading

    def load(self) -> dict[tuple[str, str], ResultRecord]:
        """Every record in results.jsonl by (id, key), the last one winning; torn lines are skipped."""
        records: dict[tuple[str, str], ResultRecord] = {}
        for record in self._read_lines():
            records[(record.id, record.key)] = record
        return records

    def _read_lines(self) -> Iterator[ResultRecord]:
        try:
            text = self.results.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                yield ResultRecord.model_validate_json(line)
            except ValidationError:
                continue  # a line torn by a kill mid-append; that item simply runs again

    def is_done(self, record: ResultRecord | None) -> bool:
        """True when the record is a success whose report file is still there."""
        return (
            record is not None
            and record.status == "ok"
            and record.report is not None
            and (self.out / record.report).is_file()
        )

    # ----------------------------------------------------------- writing

    def write_report(self, item: BatchItem, report: Report) -> str:
        """Write the item's report atomically; returns its path relative to the output folder."""
        name = report_name(item.id)
        _atomic_write(self.reports / name, report.model_dump_json(indent=2).encode())
        return f"{REPORTS}/{name}"

    def append(self, record: ResultRecord) -> None:
        """Append one record to the ledger in a single write, flushed to disk."""
        line = (record.model_dump_json() + "\n").encode()
        fd = os.open(self.results, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def finalize(self, items: Sequence[BatchItem], keys: dict[str, str]) -> list[ResultRecord]:
        """Rebuild results.jsonl (one line per finished item, input order) and summary.csv atomically.

        ``keys`` maps item id to its current work key; records of older keys (the file or settings
        changed since) and of items no longer in the batch are dropped. Returns the kept records.
        """
        records = self.load()
        kept: list[ResultRecord] = []
        for item in items:
            key = keys.get(item.id)
            record = records.get((item.id, key)) if key is not None else None
            if record is not None:
                kept.append(record)
        body = "".join(r.model_dump_json() + "\n" for r in kept)
        _atomic_write(self.results, body.encode())
        _atomic_write(self.summary, summary_csv(kept).encode())
        return kept


def summary_csv(records: Iterable[ResultRecord]) -> str:
    """summary.csv's text."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for r in records:
        writer.writerow(
            [
                r.id,
                r.verdict or "",
                ";".join(r.flags),
                r.tokens,
                f"{r.cost_usd:.6f}",
                r.error or "",
                r.status,
                str(r.complete).lower(),
                r.account_id or "",
                r.path,
                r.report or "",
            ]
        )
    return buf.getvalue()


def read_bytes(path: Path, limit: int) -> bytes:
    """A transcript's bytes, with an unreadable, oversized or non-regular file (a FIFO or a device would
    block the batch forever) reported in one sentence, as the parser reports it."""
    from analyzer.transcript import read_transcript_bytes

    return read_transcript_bytes(path, limit)
