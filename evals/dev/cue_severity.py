"""What the cue lexicon's severities do to recorded runs: each flag the lexicon raised is put back to the
model's own rating, and the verdict re-decided, without the model.

    .venv/bin/python evals/dev/cue_severity.py RUN [SUITE]

``raise_severity_from_cues`` rates a flag the model found at least as severe as the strongest cue phrase of
its category that the prospect said. A run records only the final severity, so a flag counts as raised by the
lexicon where it is above medium, not ethics (always high), and the strongest cue of its category in the call
(``scan_cues``, deterministic) has exactly that severity; it goes back to medium, the model's rating for
almost every flag (evals/README.md). This is an estimate: a flag the model itself rated high with a cue of the
same severity is lowered too. RUN is a dev run judged by today's ``dev.yaml`` labels unless SUITE is given
(then by the labels the run recorded, and SUITE names the transcripts).
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

from devset import SUITE, labelled_cases, run_pattern

from analyzer.eval.folds import rejudge
from analyzer.eval.metrics import compute_metrics
from analyzer.eval.records import CaseResult, CaseRun, CitedFlag
from analyzer.eval.results import load_results
from analyzer.eval.suite import load_suite
from analyzer.extraction.cues import SEVERITY_RANK, scan_cues
from analyzer.transcript import parse_file


def model_rated(flags: list[CitedFlag], strongest: dict[str, str]) -> tuple[list[CitedFlag], int]:
    """``flags`` with the lexicon's raise undone, and how many were undone."""
    out: list[CitedFlag] = []
    undone = 0
    for f in flags:
        top = strongest.get(f.category)
        if f.category != "ethics" and top == f.severity and SEVERITY_RANK[f.severity] > SEVERITY_RANK["medium"]:
            out.append(f.model_copy(update={"severity": "medium"}))
            undone += 1
        else:
            out.append(f)
    return out, undone


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("run")
    ap.add_argument("suite", nargs="?", type=Path)
    args = ap.parse_args()
    pattern = run_pattern(args.run)
    suite_path: Path = args.suite or SUITE
    cases: list[CaseResult] = (
        [c for f in sorted(glob.glob(pattern)) for c in load_results(f).cases if c.runs]
        if args.suite
        else labelled_cases(pattern)
    )
    entries = {c.id: c for c in load_suite(suite_path, check_files=False).cases}
    before: list[tuple[object, CaseRun]] = []
    after: list[tuple[object, CaseRun]] = []
    undone = 0
    for c in cases:
        entry = entries[c.id]
        transcript = parse_file(suite_path.parent / entry.transcript, seller=entry.seller or None)
        strongest = {
            k: max((cue.severity for *_, cue in found), key=lambda s: SEVERITY_RANK[s])
            for k, found in scan_cues(transcript).items()
            if found
        }
        run = c.runs[0]
        flags, n = model_rated(run.flags, strongest)
        undone += n
        b = rejudge(c, run, run.flags, run.signals)
        a = rejudge(c, run, flags, run.signals)
        before.append((c.expected, b))
        after.append((c.expected, a))
        if a.verdict != b.verdict:
            print(f"  {c.id}: {b.verdict} -> {a.verdict} (label {c.expected.verdict})")
    print(f"{args.run}: {len(cases)} calls, {undone} flags raised by the lexicon put back to medium")
    for name, got in (("as run", before), ("no lexicon severity", after)):
        m = compute_metrics(got, repeat=0)  # type: ignore[arg-type]
        print(
            f"  {name:20} verdict {m.verdict_accuracy:.3f} macro F1 {m.macro_f1 or 0:.3f} "
            f"severity {m.severity_accuracy or 0:.3f}"
        )


if __name__ == "__main__":
    main()
