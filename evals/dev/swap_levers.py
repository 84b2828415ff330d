"""What each question change of a real run did on its own, from two recorded runs and no model call.

    .venv/bin/python evals/dev/swap_levers.py NEW_RUN BASE_RUN [--policy FILE]

NEW_RUN and BASE_RUN are per-case runs of the same calls (folders of ``<id>/results.json`` or one
results.json), for example ``score.sh local DIR RUN``'s out-of-fold run with new questions and the out-of-fold run
before them. Each question of the ``chunks`` strategy is asked and its evidence found on its own, so a
call's flag or signal for one question can be taken from either run. For every subset of the questions
whose findings differ between the runs, this prints the metrics of NEW_RUN with the other questions'
findings taken back from BASE_RUN, the verdict re-decided by the rules: what each lever did alone and with
the others.
"""

from __future__ import annotations

import argparse
import itertools

from devset import labelled_cases, run_pattern

from analyzer.eval.folds import rejudge
from analyzer.eval.metrics import compute_metrics
from analyzer.eval.records import CaseResult, CaseRun
from analyzer.rules import Policy, load_policy
from analyzer.taxonomy import CATEGORIES, SIGNALS


def runs(path: str) -> dict[str, CaseResult]:
    return {c.id: c for c in labelled_cases(run_pattern(path))}


def hybrid(case: CaseResult, new: CaseRun, base: CaseRun, take: set[str], policy: Policy | None) -> CaseRun:
    """``new`` with the questions in ``take`` as ``new`` found them and every other one as ``base`` did."""
    pick = {n: (new if n in take else base) for n in (*CATEGORIES, *SIGNALS)}
    flags = [f for f in new.flags if pick[f.category] is new] + [f for f in base.flags if pick[f.category] is base]
    signals = [s for s in new.signals if pick[s.signal] is new] + [
        s for s in base.signals if pick[s.signal] is base
    ]
    return rejudge(case, new, flags, signals, policy)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("new")
    ap.add_argument("base")
    ap.add_argument("--policy", default=None)
    args = ap.parse_args()
    policy = load_policy(args.policy) if args.policy else None
    new, base = runs(args.new), runs(args.base)
    ids = sorted(set(new) & set(base))
    changed = sorted(
        n
        for n in (*CATEGORIES, *SIGNALS)
        if any(
            ({f.category for f in new[i].runs[0].flags} ^ {f.category for f in base[i].runs[0].flags}) & {n}
            or ({s.signal for s in new[i].runs[0].signals} ^ {s.signal for s in base[i].runs[0].signals}) & {n}
            or new[i].runs[0].scores.get(n) != base[i].runs[0].scores.get(n)
            for i in ids
        )
    )
    print(f"{len(ids)} calls in both runs; questions whose findings or scores differ: {', '.join(changed)}")
    for r in range(len(changed) + 1):
        for take in itertools.combinations(changed, r):
            got = [
                (new[i].expected, hybrid(new[i], new[i].runs[0], base[i].runs[0], set(take), policy)) for i in ids
            ]
            m = compute_metrics(got, repeat=0)
            cats = " ".join(f"{c[:5]} {m.categories[c].f1 or 0:.2f}" for c in CATEGORIES)
            name = "+".join(take) or "base"
            print(
                f"{name:44} verdict {m.verdict_accuracy:.3f} macro F1 {m.macro_f1 or 0:.3f} "
                f"ethics {m.categories['ethics'].recall or 0:.2f} severity {m.severity_accuracy or 0:.3f} "
                f"evidence {m.evidence_hit_rate or 0:.3f} | {cats}"
            )


if __name__ == "__main__":
    main()
