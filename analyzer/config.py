"""Typed settings: ``WALKAWAY_*`` environment variables, a ``.env`` file, then CLI flags on top."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from analyzer._errors import ConfigError

BackendName = Literal["local", "openai", "langchain", "fake", "naive", "keywords"]
StrategyName = Literal["chunks", "windows", "structured"]
"""``chunks`` and ``windows`` are the two ``questions`` strategies (yes/no questions scored by
log-probabilities, for small local models); ``structured`` is one structured-output call per chunk, for
capable models and endpoints without log-probabilities."""
LocalQuant = Literal["q4_k_m", "q5_k_m"]
"""Weight types of the embedded model: the shipped file, and one ``localmodel.local_model`` derives from it."""
STRATEGY_ALIASES = {"questions": "chunks"}


def _default_home() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "walkaway"


class Settings(BaseSettings):
    """Every knob of walkaway. CLI flags override these; these override the defaults."""

    model_config = SettingsConfigDict(env_prefix="WALKAWAY_", env_file=".env", extra="ignore")

    home: Path = Field(
        default_factory=_default_home,
        description="User folder for the response cache, the joined local model and server logs.",
    )
    model_dir: Path = Field(
        default_factory=lambda: _default_home() / "models",
        description="Where the embedded model's GGUF is joined once (1.1 GB); shared by every home.",
    )
    backend: BackendName | None = Field(
        default=None, description="LLM backend; unset means 'openai' when base_url is set, else 'local'."
    )
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint for the openai backend.")
    api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("WALKAWAY_API_KEY", "OPENAI_API_KEY"),
        description="API key for the openai backend (WALKAWAY_API_KEY, else OPENAI_API_KEY).",
    )
    model: str | None = Field(default=None, description="Model name; the local backend ignores it.")
    request_timeout: float = Field(
        default=120.0, gt=0, le=3600, description="Seconds before one LLM request times out."
    )
    max_retries: int = Field(
        default=4,
        ge=0,
        le=10,
        description="The one retry budget: further attempts of one request after a 429, a 5xx, a timeout, a "
        "dropped connection or a cut-off body, with exponential backoff that honours Retry-After. Applied in "
        "one place (LangChainChat.complete); nothing above it retries a request again.",
    )
    max_reasks: int = Field(default=2, ge=0, le=5, description="Re-asks when the output is invalid JSON or off-schema.")
    max_file_bytes: int = Field(default=20_000_000, ge=1, description="Transcripts larger than this are refused.")
    max_words: int = Field(
        default=250_000,
        ge=1,
        description="Transcripts that hold more spoken words than this are refused (250,000 words is about 27 "
        "hours of talk; a 60-minute call is about 9,000).",
    )
    chunk_tokens: int = Field(
        default=1800, ge=100, le=100_000, description="Token budget of the transcript part of one chunk."
    )
    chunk_overlap_tokens: int = Field(
        default=120, ge=0, le=10_000, description="Tokens of context repeated between chunks."
    )
    strategy: StrategyName | None = Field(
        default=None,
        description="Extraction strategy for the model backends: 'chunks' (alias 'questions': every yes/no "
        "question over ~1,800-token chunks), 'windows' (narrow behaviour questions over short prospect windows) "
        "or 'structured' (one structured-output call per chunk). Unset: the model profile's strategy, and "
        "'structured' for a model without a profile.",
    )
    profile: str | None = Field(
        default=None,
        description="Model profile (prompts/profiles/<name>.yaml or <home>/profiles/<name>.yaml, or a path): "
        "strategy, thresholds and calibration. Unset: the profile that names the model, if any.",
    )
    window_tokens: int = Field(
        default=260, ge=60, le=4000, description="Token budget of one window (windows strategy)."
    )
    cache: bool = Field(default=True, description="Use the SQLite response cache.")
    redact: bool | None = Field(
        default=None,
        description="Replace personal data with typed placeholders in what is sent to the model (names, e-mail, "
        "phones, card/account numbers, street addresses; analyzer/extraction/redact.py). Unset: on for every "
        "endpoint that is not on this machine, off for the embedded model.",
    )
    local_ctx: int = Field(
        default=8192, ge=2048, le=131_072, description="Context window of the embedded model (tokens)."
    )
    local_threads: int | None = Field(
        default=None, ge=1, le=512, description="Threads for the local model (default: all cores)."
    )
    local_quant: LocalQuant = Field(
        default="q4_k_m",
        description="Weight type of the embedded model. q4_k_m is the shipped file; q5_k_m is made from it "
        "once on this machine (nothing is downloaded): prompts evaluate about 40% faster on an AVX-512 CPU "
        "and tokens generate about 25% slower (benchmarks/quant_speed.py). The embedded profile's cut-offs "
        "were fitted on q4_k_m (README, 'Speed of the embedded model').",
    )
    price_per_mtok_in: float = Field(default=0.0, description="USD per million prompt tokens (cost estimate).")
    price_per_mtok_out: float = Field(default=0.0, description="USD per million generated tokens.")
    price_per_mtok_cached: float = Field(default=0.0, description="USD per million cached prompt tokens.")

    @field_validator("strategy", mode="before")
    @classmethod
    def _strategy_alias(cls, value: object) -> object:
        return STRATEGY_ALIASES.get(value, value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _overlap_below_budget(self) -> Settings:
        if self.chunk_overlap_tokens >= self.chunk_tokens:
            raise ValueError(
                f"WALKAWAY_CHUNK_OVERLAP_TOKENS ({self.chunk_overlap_tokens}) must be smaller than "
                f"WALKAWAY_CHUNK_TOKENS ({self.chunk_tokens})"
            )
        return self

    def resolved_backend(self) -> BackendName:
        """CLI flag / env first; then 'langchain' for a ``provider:model`` name such as
        ``anthropic:claude-...`` ('openai' for ``openai:...``); then 'openai' if an endpoint is configured;
        else the embedded 'local'."""
        if self.backend is not None:
            return self.backend
        from analyzer.extraction.backends.factory import split_model

        provider, _ = split_model(self.model)
        if provider is not None:
            return "openai" if provider == "openai" else "langchain"
        return "openai" if self.base_url else "local"

    @property
    def cache_path(self) -> Path:
        """SQLite response cache."""
        return self.home / "cache.sqlite3"


def load_settings(**overrides: object) -> Settings:
    """Settings from env/.env with non-None overrides applied; a bad value raises ConfigError."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err.get("loc", ()))
        msg = str(err.get("msg", "bad value")).removeprefix("Value error, ")
        if not field:
            raise ConfigError(f"invalid settings: {msg}") from None
        raise ConfigError(f"invalid setting WALKAWAY_{field.upper()}: {msg}") from None
