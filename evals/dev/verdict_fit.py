"""Lever check: fit the chunk cut-offs for verdict accuracy instead of per-label F1, out-of-fold.

    .venv/bin/python evals/dev/verdict_fit.py

Coordinate ascent over one shift per question (applied to its threshold and its cue threshold alike, from
the shipped profile), two passes, on the training folds' verdict accuracy; the held-out writers are
re-decided from their recorded scores (analyzer/eval/folds.py). No model call. Result in evals/README.md.
"""

from __future__ import annotations

from devset import labelled_cases

from analyzer.eval.folds import Cutoffs, redecide, run_folds
from analyzer.eval.records import CaseResult
from analyzer.extraction.prompts import load_prompts

SHIFTS = [-0.2, -0.15, -0.1, -0.05, 0.0, 0.05, 0.1, 0.15, 0.2, 0.3]


# The cut-offs the dev-local runs were scored with: the profile as tuned on `core` (before commit 9bb33ce).
# Two have moved since (ethics refitted on dev; prospect_declined now scores another question), and a replay
# must start from what the runs used, not from today's profile.
RUN_CUTOFFS: Cutoffs = {"ethics": (0.6148, 0.5398), "prospect_declined": (0.3932, 0.3182)}


def main() -> None:
    cases = labelled_cases("evals/runs/dev-local/*")
    prompts = load_prompts()
    current: Cutoffs = {k: (q.threshold, q.cue_threshold) for k, q in prompts.questions.items()} | RUN_CUTOFFS
    names = list(current)

    def cut_of(shift: dict[str, float]) -> Cutoffs:
        return {n: (current[n][0] + shift[n], current[n][1] + shift[n]) for n in names}

    def accuracy(train: list[CaseResult], cut: Cutoffs) -> float:
        return sum(redecide(c, cut, current).verdict == c.expected.verdict for c in train) / len(train)

    def fit(train: list[CaseResult]) -> Cutoffs:
        shift = dict.fromkeys(names, 0.0)
        best = accuracy(train, cut_of(shift))
        for _ in range(2):
            for n in names:
                for s in SHIFTS:
                    trial = {**shift, n: s}
                    if s != shift[n] and (a := accuracy(train, cut_of(trial))) > best + 1e-9:
                        best, shift = a, trial
        return cut_of(shift)

    cv = run_folds(cases, fit, lambda c, cut: redecide(c, cut, current), k=5, seed=0, tuned=True)  # type: ignore[arg-type]
    for label, m in (("as run", cv.as_run), ("in-sample", cv.in_sample), ("out-of-fold", cv.out_of_fold)):
        print(
            f"{label:12} verdict {m.verdict_accuracy:.3f}  flag macro F1 {m.macro_f1 or 0:.3f}  "
            f"ethics recall {m.ethics_recall or 0:.3f}"
        )
    print("out-of-fold verdict accuracy per writer:", {w: round(a, 2) for w, a in cv.per_writer.items()})


if __name__ == "__main__":
    main()
