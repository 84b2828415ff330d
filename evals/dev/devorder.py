"""Helpers shared by the development-set scoring scripts: the order they score calls in (writers
interleaved: each writer's 1st call, then each one's 2nd..., so a run stopped part-way is balanced across
writers) and the per-case record they leave."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def order(cases: list[dict]) -> list[dict]:
    """The suite's cases (``dev.yaml`` entries), writers interleaved."""
    by: dict[str, list[dict]] = {}
    for c in cases:
        by.setdefault(c["writer"], []).append(c)
    out = []
    for i in range(max(map(len, by.values()))):
        for w in sorted(by):
            if i < len(by[w]):
                out.append(by[w][i])
    return out


def save_record(path: Path, case_id: str, seconds: float, calls: int, hits: int, **fields: Any) -> None:
    """One case's record: its id, cost and the script's own fields (answers per chunk or window)."""
    record = {"id": case_id, "seconds": round(seconds, 1), "calls": calls, "cache_hits": hits, **fields}
    path.write_text(json.dumps(record, indent=1))
