"""How well each question's recorded score separates the calls that have its label from those that do not.

    .venv/bin/python evals/dev/separation.py evals/runs/dev-local/*

Per question: the AUC of the call's score (the best chunk's, as recorded) against the label (the chance
that a labelled call outscores an unlabelled one), and the mean score on each side. No model call; the
shipped cut-offs do not enter it, so it says which questions a better cut-off could help (high AUC) and
which need a better question (AUC near 0.5).
"""

from __future__ import annotations

import argparse

from devset import auc, has_label

from analyzer.eval.results import load_results
from analyzer.taxonomy import CATEGORIES, SIGNALS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("runs", nargs="+")
    cases = [c for p in ap.parse_args().runs for c in load_results(p).cases if c.runs]
    print(f"{'question':24} {'AUC':>5} {'calls with / without':>21} {'mean score with / without':>27}")
    for name in (*CATEGORIES, *SIGNALS):
        pos: list[float] = []
        neg: list[float] = []
        for c in cases:
            run = c.runs[0]
            if name not in run.scores:
                continue
            (pos if has_label(c, name) else neg).append(run.scores[name])
        if pos and neg:
            print(
                f"{name:24} {auc(pos, neg):5.2f} {len(pos):>10} / {len(neg):<8} "
                f"{sum(pos) / len(pos):>14.2f} / {sum(neg) / len(neg):.2f}"
            )


if __name__ == "__main__":
    main()
