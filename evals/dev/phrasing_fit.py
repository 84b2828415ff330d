"""Two phrasings per behaviour, averaged (issue 13, item 4), scored against the development labels out-of-fold
from recorded probes, without the model.

    .venv/bin/python evals/dev/phrasing_fit.py FIRST_PROBE SECOND_PROBE [--base evals/runs/dev-behaviours]

FIRST_PROBE holds the shipped behaviours' first phrasings (``evals/runs/dev-probe``: ``fit.cannot_do`` ...),
SECOND_PROBE their second ones (``evals/runs/dev-phrasings-probe``: ``fit.cannot_do_b`` ...); both record
each chunk's raw P(Yes) of the 13 pipeline questions too, which must agree (same chunks, same answers).
For fit, tire_kicker and prospect_declined, the behaviours the manifest ships are scored three ways: the
first phrasings (as shipped), the second ones, and per behaviour the mean of the two calibrated scores;
the question's call score is its best behaviour's in its best chunk (calibrated as ``extractor.py`` does).
Printed per question: each option's AUC over all probed calls (in-sample), then out-of-fold (5 folds by
writer) each option with its cut-off fitted on the training folds for the objective the shipped cut-off
was fitted for (F1 for fit and tire_kicker, verdict accuracy for prospect_declined), the held-out calls
re-decided from BASE with that question replaced (``probe_fit.Target``).
"""

from __future__ import annotations

import argparse

from devset import labelled_cases, probe_records
from probe_fit import BASE_QUESTIONS, Target, chunk_score

from analyzer.extraction.prompts import load_prompts

OBJECTIVE = {"fit": "f1", "tire_kicker": "f1", "prospect_declined": "verdict"}


def call_score(first: dict, second: dict, target: str, behaviours: list[str], how: str, floor: float) -> float:
    """The call's score: over chunks and behaviours, the best of ``how`` (first, second or mean phrasing)."""
    best = 0.0
    for a, b in zip(first["chunks"], second["chunks"], strict=True):
        drift = max(abs(a["raw"][q] - b["raw"][q]) for q in BASE_QUESTIONS)
        if drift > 1e-3:
            raise SystemExit(f"{first['id']} chunk {a['chunk']}: the two probes disagree on a pipeline question")
        for name in behaviours:
            one = chunk_score(a["raw"], f"{target}.{name}", True, floor)
            two = chunk_score(b["raw"], f"{target}.{name}_b", True, floor)
            best = max(best, {"first": one, "second": two, "mean": (one + two) / 2}[how])
    return round(best, 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("first")
    ap.add_argument("second")
    ap.add_argument("--base", default="evals/runs/dev-behaviours")
    args = ap.parse_args()
    first, second = probe_records(args.first), probe_records(args.second)
    cases = [c for c in labelled_cases(f"{args.base}/*") if c.id in first and c.id in second]
    prompts = load_prompts()
    floor = prompts.calibration_floor
    bonus = round(prompts.questions["fit"].threshold - prompts.questions["fit"].cue_threshold, 4)
    print(f"{len(cases)} calls in both probes and the base run")
    for target, objective in OBJECTIVE.items():
        behaviours = list(prompts.manifest.behaviours.get(target, {}))
        score = {
            how: {c.id: call_score(first[c.id], second[c.id], target, behaviours, how, floor) for c in cases}
            for how in ("first", "second", "mean")
        }
        drift = max(abs(score["first"][c.id] - c.runs[0].scores[target]) for c in cases)
        t = Target(target, cases, score, bonus)
        print(f"\n== {target} ({', '.join(behaviours)}); first rebuilt vs recorded max diff {drift:.4f}")
        for how in score:
            m = t.oof(t.fitter(objective, how))
            got = m.categories[target] if target in m.categories else m.signals[target]
            print(
                f"  {how:7} AUC {t.auc_of(how, cases):.3f} | out-of-fold, cut-off for {objective}: verdict "
                f"{m.verdict_accuracy:.3f} macro F1 {m.macro_f1 or 0:.3f} {target} F1 {got.f1 or 0:.3f}"
            )


if __name__ == "__main__":
    main()
