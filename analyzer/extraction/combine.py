"""The ``windows`` strategy's combiner: per-window answers -> grounded flags and signals, with no model call.

Pure and deterministic, so the pipeline and ``walkaway eval tune`` (which refits the cut-offs out-of-fold
from recorded answers) decide a call the same way:

- a behaviour's score in a window is its P(Yes), optionally *calibrated* against the window's own
  yes-bias (its P(Yes) minus the window's mean P(Yes) over every behaviour question, plus 0.5): a small
  model leans Yes to every question on some excerpts;
- a category's score in a window is its best behaviour's (the category is the OR of its behaviours);
- a window whose decoy answer ("joking, or telling what someone else did?") reaches ``decoy_threshold``
  cannot carry that category;
- the call's score is the best remaining window's; the flag is raised when it reaches the category's
  cut-off, with that window's located sentence as evidence and the behaviour's label as its reason;
- severity comes from the model: ``high`` when the severity answer on that window reaches
  ``severity_threshold`` (ethics is always high, by the labelling guide: ``taxonomy.FIXED_SEVERITY``), else
  ``medium``; ``low`` when the score passed the cut-off by less than ``low_margin``.

Levers measured out-of-fold by ``evals/dev/levers.py`` (evals/README.md): ``noisy_or`` instead of the
best behaviour; a ``logistic`` combiner whose per-category weights over the behaviours' best scores,
their spread and the lexicon's hit replace the call score (the best window still gives evidence and
severity); behaviours left out (``skip``) and categories asked only where the lexicon matched
(``screen``), which the extractor then does not ask at all.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from analyzer.extraction.findings import Evidence, Flag, GroundingStats, SignalFinding, WindowRecord
from analyzer.taxonomy import CATEGORIES, FIXED_SEVERITY, SIGNALS, Severity
from analyzer.transcript.model import Transcript


class WindowTuning(BaseModel):
    """``prompts/windows-thresholds.yaml``: the combiner's cut-offs (fitted by ``walkaway eval tune``)."""

    thresholds: dict[str, float] = Field(default_factory=dict, description="Cut-off per category and signal.")
    calibrate: bool = Field(default=True, description="Score behaviours against the window's yes-bias.")
    calibration_floor: float = Field(default=0.15, ge=0.0, le=1.0)
    decoy_threshold: float = Field(default=0.6, ge=0.0, le=1.01)
    severity_threshold: float = Field(default=0.6, ge=0.0, le=1.01)
    low_margin: float = Field(default=0.0, ge=0.0, le=1.0)
    default_threshold: float = Field(default=0.6, ge=0.0, le=1.0)
    combiner: Literal["max", "noisy_or", "logistic"] = Field(
        default="max",
        description="How behaviour scores make a category's call score: the best one ('max'), the noisy-or "
        "1 - prod(1 - p) per window ('noisy_or'), or a regularised logistic model over the call's features "
        "('logistic': see `weights`; the best window under 'max' still gives evidence and severity).",
    )
    weights: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Logistic combiner, per category/signal: weight per feature ('b:<behaviour>' = that "
        "behaviour's best score in any window, 'spread' = highest minus lowest of those, 'cue' = 1 when the "
        "lexicon matched in some window) and 'bias'. A name without weights falls back to 'max'.",
    )
    offsets: dict[str, float] = Field(
        default_factory=dict,
        description="Per behaviour, its typical P(Yes) over the windows of the calls it was fitted on (the "
        "median): a behaviour's score is taken relative to it (p - offset + 0.5), so a question the model "
        "leans Yes to on every excerpt does not outrank a rarer one. Empty: off.",
    )
    skip: list[str] = Field(
        default_factory=list, description="Behaviours ('category.behaviour') left out of the combination."
    )
    screen: list[str] = Field(
        default_factory=list,
        description="Categories/signals counted only in windows where the cue lexicon matched them (a cheap "
        "first pass that decides where their questions matter).",
    )

    def asks(self, key: str, cue_hits: list[str] | set[str]) -> bool:
        """Whether behaviour ``key`` ('category.behaviour') is asked of a window where ``cue_hits`` matched:
        not when it is skipped, nor when its name is screened and the lexicon did not match it there."""
        name = key.split(".", 1)[0]
        return key not in self.skip and (name not in self.screen or name in cue_hits)

    def cutoff(self, name: str) -> float:
        """The cut-off in force for one category or signal."""
        return self.thresholds.get(name, self.default_threshold)


def behaviour_scores(record: WindowRecord, tuning: WindowTuning) -> dict[str, float]:
    """The window's behaviour scores after (optional) calibration against its own mean P(Yes)."""
    asked = {k: p for k, p in record.scores.items() if tuning.asks(k, record.cue_hits)}
    if tuning.offsets:
        asked = {k: min(1.0, max(0.0, p - tuning.offsets.get(k, 0.5) + 0.5)) for k, p in asked.items()}
    if not tuning.calibrate or not asked:
        return asked
    bias = sum(asked.values()) / len(asked)
    return {k: (min(1.0, max(0.0, p - bias + 0.5)) if p >= tuning.calibration_floor else p) for k, p in asked.items()}


class Best(BaseModel):
    """The best window for one category or signal."""

    name: str
    score: float
    behaviour: str
    window: int
    located: list[str]
    severity: float | None = None


def best_windows(records: list[WindowRecord], tuning: WindowTuning) -> dict[str, Best]:
    """Per category and signal, the window and behaviour with the highest score (decoys vetoed)."""
    out: dict[str, Best] = {}
    for rec in records:
        per_name: dict[str, list[tuple[float, str]]] = {}
        for key, p in behaviour_scores(rec, tuning).items():
            name, _, behaviour = key.partition(".")
            per_name.setdefault(name, []).append((p, behaviour))
        for name, hits in per_name.items():
            if name in CATEGORIES and rec.decoy.get(name, 0.0) >= tuning.decoy_threshold:
                continue
            top, behaviour = max(hits)
            p = top
            if tuning.combiner == "noisy_or":
                miss = 1.0
                for q, _ in hits:
                    miss *= 1.0 - q
                p = 1.0 - miss
            cur = out.get(name)
            if cur is None or p > cur.score:
                out[name] = Best(
                    name=name,
                    score=round(p, 4),
                    behaviour=behaviour,
                    window=rec.index,
                    located=rec.located.get(name) or rec.sentence_ids[:1],
                    severity=rec.severity.get(name),
                )
    return out


def features(records: list[WindowRecord], tuning: WindowTuning) -> dict[str, dict[str, float]]:
    """Per category/signal, the logistic combiner's inputs over the whole call (decoys vetoed)."""
    best: dict[str, dict[str, float]] = {}
    cue: set[str] = set()
    for rec in records:
        cue.update(rec.cue_hits)
        for key, p in behaviour_scores(rec, tuning).items():
            name, _, behaviour = key.partition(".")
            if name in CATEGORIES and rec.decoy.get(name, 0.0) >= tuning.decoy_threshold:
                continue
            row = best.setdefault(name, {})
            row[f"b:{behaviour}"] = max(row.get(f"b:{behaviour}", 0.0), p)
    out: dict[str, dict[str, float]] = {}
    for name, row in best.items():
        values = list(row.values())
        out[name] = {**row, "spread": max(values) - min(values), "cue": 1.0 if name in cue else 0.0}
    return out


def logistic(weights: dict[str, float], x: dict[str, float]) -> float:
    """sigmoid(bias + sum of weight x feature); a feature the call lacks counts 0."""
    z = weights.get("bias", 0.0) + sum(w * x.get(f, 0.0) for f, w in weights.items() if f != "bias")
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def call_scores(records: list[WindowRecord], tuning: WindowTuning) -> dict[str, Best]:
    """``best_windows``, with each score replaced by the logistic model's where the tuning has weights."""
    best = best_windows(records, tuning)
    if tuning.combiner != "logistic" or not tuning.weights:
        return best
    x = features(records, tuning)
    for name, b in best.items():
        if name in tuning.weights and name in x:
            best[name] = b.model_copy(update={"score": round(logistic(tuning.weights[name], x[name]), 4)})
    return best


def combine(
    records: list[WindowRecord],
    tuning: WindowTuning,
    transcript: Transcript | None,
    labels: dict[str, str],
    stats: GroundingStats | None = None,
) -> tuple[list[Flag], list[SignalFinding], dict[str, float]]:
    """Flags, signals and per-name call scores from the window records.

    ``labels`` maps 'category.behaviour' to the behaviour's label (the flag's reason). Without a
    transcript (refitting from an eval run) the flags carry no evidence.
    """
    stats = stats if stats is not None else GroundingStats()
    index = transcript.sentence_index() if transcript is not None else {}
    best = call_scores(records, tuning)
    flags: list[Flag] = []
    signals: list[SignalFinding] = []

    def evidence(ids: list[str]) -> list[Evidence]:
        out: list[Evidence] = []
        for sid in ids:
            stats.cited += 1
            hit = index.get(sid)
            if hit is None:
                if transcript is not None:
                    stats.dropped_unknown_id += 1
                continue
            stats.kept += 1
            out.append(Evidence.of(*hit))
        return out

    for name, b in best.items():
        cut = tuning.cutoff(name)
        if b.score < cut:
            continue
        if name in CATEGORIES:
            severity: Severity = "medium"
            fixed = FIXED_SEVERITY.get(name)
            if fixed is not None:
                severity = fixed
            elif b.severity is not None and b.severity >= tuning.severity_threshold:
                severity = "high"
            elif b.score < cut + tuning.low_margin:
                severity = "low"
            ev = evidence(b.located)
            # Windows hold prospect-side sentences only, so the seller-speech rule holds by construction;
            # a sentence of unknown role still lowers the severity one step, as in chunk grounding.
            if ev and all(e.role == "unknown" for e in ev) and severity != "low" and name not in FIXED_SEVERITY:
                severity = "medium" if severity == "high" else "low"
                stats.downgraded_seller_only += 1
            flags.append(
                Flag(
                    category=name,
                    severity=severity,
                    score=b.score,
                    rationale=labels.get(f"{name}.{b.behaviour}", b.behaviour),
                    evidence=ev,
                )
            )
        elif name in SIGNALS:
            signals.append(
                SignalFinding(
                    signal=name,
                    score=b.score,
                    rationale=labels.get(f"{name}.{b.behaviour}", b.behaviour),
                    evidence=evidence(b.located),
                )
            )
    order = {n: i for i, n in enumerate((*CATEGORIES, *SIGNALS))}
    flags.sort(key=lambda f: order[f.category])
    signals.sort(key=lambda s: order[s.signal])
    return flags, signals, {n: b.score for n, b in best.items()}
