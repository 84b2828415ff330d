"""What the fixed severities (``analyzer.taxonomy.FIXED_SEVERITY``: ethics is always high) do to recorded runs,
re-decided by the rules without any model call.

    .venv/bin/python evals/dev/fixed_severity.py RUN [RUN ...] [--cases-of OTHER_RUN]

Each RUN is a folder of ``<id>/results.json`` or one results.json; a ``dev`` run is judged by today's
``dev.yaml`` labels, any other by the labels it recorded. Runs recorded before the merge step set fixed
severities carry the model's own rating; this prints each run's metrics as recorded and with every
flag of a fixed-severity category at that severity (a recorded flag does not say whether the seller-speech
rule downgraded it, so all are raised: an upper bound on the change), and the calls whose verdict moved.
``--cases-of OTHER_RUN`` keeps only the calls OTHER_RUN scored (e.g. the 30 calls of ``runs/dev-windows``),
to compare two designs on the same calls.
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

from devset import labelled_cases, run_pattern

from analyzer.eval.folds import rejudge
from analyzer.eval.metrics import compute_metrics
from analyzer.eval.records import CaseResult, CaseRun
from analyzer.eval.results import load_results


def cases(path: str) -> list[CaseResult]:
    pattern = run_pattern(path)
    if "dev" in Path(path).name:
        return labelled_cases(pattern)  # judged by today's dev.yaml labels
    return [c for f in sorted(glob.glob(pattern)) for c in load_results(f).cases if c.runs]


def fixed(case: CaseResult, run: CaseRun) -> CaseRun:
    """``run`` re-decided by the rules: ``rejudge`` rates each flag of a fixed-severity category at that
    severity, as merging findings does today."""
    return rejudge(case, run, run.flags, run.signals)


def line(name: str, got: list[tuple[object, CaseRun]]) -> str:
    m = compute_metrics(got, repeat=0)  # type: ignore[arg-type]
    return (
        f"{name:10} verdict {m.verdict_accuracy:.3f} macro F1 {m.macro_f1 or 0:.3f} "
        f"ethics recall {m.categories['ethics'].recall or 0:.3f} severity {m.severity_accuracy or 0:.3f} "
        f"evidence {m.evidence_hit_rate or 0:.3f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--cases-of", help="only the calls this other run scored")
    args = ap.parse_args()
    only = {c.id for c in cases(args.cases_of)} if args.cases_of else None
    for path in args.runs:
        got = [c for c in cases(path) if only is None or c.id in only]
        before = [(c.expected, c.runs[0]) for c in got]
        after = [(c.expected, fixed(c, c.runs[0])) for c in got]
        print(f"{path}: {len(got)} calls")
        print("  " + line("recorded", before))
        print("  " + line("fixed", after))
        for c, (_, b), (_, a) in zip(got, before, after, strict=True):
            if a.verdict != b.verdict:
                print(f"    {c.id}: {b.verdict} -> {a.verdict} (label {c.expected.verdict})")


if __name__ == "__main__":
    main()
