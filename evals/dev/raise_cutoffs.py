"""Out-of-fold, from a ``score.sh local DIR RUN`` run and no model call: what raising one question's cut-off for
verdict accuracy would do.

    .venv/bin/python evals/dev/raise_cutoffs.py RUN PROFILE_DIR QUESTION [QUESTION ...]

RUN holds each call scored with the profile of the fold that held it out (PROFILE_DIR/foldK.yaml, written
by ``fold_profiles.py``). Raising a cut-off only removes findings the run made, so the replay is exact when
every candidate is at least the cut-off each call was scored with. Per question, on the training folds the
cut-off with the best verdict accuracy is chosen from the training calls' scores above every run cut-off
(or "as run"), and the held-out writers are re-decided with it (5 folds grouped by writer, the same folds).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import yaml
from devset import labelled_cases

from analyzer.eval.folds import Cutoffs, redecide, run_folds
from analyzer.eval.records import CaseResult, CaseRun


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("run")
    ap.add_argument("profiles", type=Path)
    ap.add_argument("questions", nargs="+")
    args = ap.parse_args()
    cases = labelled_cases(str(Path(args.run) / "*"))
    profiles = {
        p.stem: yaml.safe_load(p.read_text()) for p in sorted(args.profiles.glob("fold*.yaml"))
    }
    # The cut-offs each call was scored with: its fold's profile.
    ran: dict[str, Cutoffs] = {}
    for c in cases:
        prof = profiles[c.runs[0].profile.split("@")[0]]
        ran[c.id] = {q: (prof["thresholds"][q], prof["cue_thresholds"][q]) for q in prof["thresholds"]}

    def run_as(c: CaseResult, cut: Cutoffs) -> CaseRun:
        return redecide(c, {**ran[c.id], **cut}, ran[c.id])

    for q in args.questions:
        bonus = {round(t - tc, 3) for r in ran.values() for name, (t, tc) in r.items() if name == q}
        if len(bonus) != 1:
            raise SystemExit(f"{q}: the folds' cue bonuses differ ({sorted(bonus)})")
        b = bonus.pop()
        floor = max(r[q][0] for r in ran.values())

        def fit(train: Sequence[CaseResult], q: str = q, b: float = b, floor: float = floor) -> Cutoffs:
            grid = sorted({c.runs[0].scores[q] + 1e-4 for c in train if c.runs[0].scores.get(q, 0) > floor})

            def accuracy(cut: Cutoffs) -> float:
                return sum(run_as(c, cut).verdict == c.expected.verdict for c in train) / len(train)

            options: list[Cutoffs] = [{}] + [{q: (t, t - b)} for t in grid]
            return max(options, key=lambda cut: (accuracy(cut), -len(cut)))

        cv = run_folds(cases, fit, run_as, k=5, seed=0, tuned=True)
        as_run = run_folds(cases, lambda train: {}, run_as, k=5, seed=0, tuned=True)
        for name, m in (("as run", as_run.out_of_fold), (f"{q} raised for verdict, OOF", cv.out_of_fold)):
            print(
                f"{name:40} verdict {m.verdict_accuracy:.3f} macro F1 {m.macro_f1 or 0:.3f} "
                f"{q} F1 {(m.categories[q].f1 if q in m.categories else m.signals[q].f1) or 0:.3f}"
            )
        print(f"  cut-off on all calls: {fit(cases) or 'as run'}")


if __name__ == "__main__":
    main()
