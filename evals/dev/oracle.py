"""Where a recorded run's verdicts are lost: the rules run on the labels in place of what the run found, part
by part, without the model.

    .venv/bin/python evals/dev/oracle.py RUN [--policy FILE]

RUN is a dev run (a folder of ``<id>/results.json``), judged by today's ``dev.yaml`` labels. Printed, each as
verdicts right of the calls:
- the labels alone (labelled flags with their severities, labelled signals): what the policy itself gets;
- labelled flags with the run's signals, and the run's flags with labelled signals;
- per category, that category's flags taken from the labels and every other finding as run; the run's false
  flags of that category dropped alone; and the run's true flags given their labelled severity.
These are bounds that use the labels, not results: they say which part of the extraction to work on.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from devset import labelled_cases, run_pattern

from analyzer.eval.folds import rejudge
from analyzer.eval.records import CaseResult, CitedFlag, CitedSignal
from analyzer.rules import Policy, load_policy
from analyzer.taxonomy import CATEGORIES


def labelled_flags(c: CaseResult, only: str | None = None) -> list[CitedFlag]:
    """The labelled flags (all, or one category's) as a run would record them."""
    return [
        CitedFlag(category=k, severity=c.expected.severities.get(k, "medium"))
        for k in c.expected.flags
        if only is None or k == only
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("run")
    ap.add_argument("--policy", type=Path, help="a policy file (default: the shipped one)")
    args = ap.parse_args()
    policy: Policy | None = load_policy(args.policy) if args.policy else None
    cases = labelled_cases(run_pattern(args.run))

    Flags = Callable[[CaseResult], list[CitedFlag]]
    Signals = Callable[[CaseResult], list[CitedSignal]]

    def right(flags: Flags, signals: Signals) -> int:
        return sum(
            rejudge(c, c.runs[0], flags(c), signals(c), policy=policy).verdict == c.expected.verdict for c in cases
        )

    def ran_flags(c: CaseResult) -> list[CitedFlag]:
        return c.runs[0].flags

    def ran_signals(c: CaseResult) -> list[CitedSignal]:
        return c.runs[0].signals

    def gold_signals(c: CaseResult) -> list[CitedSignal]:
        return [CitedSignal(signal=s) for s in c.expected.signals or []]

    n = len(cases)
    base = right(ran_flags, ran_signals)
    print(f"{n} calls; verdicts right as run: {base} ({base / n:.3f})")
    for name, got in (
        ("labels alone (the policy's ceiling)", right(labelled_flags, gold_signals)),
        ("labelled flags, the run's signals", right(labelled_flags, ran_signals)),
        ("the run's flags, labelled signals", right(ran_flags, gold_signals)),
    ):
        print(f"  {name:40} {got:4} ({got / n:.3f})")
    wrong = [
        c
        for c in cases
        if rejudge(c, c.runs[0], labelled_flags(c), gold_signals(c), policy=policy).verdict != c.expected.verdict
    ]
    for c in wrong:
        print(f"    the labels alone miss {c.id} (label {c.expected.verdict})")
    print(f"\n{'category':14} {'from the labels':>16} {'false dropped':>14}   (verdicts gained over the run)")
    for k in CATEGORIES:

        def one_from_labels(c: CaseResult, k: str = k) -> list[CitedFlag]:
            return [f for f in c.runs[0].flags if f.category != k] + labelled_flags(c, k)

        def false_dropped(c: CaseResult, k: str = k) -> list[CitedFlag]:
            return [f for f in c.runs[0].flags if f.category != k or k in c.expected.flags]

        print(f"{k:14} {right(one_from_labels, ran_signals) - base:+16} {right(false_dropped, ran_signals) - base:+14}")

    def labelled_severity(c: CaseResult) -> list[CitedFlag]:
        return [
            f.model_copy(update={"severity": c.expected.severities.get(f.category, f.severity)})
            for f in c.runs[0].flags
        ]

    print(f"true flags at their labelled severity: {right(labelled_severity, ran_signals) - base:+d}")


if __name__ == "__main__":
    main()
