"""Severity from the model's yes/no answers instead of its generated severity: measured out-of-fold from
a recorded severity probe and a recorded run, no model call.

    .venv/bin/python evals/dev/severity_fit.py PROBE_DIR RUN [--option max|mean|KEY]

PROBE_DIR holds ``probe_questions.py --questions severity-questions.yaml --flagged RUN`` records: for every
call and every flag RUN raised on it (ethics aside: always high), the P(Yes) of that category's severity
candidates on each chunk. A flag's severity score is its candidates' max (or mean, or one candidate) over
the call's chunks. Replayed rule, per category: ``high`` when the score reaches ``hi``, ``low`` when it is
under ``lo`` (low never blocks pursue), else ``medium``; the verdict is re-decided by the default policy
from the run's flags and signals with those severities. Printed:

1. per category, the AUC of the score for labelled-high against other raised flags, and for flags the
   labels hold against flags they do not (a false flag should not look serious);
2. verdict accuracy, macro F1 is unchanged (no flag is added or dropped), severity accuracy: as run, all
   medium, and with (lo, hi) per category fitted for verdict accuracy on the training folds (coordinate
   ascent, 5 folds grouped by writer) and applied to the held-out writers.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from devset import auc, labelled_cases, probe_records

from analyzer.eval.folds import rejudge, run_folds
from analyzer.eval.metrics import RepeatMetrics
from analyzer.eval.records import CaseResult, CaseRun

Cuts = dict[str, tuple[float, float]]  # category -> (lo, hi)
NEVER = 2.0


def flag_scores(record: dict, option: str) -> dict[str, float]:
    """Category -> the call's severity score under ``option``."""
    keys = sorted({k for ch in record["chunks"] for k in ch["raw"] if "." in k})
    out: dict[str, float] = {}
    for cat in {k.split(".")[0] for k in keys}:
        mine = [k for k in keys if k.startswith(cat + ".")]
        per_chunk = []
        for ch in record["chunks"]:
            ps = [ch["raw"][k] for k in mine if k in ch["raw"]]
            if option == "max":
                per_chunk.append(max(ps))
            elif option == "mean":
                per_chunk.append(sum(ps) / len(ps))
            else:
                per_chunk += [ch["raw"][k] for k in mine if k.endswith("." + option)]
        if per_chunk:
            out[cat] = max(per_chunk)
    return out


def severity_of(flag_cat: str, run_sev: str, s: float | None, cuts: Cuts) -> str:
    if flag_cat == "ethics" or s is None or flag_cat not in cuts:
        return run_sev
    lo, hi = cuts[flag_cat]
    return "high" if s >= hi else "low" if s < lo else "medium"


def replay(c: CaseResult, scores: dict[str, float], cuts: Cuts) -> CaseRun:
    run = c.runs[0]
    flags = [
        f.model_copy(update={"severity": severity_of(f.category, f.severity, scores.get(f.category), cuts)})
        for f in run.flags
    ]
    return rejudge(c, run, flags, run.signals)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("probe")
    ap.add_argument("run")
    ap.add_argument("--option", default="max")
    args = ap.parse_args()
    records = probe_records(args.probe)
    # Every call of the run takes part (a call without a probe record has no flag to re-rate), so the
    # figures compare with the run's own.
    cases = labelled_cases(f"{args.run}/*")
    scores = {c.id: flag_scores(records[c.id], args.option) if c.id in records else {} for c in cases}
    cats = sorted({k for s in scores.values() for k in s if k != "any"})
    print(f"{len(records)} probed calls of {len(cases)}; option {args.option}")
    for cat in cats:
        raised = [c for c in cases if cat in {f.category for f in c.runs[0].flags} and cat in scores[c.id]]
        high = [scores[c.id][cat] for c in raised if c.expected.severities.get(cat) == "high"]
        other = [scores[c.id][cat] for c in raised if c.expected.severities.get(cat) != "high"]
        true = [scores[c.id][cat] for c in raised if cat in c.expected.flags]
        false = [scores[c.id][cat] for c in raised if cat not in c.expected.flags]
        print(
            f"  {cat:13} raised {len(raised):3}  high vs rest AUC {auc(high, other):.3f} ({len(high)} high)  "
            f"true vs false flag AUC {auc(true, false):.3f} ({len(true)} true)"
        )

    def apply(c: CaseResult, cuts: Cuts) -> CaseRun:
        return replay(c, scores[c.id], cuts)

    def fit(train: Sequence[CaseResult]) -> Cuts:
        def accuracy(cuts: Cuts, among: Sequence[CaseResult]) -> tuple[int, int]:
            right = sev = 0
            for c in among:
                run = apply(c, cuts)
                right += run.verdict == c.expected.verdict
                sev += sum(f.severity == c.expected.severities.get(f.category) for f in run.flags)
            return right, sev

        cuts: Cuts = {}
        for _ in range(2):
            for cat in cats:
                # Only the calls with this flag re-rated can change: the others are left out of the count.
                among = [c for c in train if cat in scores[c.id]]
                values = sorted({scores[c.id][cat] for c in among})
                grid = [0.0] + [v + 1e-4 for v in values[:: max(1, len(values) // 10)]] + [NEVER]
                options = [(lo, hi) for lo in grid for hi in grid if lo <= hi]
                cuts[cat] = max(options, key=lambda o: (accuracy({**cuts, cat: o}, among), -o[0], o[1]))
        return cuts

    rows: list[tuple[str, Callable[[Sequence[CaseResult]], Cuts]]] = [
        ("as run (the model's generated severity)", lambda train: {}),
        ("every non-ethics flag medium", lambda train: dict.fromkeys(cats, (0.0, NEVER))),
        ("(lo, hi) per category fitted for verdict, OOF", fit),
    ]
    for name, fitter in rows:
        cv = run_folds(cases, fitter, apply, k=5, seed=0, tuned=True)
        m: RepeatMetrics = cv.out_of_fold
        print(
            f"  {name:48} verdict {m.verdict_accuracy:.3f}  severity {m.severity_accuracy or 0:.3f}  "
            f"macro F1 {m.macro_f1 or 0:.3f}"
        )
    shipped = {k: (round(a, 4), round(b, 4)) for k, (a, b) in fit(cases).items()}
    print("  (lo, hi) fitted on every call:", shipped)


if __name__ == "__main__":
    main()
