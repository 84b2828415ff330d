"""The results of an eval run: what ``results.json`` holds (the source of truth for reports and compare).

Layout of ``results.json`` (``RESULTS_SCHEMA_VERSION`` changes when a field changes meaning)::

    schema_version, meta {suite, suite_path, backend, model, prompt_version, timestamp, repeat, ...},
    thresholds [{metric, direction, threshold, value, passed}], passed,
    summary {metric: {mean, stdev, min, max, n}},     # scalar metrics across repeats
    repeats [RepeatMetrics...],                       # every metric of each repeat (see metrics.py)
    cases [{id, transcript, seller, expected, runs [CaseRun per repeat]}]
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analyzer._errors import ConfigError
from analyzer.eval.metrics import RepeatMetrics, Spread
from analyzer.eval.records import CaseResult

RESULTS_SCHEMA_VERSION = "1"


class RunMeta(BaseModel):
    """What was run, with what, and when."""

    suite: str
    suite_path: str = ""
    backend: str
    model: str = ""
    prompt_version: str = ""
    timestamp: str = Field(description="UTC start time, ISO 8601.")
    repeat: int = 1
    concurrency: int = 1
    use_cache: bool = True
    cases: int = 0
    walkaway_version: str = ""
    seconds: float = Field(default=0.0, description="Wall-clock seconds of the whole run.")


class ThresholdResult(BaseModel):
    """One threshold of the suite checked against the mean over repeats."""

    metric: str
    direction: str = Field(description="'min' (value must reach it) or 'max' (value must not exceed it).")
    threshold: float
    value: float | None = Field(description="Mean over repeats; None when the run could not measure it.")
    passed: bool


class RunResults(BaseModel):
    """The whole of ``results.json``."""

    model_config = ConfigDict(extra="ignore")

    schema_version: str = RESULTS_SCHEMA_VERSION
    meta: RunMeta
    thresholds: list[ThresholdResult] = Field(default_factory=list)
    passed: bool = True
    summary: dict[str, Spread] = Field(default_factory=dict)
    repeats: list[RepeatMetrics] = Field(default_factory=list)
    cases: list[CaseResult] = Field(default_factory=list)

    def write(self, path: Path) -> None:
        """Write as pretty JSON (UTF-8)."""
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")


def load_results(path: str | Path) -> RunResults:
    """Read a run: a run folder or its ``results.json``; a bad path or file is a ConfigError."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    if not p.is_file():
        raise ConfigError(f"{p}: no results.json here (pass a run folder or its results.json)")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{p}: not a readable results.json ({exc})") from None
    try:
        return RunResults.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err.get("loc", ()))
        raise ConfigError(f"{p}: not a walkaway results.json (field {field}: {err.get('msg')})") from None
