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
from typing import TYPE_CHECKING, Annotated

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from analyzer._errors import ConfigError
from analyzer.taxonomy import CATEGORIES, SIGNALS, Category, Signal

if TYPE_CHECKING:
    from analyzer.extraction.profiles import Profile

_CHECKOUT_DIR = Path(__file__).resolve().parents[2] / "prompts"
_FILES = ("system.md", "question.md", "evidence.md", "severity.md", "focus.md", "naive.md", "structured.md")


class Behaviour(BaseModel):
    """One concrete behaviour a question may be asked as (``behaviours:`` in ``prompts/manifest.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The narrow yes/no question the model is asked about the chunk.")
    label: str = Field(
        default="",
        description="What the prospect did, as the report says it when this behaviour raised the flag.",
    )


def _behaviour(value: object) -> object:
    # A behaviour may be written as its question alone.
    return {"question": value} if isinstance(value, str) else value


BehaviourEntry = Annotated[Behaviour, BeforeValidator(_behaviour)]


class Question(BaseModel):
    """One yes/no question and the score at which its answer counts as Yes."""

    question: str
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    cue_threshold: float = Field(
        default=0.5, ge=0.0, le=1.0, description="The threshold when the cue lexicon matched in the chunk."
    )
    calibrated: bool = Field(
        default=False,
        description="Score relative to the chunk's mean P(Yes) over all questions (see prompts/profiles/).",
    )
    focus: bool = Field(default=True, description="Point the model at the sentences the cue lexicon matched.")
    behaviours: dict[str, BehaviourEntry] = Field(
        default_factory=dict,
        description=(
            "Narrow questions, one per concrete behaviour, that the chunks strategy scores in place of `question`:"
            " the question's score is its best behaviour's (the category as the OR of its behaviours); `question`"
            " itself is then asked only for the calibration mean."
        ),
    )

    def asked(self) -> dict[str, str]:
        """The texts the chunks strategy scores for this question, by behaviour id: its behaviours, else the
        question itself (id "")."""
        if not self.behaviours:
            return {"": self.question}
        return {b: entry.question for b, entry in self.behaviours.items()}

    def label(self, behaviour: str) -> str:
        """The report's words for ``behaviour`` ("" for the question itself or a behaviour without a label)."""
        entry = self.behaviours.get(behaviour)
        return entry.label if entry is not None else ""


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
    behaviours: dict[Category | Signal, dict[str, BehaviourEntry]] = Field(
        default_factory=dict,
        description="Per question, narrow behaviour questions the chunks strategy scores in its place.",
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
    structured: str = Field(default="", description="The structured strategy's template (structured.md).")
    calibration_floor: float = Field(default=0.15, description="See Profile.calibration_floor.")
    version_id: str = Field(description="Manifest version plus a hash of the question and template files.")
    thresholds_id: str = Field(description="Hash of the profile file the thresholds came from ('' for none).")
    profile: str = Field(default="", description="The profile the thresholds came from ('' for none).")

    @property
    def full_version(self) -> str:
        """What reports record: the prompt version and the thresholds in force."""
        return f"{self.version_id}+t{self.thresholds_id or 'none'}"


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
    """The folder's questions and templates, with every cut-off 0.5 (a profile sets them)."""
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
    texts_by_name: dict[str, str] = {str(k): v for k, v in (*manifest.categories.items(), *manifest.signals.items())}
    behaviours = {str(k): v for k, v in manifest.behaviours.items()}
    questions = {
        name: Question(
            question=text,
            focus=name not in manifest.unfocused,
            behaviours=behaviours.get(name, {}),
        )
        for name, text in texts_by_name.items()
    }
    for name, placeholder in (
        ("question.md", "{question}"),
        ("evidence.md", "{question}"),
        ("focus.md", "{sentences}"),
        ("naive.md", "{transcript}"),
        ("structured.md", "{transcript}"),
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
        structured=texts["structured.md"],
        version_id=f"{manifest.version}-{h.hexdigest()[:10]}",
        thresholds_id="",
    )


def with_profile(prompts: Prompts, profile: Profile) -> Prompts:
    """The prompt set with a profile's cut-offs and calibration applied."""
    cut = {str(k): v for k, v in profile.thresholds.items()}
    cue = {str(k): v for k, v in profile.cue_thresholds.items()}
    calibrated = {str(k) for k in profile.calibrate}
    questions = {
        name: q.model_copy(
            update={
                "threshold": cut.get(name, 0.5),
                "cue_threshold": cue.get(name, cut.get(name, 0.5)),
                "calibrated": name in calibrated,
            }
        )
        for name, q in prompts.questions.items()
    }
    return prompts.model_copy(
        update={
            "questions": questions,
            "calibration_floor": profile.calibration_floor,
            "thresholds_id": profile.digest,
            "profile": profile.name,
        }
    )


def load_prompts(folder: Path | None = None, profile: Profile | None = None) -> Prompts:
    """Load and validate the prompt set (cached per folder) with a profile's cut-offs: by default the
    embedded model's (``prompts/profiles/embedded.yaml``)."""
    base = _load((folder or prompts_dir()).resolve())
    if profile is None:
        from analyzer.extraction.profiles import embedded_profile, read_profile

        path = (folder or prompts_dir()) / "profiles" / "embedded.yaml"
        profile = read_profile(path) if folder is not None and path.is_file() else embedded_profile()
    return with_profile(base, profile)
