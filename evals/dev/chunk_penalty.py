"""Whether a call's best-chunk score should pay for the number of chunks it was the best of, replayed from
the recorded probe without the model.

    .venv/bin/python evals/dev/chunk_penalty.py evals/runs/dev-probe --profiles DIR [--base evals/runs/dev-behaviours]

A call's score per question is the best of its chunks' scores, so a call of three chunks draws three times
at the same cut-off: on the development calls, those of more than one chunk carry about four times the false
flags of the one-chunk calls at the same recall. Here a call's flag scores (and, as an option, every
question's) are lowered by ``delta`` for each chunk past the first, with ``delta`` fitted for verdict accuracy
on four folds of writers and applied to the fifth (the cut-offs stay those each call was scored with:
``--profiles`` is ``fold_profiles.py``'s output for the base run). Lowering a score can only drop what the
run found, so the replay is exact for what it drops (``focus_fit.redecide``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from devset import labelled_cases, probe_records
from focus_fit import QUESTIONS, Variant, redecide, run_cutoffs
from probe_fit import call_scores

from analyzer.eval.folds import Cutoffs, rejudge, run_folds
from analyzer.eval.records import CaseResult
from analyzer.extraction.prompts import load_prompts
from analyzer.taxonomy import CATEGORIES

DELTAS = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.10)


def fitter(
    grid: dict[float, Variant], ran: dict[str, Cutoffs], chosen: list[float]
) -> Callable[[Sequence[CaseResult]], Variant]:
    """The penalty with the most right verdicts on the training calls (ties: the smaller); each choice is
    appended to ``chosen``."""

    def fit(train: Sequence[CaseResult]) -> Variant:
        def right(delta: float) -> tuple[int, float]:
            v = grid[delta]
            ok = sum(redecide(c, v, ran[c.id], ran[c.id]).verdict == c.expected.verdict for c in train)
            return ok, -delta

        chosen.append(max(grid, key=right))
        return grid[chosen[-1]]

    return fit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("probe")
    ap.add_argument("--profiles", type=Path, required=True)
    ap.add_argument("--base", default="evals/runs/dev-behaviours")
    args = ap.parse_args()
    prompts = load_prompts()
    floor = prompts.calibration_floor
    probe = probe_records(args.probe)
    cases = [c for c in labelled_cases(f"{args.base}/*") if c.id in probe]
    ran = run_cutoffs(args.profiles)

    def keys(q: str) -> list[str]:
        behaviours = prompts.questions[q].behaviours
        return [f"{q}.{b}" for b in behaviours] if behaviours else [q]

    base = {
        c.id: {q: call_scores(probe[c.id], q, keys(q), prompts.questions[q].calibrated, floor) for q in QUESTIONS}
        for c in cases
    }
    chunks = {c.id: len(probe[c.id]["chunks"]) for c in cases}
    print(f"{len(cases)} calls, {sum(n > 1 for n in chunks.values())} of more than one chunk")
    for many in (False, True):
        group = [c for c in cases if (chunks[c.id] > 1) == many]
        raised = [(f.category in c.expected.flags) for c in group for f in c.runs[0].flags]
        verdicts = [rejudge(c, c.runs[0], c.runs[0].flags, c.runs[0].signals).verdict for c in group]
        right = sum(v == c.expected.verdict for v, c in zip(verdicts, group, strict=True))
        print(
            f"  {'several chunks' if many else 'one chunk':14}: {len(group)} calls, flags raised true {sum(raised)} / "
            f"false {len(raised) - sum(raised)} ({(len(raised) - sum(raised)) / len(group):.2f} false a call), "
            f"labelled {sum(len(c.expected.flags) for c in group)}; verdict accuracy {right / len(group):.2f}"
        )

    def variant(delta: float, on: Sequence[str]) -> Variant:
        scores = {
            i: {q: s - delta * (chunks[i] - 1) if q in on else s for q, s in qs.items()} for i, qs in base.items()
        }
        return Variant(f"delta {delta}", scores, QUESTIONS)

    for label, on in (("flags", CATEGORIES), ("every question", QUESTIONS)):
        grid = {d: variant(d, on) for d in DELTAS}
        for d, v in grid.items():
            right = sum(redecide(c, v, ran[c.id], ran[c.id]).verdict == c.expected.verdict for c in cases)
            print(f"  {label:15} delta {d:.2f}: in-sample verdict {right / len(cases):.3f}")

        chosen: list[float] = []  # run_folds fits on every call first, then once per fold
        fit = fitter(grid, ran, chosen)
        folds = run_folds(cases, fit, lambda c, v: redecide(c, v, ran[c.id], ran[c.id]), k=5, seed=0, tuned=True)
        m = folds.out_of_fold
        per = " ".join(f"{q[:4]} {m.categories[q].f1 or 0:.2f}" for q in CATEGORIES)
        print(
            f"{label}: out-of-fold verdict {m.verdict_accuracy:.3f} macro F1 {m.macro_f1 or 0:.3f} "
            f"ethics {m.ethics_recall or 0:.3f} evidence {m.evidence_hit_rate or 0:.3f}  {per}; delta per fold "
            + ", ".join(f"{d:.2f}" for d in chosen[1:])
        )


if __name__ == "__main__":
    main()
