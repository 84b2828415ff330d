"""Scores the candidate questions recorded by ``probe_questions.py`` against the development labels, without
the model, and says out-of-fold what replacing a pipeline question with them would do to the verdicts.

    .venv/bin/python evals/dev/probe_fit.py PROBE_DIR [--base evals/runs/dev-ethics-oof] [--policy FILE]

For each recorded chunk a candidate is scored as the pipeline scores a behaviour: its P(Yes), calibrated
against the chunk's mean P(Yes) over the 13 questions themselves (``extractor.py``), the call's score being
its best chunk's. Options per question: the shipped question, each candidate, each pair of candidates and
all of them (their max: the category as the OR of its behaviours), and the blend of the shipped question
with that max (per chunk their mean). Printed:

1. per option, the AUC of the call score against the label over the probed calls (in-sample: a choice
   made from this table alone would be tuned on these calls);
2. out-of-fold (5 folds grouped by writer, ``analyzer/eval/folds.py``): on the training folds the option
   with the best AUC is chosen and its cut-off fitted (best F1 with the profile's cue bonus, or best verdict
   accuracy); the held-out calls are re-decided from their recorded run (``--base``) with that score and
   cut-off in place of the shipped question's. Every other question passes or fails as it did in that run,
   whatever cut-offs the profile holds today. Beside it, the shipped question as run and each option alone.
A flag the run did not raise that now passes gets severity medium (the replay cannot ask for evidence).
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable, Sequence

from devset import cutoff_grid, has_label, label_auc, labelled_cases, probe_records

from analyzer.eval.folds import Cutoffs, make_folds, redecide, run_folds
from analyzer.eval.metrics import RepeatMetrics
from analyzer.eval.records import CaseResult, CaseRun
from analyzer.eval.tune import tune
from analyzer.extraction.prompts import load_prompts
from analyzer.rules import Policy, load_policy
from analyzer.taxonomy import CATEGORIES, SIGNALS

BASE_QUESTIONS = (*CATEGORIES, *SIGNALS)
Learnt = tuple[str, Cutoffs]  # (option, cut-offs)


def chunk_score(raw: dict[str, float], key: str, calibrated: bool, floor: float) -> float:
    """One recorded P(Yes) as the pipeline scores it: calibrated against the chunk's mean P(Yes) over the 13
    questions themselves (``extractor.py``), unless the question is not calibrated or the answer is below
    the calibration floor."""
    p = raw[key]
    if not calibrated or p < floor:
        return p
    bias = sum(raw[q] for q in BASE_QUESTIONS) / len(BASE_QUESTIONS)
    return min(1.0, max(0.0, p - bias + 0.5))


def call_scores(record: dict, target: str, keys: Sequence[str], calibrated: bool, floor: float) -> float:
    """The call's score for the option made of ``keys`` (their best, the OR of behaviours) standing in for
    ``target``, calibrated as ``extractor.py`` does: against the chunk's mean P(Yes) over the 13 questions
    themselves (a question asked as behaviours is still asked for that mean, so no other score moves)."""
    best = 0.0
    for chunk in record["chunks"]:
        raw = chunk["raw"]
        if any(k not in raw for k in keys):
            return float("nan")
        best = max(best, *(chunk_score(raw, k, calibrated, floor) for k in keys))
    return round(best, 4)


def call_scores_blend(record: dict, target: str, keys: Sequence[str], calibrated: bool, floor: float) -> float:
    """The call's score for the blend of the shipped question and its candidates: per chunk, the mean of the
    question's calibrated score and its best candidate's; the call's, its best chunk's (an ensemble of the
    broad phrasing and the narrow ones, issue 13 item 4)."""
    best = 0.0
    for chunk in record["chunks"]:
        raw = chunk["raw"]
        if any(k not in raw for k in (target, *keys)):
            return float("nan")
        narrow = max(chunk_score(raw, k, calibrated, floor) for k in keys)
        best = max(best, (chunk_score(raw, target, calibrated, floor) + narrow) / 2)
    return round(best, 4)


class Target:
    """One replaced question: its options' call scores and the fits over them."""

    def __init__(
        self,
        target: str,
        cases: list[CaseResult],
        options: dict[str, dict[str, float]],
        bonus: float,
        policy: Policy | None = None,
    ) -> None:
        self.policy = policy
        self.target = target
        self.cases = cases
        self.score = options
        self.bonus = bonus
        # Cut-offs name the target alone: every other question keeps what the base run said. The replaced
        # question's old pass/fail no longer counts: whatever passes now is found anew.
        self.before: Cutoffs = {target: (2.0, 2.0)}

    def auc_of(self, option: str, cases: Sequence[CaseResult]) -> float:
        return label_auc(self.score[option], cases, self.target)

    def with_option(self, c: CaseResult, option: str) -> CaseResult:
        run = c.runs[0]
        new = run.model_copy(update={"scores": {**run.scores, self.target: self.score[option][c.id]}})
        return c.model_copy(update={"runs": [new]})

    def cut_for(self, train: Sequence[CaseResult], option: str, objective: str) -> Cutoffs:
        """The target's tied cut-offs fitted on ``train``: best F1 (as ``eval tune``), or best verdict
        accuracy over a grid of the training scores' quantiles."""
        cases = [self.with_option(c, option) for c in train]
        if objective == "f1":
            row = next(r for r in tune(cases, cue_bonus=self.bonus) if r.name == self.target)
            return {self.target: (row.threshold, row.cue_threshold)}
        grid = cutoff_grid(self.score[option][c.id] for c in train)

        def accuracy(t: float) -> float:
            cut = {self.target: (t, t - self.bonus)}
            right = sum(redecide(c, cut, self.before, self.policy).verdict == c.expected.verdict for c in cases)
            return right / len(cases)

        best = max(grid, key=lambda t: (accuracy(t), t))
        return {self.target: (best, best - self.bonus)}

    def fitter(self, objective: str, option: str | None) -> Callable[[Sequence[CaseResult]], Learnt]:
        """Fits on training cases: the given option, or (None) the one with the best training AUC."""

        def fit(train: Sequence[CaseResult]) -> Learnt:
            o = option if option is not None else max(self.score, key=lambda o: self.auc_of(o, train))
            return o, self.cut_for(train, o, objective)

        return fit

    def apply(self, c: CaseResult, learnt: Learnt) -> CaseRun:
        o, cut = learnt
        return redecide(self.with_option(c, o), cut, self.before, self.policy)

    def oof(self, fit: Callable[[Sequence[CaseResult]], Learnt]) -> RepeatMetrics:
        return run_folds(self.cases, fit, self.apply, k=5, seed=0, tuned=True).out_of_fold

    def report(self) -> None:
        # As run: no cut-off at all, so the target too keeps the base run's pass/fail.
        rows: list[tuple[str, RepeatMetrics]] = [("shipped question as run", self.oof(lambda tr: ("shipped", {})))]
        for objective in ("f1", "verdict"):
            rows.append(
                (f"option chosen OOF by AUC, cut-off OOF ({objective})", self.oof(self.fitter(objective, None)))
            )
            rows += [
                (f"{o}, cut-off OOF ({objective})", self.oof(self.fitter(objective, o)))
                for o in self.score
                if not o.startswith("max(")
            ]
        for name, m in rows:
            got = m.categories[self.target] if self.target in CATEGORIES else m.signals[self.target]
            nurture = sum(row.get("nurture", 0) for v, row in m.confusion.items() if v != "nurture")
            print(
                f"  {name:58} verdict {m.verdict_accuracy:.3f}  macro F1 {m.macro_f1 or 0:.3f}  "
                f"{self.target} F1 {got.f1 or 0:.3f}  false nurture {nurture}"
            )
        chosen = []
        for test in make_folds(self.cases, 5, seed=0):
            held = set(test)
            chosen.append(self.fitter("f1", None)([c for i, c in enumerate(self.cases) if i not in held])[0])
        print("  chosen per fold:", chosen)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("probe")
    ap.add_argument("--base", default="evals/runs/dev-ethics-oof")
    ap.add_argument("--policy", default=None, help="a policy file to decide with instead of the default")
    ap.add_argument(
        "--ship",
        nargs=2,
        metavar=("TARGET", "OBJECTIVE"),
        help="print, for TARGET, the option with the best AUC over every probed call and its cut-off fitted on "
        "them all for OBJECTIVE (f1 or verdict): what the manifest and the profile would ship",
    )
    args = ap.parse_args()
    policy = load_policy(args.policy) if args.policy else None
    records = probe_records(args.probe)
    cases = [c for c in labelled_cases(args.base) if c.id in records]
    prompts = load_prompts()
    # Only the replaced question is re-decided (see Target): the base run is the out-of-fold ethics replay,
    # whose ethics cut-off differs per fold, and the profile may have moved since. The cue bonus is the profile's.
    bonus = round(prompts.questions["fit"].threshold - prompts.questions["fit"].cue_threshold, 4)
    floor = prompts.calibration_floor
    keys_all = sorted({k for r in records.values() for ch in r["chunks"] for k in ch["raw"]})
    print(f"{len(cases)} probed calls; cue bonus {bonus}")
    for target in BASE_QUESTIONS:
        cands = [k for k in keys_all if k.startswith(target + ".")]
        if not cands:
            continue
        calibrated = prompts.questions[target].calibrated
        keys: dict[str, list[str]] = {"shipped": [target], **{k: [k] for k in cands}, "max of all": cands}
        # Pairs of behaviours (their max) take part in the out-of-fold choice; their own rows are not printed.
        keys |= {f"max({a}, {b})": [a, b] for a, b in itertools.combinations(cands, 2)}
        score = {
            o: {c.id: call_scores(records[c.id], target, ks, calibrated, floor) for c in cases}
            for o, ks in keys.items()
        }
        score["mean(shipped, max of all)"] = {
            c.id: call_scores_blend(records[c.id], target, cands, calibrated, floor) for c in cases
        }
        # Sanity: the shipped question rebuilt from the records is the score the run recorded.
        drift = max(abs(score["shipped"][c.id] - c.runs[0].scores[target]) for c in cases)
        t = Target(target, cases, score, bonus, policy)
        n_pos = sum(has_label(c, target) for c in cases)
        print(f"\n== {target}: {n_pos} of {len(cases)} calls labelled; rebuilt-vs-recorded max diff {drift:.4f}")
        for o in score:
            print(f"  {o:64} AUC {t.auc_of(o, cases):.3f}")
        if args.ship and args.ship[0] == target:
            best = max(score, key=lambda o: t.auc_of(o, cases))
            print(f"  ship: {keys[best]} cut-offs {t.cut_for(cases, best, args.ship[1])[target]}")
            continue
        t.report()


if __name__ == "__main__":
    main()
