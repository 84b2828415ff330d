"""Severity from which behaviour raised a flag, replayed on a recorded run without the model (issue 13, item 3).

    .venv/bin/python evals/dev/behaviour_severity.py [--run evals/runs/dev-behaviours] [--probe evals/runs/dev-probe]

The guide names the behaviours that make tire_kicker and fit disqualifying (V3: "tire-kicking with the
incumbent already chosen"; F1 and V3: "a fit gap in the core offering", a need the seller "does not offer
at all") and the ones that stay fixable (F2: a roadmap gap is medium; V2: tire-kicker signs where the
seller can set a condition). So a flag's severity could follow its strongest behaviour instead of the
model's rating. For every tire_kicker and fit flag RUN raised, the behaviour with the best calibrated score
over the call's chunks is read from PROBE (the same questions asked of the same chunks); the table counts
them by labelled severity ("-": a false flag), and each mapping below rates the flags whose best behaviour
it names `high`, every other flag as run (ethics high, as merged today), the verdict decided again.
Nothing is fitted: the mappings come from the guide.
"""

from __future__ import annotations

import argparse
from collections import Counter

from devset import labelled_cases, probe_records
from probe_fit import chunk_score

from analyzer.eval.folds import rejudge
from analyzer.eval.metrics import compute_metrics
from analyzer.eval.records import CaseResult
from analyzer.extraction.prompts import load_prompts

MAPPINGS: list[set[str]] = [
    set(),
    {"chosen_already"},
    {"cannot_do"},
    {"other_kind"},
    {"cannot_do", "other_kind"},
    {"chosen_already", "cannot_do", "other_kind"},
]


def best_behaviour(record: dict, target: str, behaviours: list[str], floor: float) -> str:
    best = (-1.0, "")
    for chunk in record["chunks"]:
        for b in behaviours:
            best = max(best, (chunk_score(chunk["raw"], f"{target}.{b}", True, floor), b))
    return best[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--run", default="evals/runs/dev-behaviours")
    ap.add_argument("--probe", default="evals/runs/dev-probe")
    args = ap.parse_args()
    prompts = load_prompts()
    targets = {t: list(prompts.manifest.behaviours[t]) for t in ("fit", "tire_kicker")}
    cases: list[CaseResult] = labelled_cases(f"{args.run}/*")
    records = probe_records(args.probe)
    best = {
        (c.id, f.category): best_behaviour(records[c.id], f.category, targets[f.category], prompts.calibration_floor)
        for c in cases
        for f in c.runs[0].flags
        if f.category in targets
    }
    labels = {c.id: c.expected.severities or {} for c in cases}
    counts = Counter((cat, b, labels[i].get(cat, "-")) for (i, cat), b in best.items())
    for (cat, b, label), n in sorted(counts.items()):
        print(f"  {cat:12} best behaviour {b:20} labelled {label:7} {n}")
    for high in MAPPINGS:
        got = []
        for c in cases:
            run = c.runs[0]
            flags = []
            for f in run.flags:
                sev = "high" if best.get((c.id, f.category)) in high else f.severity
                flags.append(f.model_copy(update={"severity": sev}))
            # rejudge rates ethics high, as merging does today.
            got.append((c.expected, rejudge(c, run, flags, run.signals)))
        m = compute_metrics(got, repeat=0)
        print(
            f"high when best is {', '.join(sorted(high)) or 'never (as run)':45} verdict {m.verdict_accuracy:.3f} "
            f"severity {m.severity_accuracy or 0:.3f}"
        )


if __name__ == "__main__":
    main()
