"""Eval suites: the YAML format of DESIGN.md ("Eval cases"), loaded and validated.

A suite names its cases, where each transcript lives (relative to the suite file), and the labels:
the expected verdict, the red-flag categories present (every other category is absent), optionally the
positive signals present and substrings that some cited evidence must contain. Optional thresholds make
`walkaway eval` exit 1 when a metric misses them.

Every mistake in a suite file is a ``ConfigError`` whose sentence names the file, the line, the case id
and the field, e.g. ``evals/core.yaml, line 14, case 'acme-intro', field expected.flags[1]: ...``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from analyzer._errors import ConfigError
from analyzer.taxonomy import Category, Severity, Signal, Verdict

# Threshold names and the direction that passes: "min" metrics must reach the threshold, "max" metrics
# must stay at or below it. The names are the keys of the run summary in results.json.
THRESHOLD_DIRECTIONS: dict[str, str] = {
    "verdict_accuracy": "min",
    "macro_f1": "min",
    "micro_f1": "min",
    "signal_macro_f1": "min",
    "evidence_hit_rate": "min",
    "severity_accuracy": "min",
    "ethics_recall": "min",
    "grounding_drop_rate": "max",
    "invalid_output_rate": "max",
    "latency_p95_s": "max",
    "cost_usd": "max",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Strict):
    """Pass marks checked against the mean over repeats; a missed one makes `walkaway eval` exit 1.

    Quality metrics are minimums; rates of bad outcomes, latency and cost are maximums.
    """

    verdict_accuracy: float | None = Field(default=None, ge=0, le=1, description="Minimum verdict accuracy.")
    macro_f1: float | None = Field(
        default=None, ge=0, le=1, description="Minimum macro F1 over the red-flag categories."
    )
    micro_f1: float | None = Field(
        default=None, ge=0, le=1, description="Minimum micro F1 (all category decisions pooled)."
    )
    signal_macro_f1: float | None = Field(
        default=None, ge=0, le=1, description="Minimum macro F1 over positive signals (labelled cases only)."
    )
    evidence_hit_rate: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Minimum share of expected evidence substrings found in a quote.",
    )
    severity_accuracy: float | None = Field(
        default=None, ge=0, le=1, description="Minimum share of labelled severities matched (flags raised)."
    )
    ethics_recall: float | None = Field(default=None, ge=0, le=1, description="Minimum recall of ethics flags.")
    grounding_drop_rate: float | None = Field(
        default=None, ge=0, le=1, description="Maximum share of cited sentence ids that did not exist."
    )
    invalid_output_rate: float | None = Field(
        default=None, ge=0, le=1, description="Maximum share of cases that raised or came back incomplete."
    )
    latency_p95_s: float | None = Field(
        default=None, ge=0, description="Maximum 95th-percentile seconds per case analysis."
    )
    cost_usd: float | None = Field(default=None, ge=0, description="Maximum estimated cost of one pass (USD).")

    def items(self) -> list[tuple[str, float]]:
        """The thresholds that are set, as (metric name, value), in declaration order."""
        return [(name, v) for name in THRESHOLD_DIRECTIONS if (v := getattr(self, name)) is not None]


class Expected(_Strict):
    """The labels of one case."""

    verdict: Verdict = Field(description="The verdict a careful seller would reach on this call.")
    flags: list[Category] = Field(
        default_factory=list,
        description="Red-flag categories present; every other category is absent. Written either as a list "
        "(severity not labelled) or as a mapping {category: low|medium|high} (severity labelled).",
    )
    severities: dict[Category, Severity] = Field(
        default_factory=dict,
        description="The labelled severity per flag, from the mapping form of `flags`; empty for the list form.",
    )
    signals: list[Signal] | None = Field(
        default=None,
        description="Positive signals present; when omitted the case is not scored on signals at all.",
    )
    evidence: list[str] = Field(
        default_factory=list,
        description="Substrings that some cited quote must contain (case-insensitive).",
    )

    @model_validator(mode="before")
    @classmethod
    def _flag_mapping(cls, data: Any) -> Any:
        # `flags: {budget: medium}` labels severity; `flags: [budget]` does not. Both load into one shape.
        if isinstance(data, dict) and isinstance(data.get("flags"), dict):
            if "severities" in data:
                raise ValueError("give severities in the flags mapping, not as a separate field")
            data = {**data, "flags": list(data["flags"]), "severities": dict(data["flags"])}
        return data

    @field_validator("flags", "signals")
    @classmethod
    def _no_duplicates(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("lists a label twice")
        return value

    @field_validator("evidence")
    @classmethod
    def _non_empty_evidence(cls, value: list[str]) -> list[str]:
        if any(not s.strip() for s in value):
            raise ValueError("an evidence substring is empty (it would match anything)")
        return value


class Case(_Strict):
    """One labelled transcript."""

    id: str = Field(min_length=1, description="Unique id of the case within the suite.")
    writer: str = Field(
        default="",
        description="Who wrote the call; `eval tune --folds` keeps each writer's calls on one side of a split.",
    )
    transcript: str = Field(min_length=1, description="Transcript file, relative to the suite file.")
    seller: list[str] = Field(default_factory=list, description="Names on the selling side (role hint).")
    expected: Expected = Field(description="The labels this case is scored against.")
    notes: str = Field(default="", description="Free text for humans; ignored by scoring.")


class Suite(_Strict):
    """A labelled eval suite as written in YAML."""

    name: str = Field(min_length=1, description="Suite name; used in run folder names and reports.")
    description: str = Field(default="", description="Free text for humans.")
    thresholds: Thresholds = Field(default_factory=Thresholds, description="Optional pass marks.")
    cases: list[Case] = Field(min_length=1, description="The labelled cases.")
    path: Path | None = Field(default=None, exclude=True, description="Where the suite was loaded from.")

    @model_validator(mode="after")
    def _unique_ids(self) -> Suite:
        seen: set[str] = set()
        for case in self.cases:
            if case.id in seen:
                raise ValueError(f"case id {case.id!r} is used twice")
            seen.add(case.id)
        return self

    def transcript_path(self, case: Case) -> Path:
        """The case's transcript file, resolved relative to the suite file."""
        p = Path(case.transcript).expanduser()
        if p.is_absolute() or self.path is None:
            return p
        return self.path.parent / p

    def select(self, ids: list[str] | tuple[str, ...]) -> Suite:
        """A copy holding only the named cases (in suite order); an unknown id is a ConfigError."""
        if not ids:
            return self
        known = {c.id for c in self.cases}
        unknown = [i for i in ids if i not in known]
        if unknown:
            listing = ", ".join(sorted(known))
            raise ConfigError(f"{self.path or self.name}: no case with id {unknown[0]!r} (known: {listing})")
        wanted = set(ids)
        return self.model_copy(update={"cases": [c for c in self.cases if c.id in wanted]})


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the YAML node at a pydantic error location (the deepest node that exists)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            nxt = node.value[key]
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    return line


def _describe(exc: ValidationError, raw: Any, root: yaml.Node | None, where: str) -> str:
    err = exc.errors()[0]
    # The severities of the mapping form live under `flags` in the file.
    loc = tuple("flags" if part == "severities" else part for part in err.get("loc", ()))
    msg = err.get("msg", "invalid value")
    if err.get("type") == "literal_error":
        expected = (err.get("ctx") or {}).get("expected", "")
        msg = f"unknown label {err.get('input')!r} (expected one of {expected})"
    elif err.get("type") == "extra_forbidden":
        msg = "unknown field (check the spelling against DESIGN.md, 'Eval cases')"
    elif err.get("type") == "missing":
        msg = "required field is missing"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    line = _line_of(root, loc)
    head = f"{where}, line {line}" if line else where
    case_part = ""
    rest = loc
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
        idx = loc[1]
        case_id = None
        cases = raw.get("cases") if isinstance(raw, dict) else None
        if isinstance(cases, list) and idx < len(cases) and isinstance(cases[idx], dict):
            case_id = cases[idx].get("id")
        case_part = f", case {case_id!r}" if case_id else f", case #{idx + 1}"
        rest = loc[2:]
    field = ""
    for part in rest:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    field_part = f", field {field}" if field else ""
    return f"{head}{case_part}{field_part}: {msg}"


def parse_suite(text: str, *, path: Path | None = None, check_files: bool = True) -> Suite:
    """Validate suite YAML text; ``path`` anchors relative transcript paths and error messages."""
    where = str(path) if path is not None else "<suite>"
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(f"{where}{line}: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: an eval suite must be a mapping with 'name' and 'cases'")
    try:
        suite = Suite.model_validate({**raw, "path": path})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, raw, root, where)) from None
    if check_files:
        for i, case in enumerate(suite.cases):
            tp = suite.transcript_path(case)
            if not tp.is_file():
                tline = _line_of(root, ("cases", i, "transcript"))
                at = f", line {tline}" if tline else ""
                raise ConfigError(f"{where}{at}, case {case.id!r}, field transcript: file not found: {tp}")
    return suite


def load_suite(path: str | Path, *, check_files: bool = True) -> Suite:
    """Read and validate a suite file; every problem is a ConfigError naming the line, case and field."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: eval suite file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read eval suite ({exc})") from None
    return parse_suite(text, path=p, check_files=check_files)
