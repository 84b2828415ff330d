"""Fitting the ``windows`` strategy's combiner from recorded window answers, with no model call.

A windows run keeps every window's answers (``CaseRun.windows``). ``combine.combine`` turns them into
flags and signals under a ``WindowTuning``; here that tuning is fitted on training cases and applied to
held-out ones, so ``walkaway eval tune RUN --folds K`` reports the strategy out-of-fold exactly as the
pipeline would decide, severity and evidence included (the transcripts are re-read to quote evidence).

What is fitted, in order (each choice by the training cases only):

1. per category and signal, the cut-off with the best F1 (the middle one among ties), for each
   combination of ``calibrate`` (on/off), behaviour ``offsets`` (off, or each behaviour's median P(Yes)
   over the training windows) and ``decoy_threshold``; the combination with the best mean F1 over every
   name wins (ties: no offsets, no calibration, then the laxest decoy veto, which trusts the model less);
2. ``severity_threshold`` and ``low_margin``: the pair whose severities best match the labelled ones on
   the flags the fitted cut-offs raise (ties: the highest threshold, the smallest margin).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from analyzer.eval.folds import CrossValidation, rejudge, run_folds
from analyzer.eval.records import CaseResult, CaseRun, CitedFlag, CitedSignal
from analyzer.eval.tune import Sample, _best
from analyzer.extraction.combine import WindowTuning, call_scores, combine, features
from analyzer.taxonomy import CATEGORIES, SIGNALS
from analyzer.transcript.model import Transcript

DECOY_GRID = (0.5, 0.6, 0.7, 0.8, 0.9, 1.01)
SEVERITY_GRID = (*(round(0.3 + 0.05 * i, 2) for i in range(14)), 1.01)
MARGIN_GRID = (0.0, 0.05, 0.1)


def is_windows_run(cases: Sequence[CaseResult]) -> bool:
    """True when the run's analyses recorded window answers (a windows-strategy run)."""
    return any(c.runs and c.runs[0].windows for c in cases)


def _label(case: CaseResult, name: str) -> bool | None:
    if name in SIGNALS:
        return None if case.expected.signals is None else name in case.expected.signals
    return name in case.expected.flags


def fit_windows(
    cases: Sequence[CaseResult],
    base: WindowTuning,
    *,
    calibrate: Sequence[bool] = (False, True),
    decoy: Sequence[float] = DECOY_GRID,
    severity: bool = True,
    centre: Sequence[bool] = (False, True),
) -> WindowTuning:
    """The tuning that best matches the labels of ``cases`` (see the module docstring).

    ``calibrate`` and ``decoy`` are the options tried; ``severity=False`` keeps ``base``'s severity
    threshold and margin (e.g. 1.01: every flag medium, ethics high) instead of fitting them.
    """
    usable = [c for c in cases if c.runs and c.runs[0].windows and c.runs[0].error is None]
    if not usable:
        return base
    names = [*CATEGORIES, *SIGNALS]
    best: tuple[float, WindowTuning] | None = None
    medians = behaviour_medians(usable)
    options = [(c, v, m) for m in centre for c in calibrate for v in sorted(decoy, reverse=True)]
    for cal, veto, centred in options:
        trial = base.model_copy(
            update={"calibrate": cal, "decoy_threshold": veto, "offsets": medians if centred else {}}
        )
        if trial.combiner == "logistic":
            trial.weights = fit_logistic(usable, trial)
        scores = [call_scores(c.runs[0].windows, trial) for c in usable]
        cut: dict[str, float] = {}
        f1s: list[float] = []
        for name in names:
            samples: list[Sample] = []
            for c, sc in zip(usable, scores, strict=True):
                label = _label(c, name)
                if label is not None:
                    samples.append((sc[name].score if name in sc else 0.0, False, label))
            if not samples:
                continue
            if not any(y for *_, y in samples):
                # Nothing to find in these calls: never raise it (any cut-off scores F1 0 here).
                cut[name] = 1.01
                continue
            f1, t = _best(samples, 0.0)
            cut[name] = round(min(1.0, max(0.0, t)), 4)
            f1s.append(f1)
        objective = sum(f1s) / len(f1s) if f1s else 0.0
        if best is None or objective > best[0] + 1e-9:
            best = (objective, trial.model_copy(update={"thresholds": cut}))
    assert best is not None
    tuning = best[1]
    if not severity:
        return tuning
    # Severity: over the flags these cut-offs raise where the label gives a severity.
    choice: tuple[float, float, float] | None = None  # (accuracy, threshold, -margin)
    for threshold in SEVERITY_GRID:
        for margin in MARGIN_GRID:
            trial = tuning.model_copy(update={"severity_threshold": threshold, "low_margin": margin})
            right = total = 0
            for c in usable:
                flags, _, _ = combine(c.runs[0].windows, trial, None, {})
                for f in flags:
                    want = c.expected.severities.get(f.category)
                    if want is not None:
                        total += 1
                        right += f.severity == want
            acc = right / total if total else 0.0
            key = (acc, threshold, -margin)
            if choice is None or key > choice:
                choice = key
    assert choice is not None
    return tuning.model_copy(update={"severity_threshold": choice[1], "low_margin": -choice[2]})


def behaviour_medians(cases: Sequence[CaseResult]) -> dict[str, float]:
    """Each behaviour's median P(Yes) over every window of ``cases`` (the ``offsets`` lever)."""
    values: dict[str, list[float]] = {}
    for c in cases:
        for rec in c.runs[0].windows:
            for k, p in rec.scores.items():
                values.setdefault(k, []).append(p)
    return {k: round(statistics.median(v), 4) for k, v in values.items()}


LOGISTIC_C = 0.5
"""Inverse L2 strength of the logistic combiner: strong, because each fold trains on a few dozen calls."""


def fit_logistic(cases: Sequence[CaseResult], tuning: WindowTuning) -> dict[str, dict[str, float]]:
    """Per category/signal with at least 2 positive and 2 negative calls, a class-balanced L2 logistic
    regression over ``combine.features`` (scikit-learn; the pipeline only evaluates the fitted weights)."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        from analyzer._errors import ConfigError

        raise ConfigError("the logistic combiner is fitted with scikit-learn: install walkaway's 'dev' extra") from None
    rows = [(c, features(c.runs[0].windows, tuning)) for c in cases]
    out: dict[str, dict[str, float]] = {}
    for name in (*CATEGORIES, *SIGNALS):
        data = [(x.get(name, {}), _label(c, name)) for c, x in rows]
        labelled = [(x, y) for x, y in data if y is not None]
        positives = sum(1 for _, y in labelled if y)
        if positives < 2 or len(labelled) - positives < 2:
            continue
        keys = sorted({k for x, _ in labelled for k in x})
        model = LogisticRegression(C=LOGISTIC_C, class_weight="balanced", max_iter=2000)
        model.fit([[x.get(k, 0.0) for k in keys] for x, _ in labelled], [int(bool(y)) for _, y in labelled])
        weights = {k: round(float(w), 4) for k, w in zip(keys, model.coef_[0], strict=True)}
        weights["bias"] = round(float(model.intercept_[0]), 4)
        out[name] = weights
    return out


def redecide_windows(
    case: CaseResult, tuning: WindowTuning, labels: dict[str, str], transcript: Transcript | None
) -> CaseRun:
    """The case's first run as the pipeline would decide it under ``tuning`` (quotes from ``transcript``)."""
    run = case.runs[0]
    if run.error is not None or not run.windows:
        return run
    flags, signals, scores = combine(run.windows, tuning, transcript, labels)
    cited = [CitedFlag.of(f) for f in flags]
    found = [CitedSignal.of(s) for s in signals]
    return rejudge(case, run, cited, found, scores=scores)


def load_transcripts(cases: Sequence[CaseResult], base: Path | None = None) -> dict[str, Transcript | None]:
    """Each case's transcript re-parsed from its recorded path (None when it is gone: no quotes then)."""
    from analyzer._errors import AnalyzerError
    from analyzer.transcript import parse_file

    out: dict[str, Transcript | None] = {}
    for c in cases:
        path = Path(c.transcript)
        if not path.is_absolute() and base is not None:
            path = base / path
        try:
            out[c.id] = parse_file(path, seller=c.seller)
        except AnalyzerError:
            out[c.id] = None
    return out


def cross_validate_windows(
    cases: Sequence[CaseResult],
    base: WindowTuning,
    labels: dict[str, str],
    transcripts: dict[str, Transcript | None],
    *,
    k: int = 5,
    seed: int = 0,
    **fit_options: Any,
) -> CrossValidation:
    """Out-of-fold figures of the windows combiner: fitted on K-1 folds, applied to the held-out one.

    ``fit_options`` go to ``fit_windows`` (the levers ``evals/dev/levers.py`` switches on and off)."""
    return run_folds(
        cases,
        lambda train: fit_windows(train, base, **fit_options),
        lambda c, t: redecide_windows(c, t, labels, transcripts.get(c.id)),
        k=k,
        seed=seed,
        tuned=True,
    )
