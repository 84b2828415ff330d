"""Veto questions for a raised flag (issue 13, item 3), scored against the development labels out-of-fold from
a recorded probe, without the model.

    .venv/bin/python evals/dev/veto_fit.py PROBE RUN [--category fit]

PROBE holds ``probe_questions.py --questions evals/dev/veto-questions.yaml --flagged RUN`` records: each veto
question asked of every chunk of the calls on which RUN raised the category. A call's veto score is the
question's best calibrated score over its chunks (``probe_fit.chunk_score``); options are each question and
their max. Printed per option: the AUC of the veto score for a flag the labels do not hold against one they
do (in-sample), and out-of-fold (5 folds by writer) the flag dropped wherever the veto score reaches a
cut-off fitted on the training folds for verdict accuracy (never vetoing is one of the choices), every
other finding as RUN found it, the verdict re-decided by the rules.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from devset import auc, cutoff_grid, labelled_cases, probe_records
from probe_fit import chunk_score

from analyzer.eval.folds import rejudge, run_folds
from analyzer.eval.records import CaseResult, CaseRun
from analyzer.extraction.prompts import load_prompts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("probe")
    ap.add_argument("run")
    ap.add_argument("--category", default="fit")
    args = ap.parse_args()
    cat = args.category
    records = probe_records(args.probe)
    cases = labelled_cases(f"{args.run}/*")
    floor = load_prompts().calibration_floor
    keys = sorted({k for r in records.values() for ch in r["chunks"] for k in ch["raw"] if k.startswith(cat + ".")})
    options = {**{k: [k] for k in keys}, "max of all": keys}

    def veto_score(c: CaseResult, ks: Sequence[str]) -> float | None:
        if c.id not in records or cat not in {f.category for f in c.runs[0].flags}:
            return None
        return max(chunk_score(ch["raw"], k, True, floor) for ch in records[c.id]["chunks"] for k in ks)

    raised = [c for c in cases if cat in {f.category for f in c.runs[0].flags}]
    print(f"{len(raised)} calls with {cat} raised, {len(records)} probed; {len(cases)} calls in all")
    for name, ks in options.items():
        score = {c.id: veto_score(c, ks) for c in cases}

        def apply(c: CaseResult, cut: float, score: dict[str, float | None] = score) -> CaseRun:
            run = c.runs[0]
            s = score[c.id]
            flags = [f for f in run.flags if not (f.category == cat and s is not None and s >= cut)]
            return rejudge(c, run, flags, run.signals)

        def fit(train: Sequence[CaseResult], score: dict[str, float | None] = score) -> float:
            values = [v for c in train if (v := score[c.id]) is not None]
            if not values:
                return 2.0
            grid = cutoff_grid(values, nudge=0.0)
            return max(grid, key=lambda t: (sum(apply(c, t).verdict == c.expected.verdict for c in train), t))

        false = [v for c in raised if (v := score[c.id]) is not None and cat not in c.expected.flags]
        true = [v for c in raised if (v := score[c.id]) is not None and cat in c.expected.flags]
        m = run_folds(cases, fit, apply, k=5, seed=0, tuned=True).out_of_fold
        got = m.categories[cat]
        print(
            f"  {name:24} false-vs-true flag AUC {auc(false, true):.3f} ({len(false)} false, {len(true)} true) | "
            f"OOF verdict {m.verdict_accuracy:.3f} macro F1 {m.macro_f1 or 0:.3f} {cat} F1 {got.f1 or 0:.3f}"
        )

    def as_run(c: CaseResult, _: float) -> CaseRun:
        return rejudge(c, c.runs[0], c.runs[0].flags, c.runs[0].signals)

    never = run_folds(cases, lambda train: 2.0, as_run, k=5, seed=0, tuned=True).out_of_fold
    print(f"  {'never veto (as run)':24} OOF verdict {never.verdict_accuracy:.3f} macro F1 {never.macro_f1 or 0:.3f}")


if __name__ == "__main__":
    main()
