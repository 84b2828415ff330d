"""Prompt files (``prompts/``) loaded and validated; the code only fills them.

The shipped folder is found with ``importlib.resources``: an installed wheel carries the repository's
top-level ``prompts/`` as ``analyzer/prompts/`` (``package-dir`` in ``pyproject.toml``); a source checkout
or an editable install reads ``prompts/`` beside the package. ``WALKAWAY_PROMPTS_DIR`` overrides both.
Its version id is the manifest's ``version`` plus a hash of every file, so any edit to a prompt changes
report metadata and cache keys.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analyzer._errors import ConfigError
from analyzer.taxonomy import CATEGORIES, SIGNALS, Category, Signal

_CHECKOUT_DIR = Path(__file__).resolve().parents[2] / "prompts"
_FILES = ("system.md", "question.md", "evidence.md", "severity.md", "focus.md", "naive.md")


class Question(BaseModel):
    """One yes/no question and the score at which its answer counts as Yes."""

    question: str
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    cue_threshold: float = Field(
        default=0.5, ge=0.0, le=1.0, description="The threshold when the cue lexicon matched in the chunk."
    )
    calibrated: bool = Field(
        default=False,
        description="Score relative to the chunk's mean P(Yes) over all questions (see thresholds.yaml).",
    )
    focus: bool = Field(default=True, description="Point the model at the sentences the cue lexicon matched.")


class Thresholds(BaseModel):
    """``prompts/thresholds.yaml``: the yes-score at which each question counts as Yes."""

    model_config = ConfigDict(extra="forbid")
    thresholds: dict[Category | Signal, float]
    cue_thresholds: dict[Category | Signal, float] = Field(default_factory=dict)
    calibrate: list[Category | Signal] = Field(
        default_factory=list,
        description="Questions scored against the chunk's own yes-bias: P(Yes) minus the mean P(Yes) of every "
        "question over the same chunk, plus 0.5.",
    )
    calibration_floor: float = Field(
        default=0.15,
        ge=0.0,
        le=1.0,
        description="A calibrated question keeps its raw P(Yes) when that is below this: relative scoring "
        "ranks the questions of a chunk, it must not turn a clear No into a Yes.",
    )


class Manifest(BaseModel):
    """``prompts/manifest.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: str
    top_logprobs: int = Field(default=10, ge=2, le=20)
    categories: dict[Category, str]
    signals: dict[Signal, str]
    unfocused: list[Category | Signal] = Field(
        default_factory=list,
        description="Questions asked without pointing the model at the cue lexicon's sentences.",
    )


class Prompts(BaseModel):
    """The loaded prompt set."""

    manifest: Manifest
    questions: dict[str, Question]
    system: str
    question: str
    evidence: str
    severity: str
    focus: str
    naive: str
    calibration_floor: float = Field(default=0.15, description="See Thresholds.calibration_floor.")
    version_id: str = Field(description="Manifest version plus a hash of the question and template files.")
    thresholds_id: str = Field(description="Hash of thresholds.yaml.")

    @property
    def full_version(self) -> str:
        """What reports record: the prompt version and the thresholds in force."""
        return f"{self.version_id}+t{self.thresholds_id}"


def shipped_prompts_dir() -> Path:
    """The prompt folder that came with this installation (wheel, sdist or checkout)."""
    shipped = resources.files("analyzer").joinpath("prompts")
    # Wheels are always installed unzipped, so the traversable is a real folder on disk.
    if shipped.is_dir():
        return Path(str(shipped))
    return _CHECKOUT_DIR


def prompts_dir() -> Path:
    """The folder prompts are read from: ``WALKAWAY_PROMPTS_DIR`` if set, else the shipped one."""
    env = os.environ.get("WALKAWAY_PROMPTS_DIR")
    return Path(env) if env else shipped_prompts_dir()


@lru_cache(maxsize=8)
def _load(folder: Path) -> Prompts:
    if not folder.is_dir():
        raise ConfigError(f"prompt folder {folder} does not exist (set WALKAWAY_PROMPTS_DIR or reinstall)")
    h = hashlib.sha256()
    texts: dict[str, str] = {}
    for name in ("manifest.yaml", *_FILES):
        path = folder / name
        if not path.is_file():
            raise ConfigError(f"prompt file {path} is missing")
        raw = path.read_text(encoding="utf-8")
        h.update(name.encode() + b"\0" + raw.encode() + b"\0")
        texts[name] = raw
    try:
        manifest = Manifest.model_validate(yaml.safe_load(texts["manifest.yaml"]))
    except (ValidationError, yaml.YAMLError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(str(p) for p in first["loc"]) if first else "yaml"
        msg = first["msg"] if first else str(exc).splitlines()[0]
        raise ConfigError(f"{folder / 'manifest.yaml'}: {where}: {msg}") from None
    missing = [c for c in (*CATEGORIES, *SIGNALS) if c not in manifest.categories and c not in manifest.signals]
    if missing:
        raise ConfigError(f"{folder / 'manifest.yaml'}: no question for {', '.join(missing)}")
    th_path = folder / "thresholds.yaml"
    if not th_path.is_file():
        raise ConfigError(f"prompt file {th_path} is missing")
    th_raw = th_path.read_text(encoding="utf-8")
    try:
        th = Thresholds.model_validate(yaml.safe_load(th_raw))
    except (ValidationError, yaml.YAMLError) as exc:
        raise ConfigError(f"{th_path}: {str(exc).splitlines()[0]}") from None
    thresholds_id = hashlib.sha256(th_raw.encode()).hexdigest()[:8]
    texts_by_name: dict[str, str] = {str(k): v for k, v in (*manifest.categories.items(), *manifest.signals.items())}
    cutoffs: dict[str, float] = {str(k): v for k, v in th.thresholds.items()}
    cue_cutoffs: dict[str, float] = {str(k): v for k, v in th.cue_thresholds.items()}
    questions = {
        name: Question(
            question=text,
            threshold=cutoffs.get(name, 0.5),
            cue_threshold=cue_cutoffs.get(name, cutoffs.get(name, 0.5)),
            calibrated=name in th.calibrate,
            focus=name not in manifest.unfocused,
        )
        for name, text in texts_by_name.items()
    }
    for name, placeholder in (
        ("question.md", "{question}"),
        ("evidence.md", "{question}"),
        ("focus.md", "{sentences}"),
        ("naive.md", "{transcript}"),
    ):
        if placeholder not in texts[name]:
            raise ConfigError(f"prompt file {folder / name} must contain {placeholder}")
    return Prompts(
        manifest=manifest,
        questions=questions,
        system=texts["system.md"].strip(),
        question=texts["question.md"],
        evidence=texts["evidence.md"],
        severity=texts["severity.md"].rstrip("\n"),
        focus=texts["focus.md"].rstrip("\n"),
        naive=texts["naive.md"],
        calibration_floor=th.calibration_floor,
        version_id=f"{manifest.version}-{h.hexdigest()[:10]}",
        thresholds_id=thresholds_id,
    )


def load_prompts(folder: Path | None = None) -> Prompts:
    """Load and validate the prompt set (cached per folder)."""
    return _load((folder or prompts_dir()).resolve())
