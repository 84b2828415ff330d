"""Model profiles: which strategy a model runs with, and the cut-offs and calibration tuned for it.

A profile is ``prompts/profiles/<name>.yaml`` (shipped) or ``<home>/profiles/<name>.yaml`` (written by
``walkaway eval tune RUN --profile NAME --write``; the user folder wins, so a team's own calibration never
needs write access to the installed package). The embedded model's profile, ``embedded``, holds the
yes-score thresholds tuned for Qwen2.5-Coder-1.5B and its yes-bias calibration; applying those to another
model would be a guess, so a model with no profile runs the ``structured`` strategy (no thresholds) and its
report says it is uncalibrated.

Which profile applies: ``--profile`` / ``WALKAWAY_PROFILE`` when given; else the first profile whose
``models`` names the model (``backend:model`` or the bare model name); else none. The embedded model and
the scripted test model always get ``embedded``.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analyzer._errors import ConfigError
from analyzer.config import StrategyName
from analyzer.taxonomy import Category, Signal

EMBEDDED = "embedded"
"""The profile of the embedded model (and of the scripted fake model that stands in for it in tests)."""


class Profile(BaseModel):
    """One model's profile (``prompts/profiles/<name>.yaml``)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="The profile's name (its file name without .yaml).")
    models: list[str] = Field(
        default_factory=list,
        description="Models this profile applies to without --profile: 'backend:model' or a bare model name.",
    )
    strategy: StrategyName = Field(default="chunks", description="The extraction strategy the model runs with.")
    prompt_version: str = Field(default="", description="The prompt version the thresholds were tuned with.")
    tuned_on: str = Field(default="", description="The labelled run the thresholds were tuned on.")
    thresholds: dict[Category | Signal, float] = Field(
        default_factory=dict, description="Yes-score cut-off per question when no cue matched in the chunk."
    )
    cue_thresholds: dict[Category | Signal, float] = Field(
        default_factory=dict, description="The cut-off when the cue lexicon matched in the chunk."
    )
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
    digest: str = Field(default="", exclude=True, description="Hash of the file's text (reports and cache keys).")

    @property
    def label(self) -> str:
        """``name@digest``: what reports and fingerprints record."""
        return f"{self.name}@{self.digest}" if self.digest else self.name


def profile_dirs(home: Path) -> list[Path]:
    """Where profiles are looked up, first match wins: the user's, then the shipped ones."""
    from analyzer.extraction.prompts import prompts_dir

    return [home / "profiles", prompts_dir() / "profiles"]


@lru_cache(maxsize=32)
def _read(path: Path, mtime_ns: int) -> Profile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the profile ({exc})") from None
    try:
        data = yaml.safe_load(text)
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a profile is a YAML mapping (name, strategy, thresholds...)")
        data.setdefault("name", path.stem)
        profile = Profile.model_validate(data)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "profile"
        raise ConfigError(f"{path}: {where}: {err['msg']}") from None
    return profile.model_copy(update={"digest": hashlib.sha256(text.encode()).hexdigest()[:8]})


def read_profile(path: Path) -> Profile:
    """One profile file, validated (cached until the file changes)."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the profile ({exc.strerror})") from None
    return _read(path.resolve(), mtime)


def load_profile(name: str, home: Path) -> Profile:
    """The profile called ``name`` (or at that path, if it ends in .yaml)."""
    if name.endswith((".yaml", ".yml")):
        return read_profile(Path(name))
    for folder in profile_dirs(home):
        path = folder / f"{name}.yaml"
        if path.is_file():
            return read_profile(path)
    known = sorted({p.stem for d in profile_dirs(home) if d.is_dir() for p in d.glob("*.yaml")})
    raise ConfigError(
        f"no profile named {name!r} (known: {', '.join(known) or 'none'}; looked in "
        f"{', '.join(str(d) for d in profile_dirs(home))})"
    )


def embedded_profile() -> Profile:
    """The shipped profile of the embedded model."""
    from analyzer.extraction.prompts import prompts_dir

    path = prompts_dir() / "profiles" / f"{EMBEDDED}.yaml"
    if not path.is_file():
        raise ConfigError(f"prompt file {path} is missing")
    return read_profile(path)


def find_profile(name: str | None, *, backend: str, model: str, home: Path) -> Profile | None:
    """The profile in force for this model, or None when it has none (uncalibrated)."""
    if name:
        return load_profile(name, home)
    if backend in ("local", "fake"):
        return embedded_profile()
    wanted = {f"{backend}:{model}", model}
    for folder in profile_dirs(home):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            profile = read_profile(path)
            if wanted & set(profile.models):
                return profile
    return None


def choose(
    settings_profile: str | None, settings_strategy: StrategyName | None, *, backend: str, model: str, home: Path
) -> tuple[Profile | None, StrategyName]:
    """The profile in force and the strategy to run: the explicit strategy, else the profile's, else
    ``structured`` for a model without a profile (no thresholds to apply)."""
    profile = find_profile(settings_profile, backend=backend, model=model, home=home)
    if settings_strategy is not None:
        return profile, settings_strategy
    return profile, profile.strategy if profile is not None else "structured"
