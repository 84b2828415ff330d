"""Lever check for the ``chunks`` design: does a per-label logistic regression over *all* 13 recorded
question scores (and the lexicon's hits) decide flags and signals better than each question's own cut-off?

    .venv/bin/python evals/dev/chunk_combiner.py [--base evals/runs/dev-ethics-oof] [--only prospect_declined ...]

Issue 13 item 4 asks for a small regularised model per category over its behaviour scores; with today's
questions the nearest thing is the other questions' scores (a call with an agreed next step is rarely a
decline). Per label, fitted on four folds of writers and applied to the fifth (``analyzer/eval/folds.py``):
L2 logistic regression, class-balanced, on the 13 call-level scores and 13 cue-hit bits; the label is raised
when the predicted probability reaches 0.5. The held-out calls are re-decided from their recorded run with
the replaced labels' pass/fail taken from the combiner, every other question as the base run found it. A
flag the run did not raise that now passes gets severity medium. No model call.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
from devset import has_label, labelled_cases
from sklearn.linear_model import LogisticRegression

from analyzer.eval.folds import Cutoffs, redecide, run_folds
from analyzer.eval.records import CaseResult
from analyzer.taxonomy import CATEGORIES, SIGNALS

QUESTIONS = (*CATEGORIES, *SIGNALS)


def features(c: CaseResult) -> list[float]:
    run = c.runs[0]
    return [run.scores.get(q, 0.0) for q in QUESTIONS] + [float(q in run.cue_hits) for q in QUESTIONS]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--base", default="evals/runs/dev-ethics-oof")
    ap.add_argument("--only", nargs="*", default=None, help="labels to replace (default: each one alone, then all)")
    ap.add_argument("-C", type=float, default=0.5, help="inverse L2 strength")
    args = ap.parse_args()
    cases = [c for c in labelled_cases(args.base) if c.runs[0].scores]

    def run_with(replace: Sequence[str]) -> object:
        def fit(train: Sequence[CaseResult]) -> dict[str, LogisticRegression]:
            x = np.array([features(c) for c in train])
            models = {}
            for name in replace:
                y = np.array([has_label(c, name) for c in train])
                models[name] = LogisticRegression(C=args.C, class_weight="balanced", max_iter=2000).fit(x, y)
            return models

        def apply(c: CaseResult, models: dict[str, LogisticRegression]) -> object:
            run = c.runs[0]
            x = np.array([features(c)])
            scores = dict(run.scores)
            for name, m in models.items():
                scores[name] = float(m.predict_proba(x)[0, 1])
            new = c.model_copy(update={"runs": [run.model_copy(update={"scores": scores})]})
            # Cut-offs name the replaced labels alone: every other question keeps what the base run said.
            cut: Cutoffs = dict.fromkeys(models, (0.5, 0.5))
            before: Cutoffs = dict.fromkeys(models, (2.0, 2.0))
            return redecide(new, cut, before)

        return run_folds(cases, fit, apply, k=5, seed=0, tuned=True).out_of_fold  # type: ignore[arg-type]

    base = run_folds(cases, lambda tr: None, lambda c, _: redecide(c, {}, {}), k=5, seed=0, tuned=True).out_of_fold
    sets: list[list[str]] = [[n] for n in QUESTIONS if n != "ethics"] + [[n for n in QUESTIONS if n != "ethics"]]
    if args.only:
        sets = [args.only]
    print(f"{len(cases)} calls; base run {args.base}")
    print(f"{'replaced by the combiner':40} verdict  macro F1  label F1")
    print(f"{'(nothing: the base run as it is)':40} {base.verdict_accuracy:.3f}    {base.macro_f1 or 0:.3f}")
    for names in sets:
        m = run_with(names)
        f1s = []
        for n in names:
            s = m.categories[n] if n in CATEGORIES else m.signals[n]  # type: ignore[attr-defined]
            b = base.categories[n] if n in CATEGORIES else base.signals[n]  # type: ignore[attr-defined]
            f1s.append(f"{n} {b.f1 or 0:.2f}->{s.f1 or 0:.2f}")
        title = names[0] if len(names) == 1 else "all but ethics"
        print(
            f"{title:40} {m.verdict_accuracy:.3f}    {m.macro_f1 or 0:.3f}  {'; '.join(f1s) if len(names) == 1 else ''}"  # type: ignore[attr-defined]
        )


if __name__ == "__main__":
    main()
