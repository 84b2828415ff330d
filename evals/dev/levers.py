"""What each lever of the windows strategy does, out-of-fold, from one recorded windows run (no model call).

    .venv/bin/python evals/dev/levers.py RUN... [--folds 5] [--json OUT.json]

RUN is a ``walkaway eval --strategy windows`` output (folder or results.json); several are pooled (a
case in two runs counts once, the later run wins). Every variant is refitted inside each training fold
(``analyzer.eval.windowfit``) and scored on the held-out writers, so each row is an out-of-fold figure.
``questions`` is the share of (window, behaviour question) pairs a variant would still ask, the cost
proxy for the levers that skip questions (follow-up questions not counted).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from analyzer.eval import load_results  # noqa: E402
from analyzer.eval.records import CaseResult  # noqa: E402
from analyzer.eval.windowfit import cross_validate_windows, load_transcripts  # noqa: E402
from analyzer.extraction.combine import WindowTuning  # noqa: E402
from analyzer.extraction.windows import load_window_spec  # noqa: E402
from analyzer.taxonomy import CATEGORIES  # noqa: E402


def variants(spec_questions: list[tuple[str, str]]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, WindowTuning fields, fit_windows options)."""
    first: dict[str, str] = {}
    for name, behaviour in spec_questions:
        first.setdefault(name, behaviour)
    not_first = [f"{n}.{b}" for n, b in spec_questions if first[n] != b]
    return [
        ("fitted (calibration and decoy veto chosen per fold)", {}, {}),
        ("raw P(Yes), no calibration", {}, {"calibrate": (False,)}),
        ("calibrated against the window's yes-bias", {}, {"calibrate": (True,)}),
        ("behaviours centred on their training-window median", {}, {"centre": (True,)}),
        ("behaviours not centred", {}, {"centre": (False,)}),
        ("no decoy veto", {}, {"decoy": (1.01,)}),
        ("no severity question (all medium, ethics high)", {"severity_threshold": 1.01}, {"severity": False}),
        ("noisy-or of behaviours instead of max", {"combiner": "noisy_or"}, {}),
        ("logistic combiner (behaviours, spread, cue)", {"combiner": "logistic"}, {}),
        ("first behaviour per category only", {"skip": not_first}, {}),
        ("red flags only where the lexicon matched", {"screen": list(CATEGORIES)}, {}),
        ("ethics only where the lexicon matched", {"screen": ["ethics"]}, {}),
    ]


def asked_share(cases: list[CaseResult], tuning: WindowTuning) -> float:
    total = kept = 0
    for c in cases:
        for rec in c.runs[0].windows:
            for key in rec.scores:
                total += 1
                kept += tuning.asks(key, rec.cue_hits)
    return kept / total if total else 0.0


def _windows(cases: list[CaseResult]) -> int:
    return sum(len(c.runs[0].windows) for c in cases)


def _min_words(case: CaseResult, words: dict[str, int], n: int) -> CaseResult:
    """The case as if windows whose prospect side says fewer than ``n`` words had not been asked."""
    run = case.runs[0]
    kept = [w for w in run.windows if sum(words.get(s, 0) for s in w.sentence_ids) >= n]
    return case.model_copy(update={"runs": [run.model_copy(update={"windows": kept})]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    by_id: dict[str, CaseResult] = {}
    for run in args.runs:
        for c in load_results(run).cases:
            if c.runs and c.runs[0].windows:
                by_id[c.id] = c
    cases = list(by_id.values())
    spec = load_window_spec()
    transcripts = load_transcripts(cases)
    questions = [(n, b.id) for n, b in spec.questions()]
    rows: list[dict[str, Any]] = []
    print(f"{len(cases)} cases, {args.folds} folds grouped by writer; every figure out-of-fold")
    print(
        f"{'variant':54} {'verdict':>7} {'macroF1':>7} {'ethicsR':>7} {'ethFWA':>6} {'evid':>5} {'sev':>5} "
        f"{'questions':>9}"
    )
    words = {
        c.id: {s.id: len(s.text.split()) for turn in t.turns for s in turn.sentences}
        for c in cases
        if (t := transcripts.get(c.id)) is not None
    }
    runs: list[tuple[str, dict[str, Any], dict[str, Any], int]] = [(*v, 0) for v in variants(questions)]
    runs += [(f"only windows with >= {n} prospect words", {}, {}, n) for n in (20, 40)]
    for name, fields, options, min_words in runs:
        base = spec.tuning.model_copy(update=fields)
        subset = [_min_words(c, words.get(c.id, {}), min_words) for c in cases] if min_words else cases
        cv = cross_validate_windows(subset, base, spec.labels(), transcripts, k=args.folds, **options)
        m = cv.out_of_fold

        def f(x: float | None) -> str:
            return "-" if x is None else f"{x:.3f}"

        share = asked_share(subset, base) * _windows(subset) / _windows(cases)
        print(
            f"{name[:54]:54} {f(m.verdict_accuracy):>7} {f(m.macro_f1):>7} {f(m.ethics_recall):>7} "
            f"{m.ethics_false_walk_away:>6} {f(m.evidence_hit_rate):>5} {f(m.severity_accuracy):>5} {share:9.2f}"
        )
        rows.append(
            {
                "variant": name,
                "verdict_accuracy": m.verdict_accuracy,
                "macro_f1": m.macro_f1,
                "ethics_recall": m.ethics_recall,
                "ethics_false_walk_away": m.ethics_false_walk_away,
                "evidence_hit_rate": m.evidence_hit_rate,
                "severity_accuracy": m.severity_accuracy,
                "questions": share,
                "constant_verdict_accuracy": cv.constant.verdict_accuracy,
                "in_sample_verdict_accuracy": cv.in_sample.verdict_accuracy,
                "in_sample_macro_f1": cv.in_sample.macro_f1,
            }
        )
    print(f"constant verdict (most common training verdict), out-of-fold: {rows[0]['constant_verdict_accuracy']:.3f}")
    if args.json is not None:
        args.json.write_text(json.dumps({"cases": len(cases), "folds": args.folds, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
