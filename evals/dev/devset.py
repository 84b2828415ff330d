"""Helpers shared by the development-set scripts: which calls to score and in what order (writers
interleaved: each writer's 1st call, then each one's 2nd..., so a run stopped part-way is balanced across
writers), the per-case record a scoring script leaves, and the labelled runs and AUC the fitting scripts read."""

from __future__ import annotations

import glob
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from analyzer.eval.records import CaseResult
from analyzer.eval.results import load_results
from analyzer.eval.suite import load_suite
from analyzer.taxonomy import CATEGORIES

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "evals" / "dev.yaml"


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


def cases_to_score(args: Sequence[str]) -> list[dict]:
    """The ``dev.yaml`` entries a scoring script's arguments name (case ids, or ``@FILE`` with one id per
    line), in the order given; every case, writers interleaved, when none is named."""
    wanted = [a for arg in args for a in (Path(arg[1:]).read_text().split() if arg.startswith("@") else [arg])]
    cases: list[dict] = yaml.safe_load(SUITE.read_text())["cases"]
    by_id = {c["id"]: c for c in cases}
    return [by_id[i] for i in wanted] if wanted else order(cases)


def save_record(path: Path, case_id: str, seconds: float, calls: int, hits: int, **fields: Any) -> None:
    """One case's record: its id, cost and the script's own fields (answers per chunk or window)."""
    record = {"id": case_id, "seconds": round(seconds, 1), "calls": calls, "cache_hits": hits, **fields}
    path.write_text(json.dumps(record, indent=1))


def probe_records(folder: str | Path) -> dict[str, dict]:
    """The per-call records a probe left in ``folder`` (``probe_questions.py``), by case id."""
    return {r["id"]: r for r in (json.loads(p.read_text()) for p in Path(folder).glob("*.json"))}


def run_pattern(path: str | Path) -> str:
    """The glob ``labelled_cases`` takes for a run: a folder of per-case runs (``<id>/results.json``) becomes
    ``folder/*``; a run folder holding one results.json, or that file, is taken as it is."""
    p = Path(path)
    return str(p / "*") if (p.is_dir() and not (p / "results.json").exists()) else str(p)


def labelled_cases(pattern: str) -> list[CaseResult]:
    """The finished cases of the runs ``pattern`` matches (a run folder or a glob of them), each with its
    writer and labels from ``dev.yaml`` (so a run scored before a relabel is judged by today's labels)."""
    labelled = {c.id: c for c in load_suite(SUITE, check_files=False).cases}
    return [
        c.model_copy(update={"writer": labelled[c.id].writer, "expected": labelled[c.id].expected})
        for p in sorted(glob.glob(pattern))
        for c in load_results(p).cases
        if c.runs
    ]


def has_label(c: CaseResult, name: str) -> bool:
    """Whether the case is labelled with the flag or signal ``name``."""
    return name in c.expected.flags if name in CATEGORIES else name in (c.expected.signals or [])


def auc(pos: Sequence[float], neg: Sequence[float]) -> float:
    """P(a positive outscores a negative), ties counting half; NaN when either side is empty."""
    if not pos or not neg:
        return float("nan")
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def label_auc(scores: Mapping[str, float], cases: Sequence[CaseResult], name: str) -> float:
    """The AUC of ``scores`` (by case id) against the label ``name`` over ``cases``."""
    pos = [scores[c.id] for c in cases if has_label(c, name)]
    neg = [scores[c.id] for c in cases if not has_label(c, name)]
    return auc(pos, neg)


def cutoff_grid(values: Iterable[float], nudge: float = 1e-4) -> list[float]:
    """Candidate cut-offs for a fit by verdict accuracy: 25 quantiles of ``values`` (each plus ``nudge``, so a
    cut-off there lets that value through or not) and 2.0 (nothing passes)."""
    v = sorted(values)
    return sorted({v[int(i * (len(v) - 1) / 24)] + nudge for i in range(25)} | {2.0})
