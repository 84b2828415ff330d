"""The as-run summary of several runs taken together, e.g. the per-case runs of `score.sh`.

    .venv/bin/python evals/dev/summary.py evals/runs/dev-local/* [--out merged.json]

Prints what `walkaway eval` prints for one run (metrics, per-category scores, verdict confusion) over the
union of the runs' cases, recomputed from their recorded labels and answers; no model is called.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from analyzer.eval.metrics import compute_metrics, summarize
from analyzer.eval.render import print_summary
from analyzer.eval.results import RunResults, load_results


def merge(paths: list[str]) -> RunResults:
    """One run holding every case of ``paths`` (the first run's metadata, summed seconds)."""
    runs = [load_results(p) for p in paths]
    cases = [c for r in runs for c in r.cases]
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise SystemExit("error: a case appears in more than one run")
    repeats = [
        compute_metrics([(c.expected, c.runs[i]) for c in cases if len(c.runs) > i], repeat=i)
        for i in range(max(len(c.runs) for c in cases))
    ]
    meta = runs[0].meta.model_copy(update={"cases": len(cases), "seconds": sum(r.meta.seconds for r in runs)})
    return RunResults(meta=meta, summary=summarize(repeats), repeats=repeats, cases=cases)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--out", type=Path, default=None, help="also write the merged results.json here")
    args = ap.parse_args(argv)
    merged = merge(args.runs)
    print_summary(merged, Console(width=120))
    if args.out is not None:
        merged.write(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
