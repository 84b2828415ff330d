"""Settings of the upload service, read from ``WALKAWAY_*`` variables like the rest of walkaway.

They live apart from :class:`analyzer.config.Settings` because only ``walkaway serve`` reads them.
"""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from analyzer._errors import ConfigError
from analyzer.config import Settings


class ServiceConfig(BaseSettings):
    """Every knob of the service. CLI flags override these; these override the defaults."""

    model_config = SettingsConfigDict(env_prefix="WALKAWAY_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (e.g. postgresql+psycopg://user@127.0.0.1/walkaway); "
        "unset means an SQLite file under the walkaway home folder.",
    )
    service_api_key: str | None = Field(
        default=None,
        description="When set, every API call needs 'Authorization: Bearer <key>' and every page the key "
        "(as that header or as the cookie the login form sets).",
    )
    max_upload_bytes: int = Field(
        default=20_000_000, gt=0, description="Uploads larger than this are refused with 413."
    )
    concurrency: int = Field(default=4, gt=0, description="Analyses the background worker runs at once.")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser; empty (the default) turns CORS off.",
    )
    poll_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How often an idle worker looks for queued jobs that another process stored.",
    )
    analysis_processes: bool | None = Field(
        default=None,
        description="Run each worker slot's analyses in a child process of its own, so their CPU work never "
        "holds up requests and a crash there cannot take the server down. Unset means yes, except with the "
        "embedded local model, which each process would load again.",
    )
    child_process_bytes: int = Field(
        default=1_000_000,
        ge=0,
        description="Uploads to parse and reports to render that are larger than this are handled in a child "
        "process (in a thread, their CPU work would still hold up other requests, and a crash there cannot "
        "take the server down); smaller ones in a thread, which starts faster.",
    )
    session_seconds: int = Field(
        default=12 * 3600,
        gt=0,
        description="How long a login lasts: the session (stored server-side) expires after this many seconds.",
    )
    uploads_per_minute: float = Field(
        default=30.0,
        ge=0,
        description="Sustained uploads allowed per client (IP address); 0 turns the limit off.",
    )
    upload_burst: int = Field(
        default=10,
        gt=0,
        description="Uploads a client may send at once before uploads_per_minute applies.",
    )
    job_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description="A running job whose worker has not renewed its lease for this long is taken back "
        "(the worker died); live workers renew it every third of this.",
    )
    max_attempts: int = Field(
        default=3,
        gt=0,
        description="A job started this many times without finishing (its worker kept dying) is marked failed.",
    )

    def resolved_database_url(self, settings: Settings) -> str:
        """The configured URL, else ``sqlite:///<home>/service.sqlite3`` (the folder is created)."""
        if self.database_url:
            return self.database_url
        settings.home.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{settings.home / 'service.sqlite3'}"


def load_service_config(**overrides: object) -> ServiceConfig:
    """Service settings from env/.env with non-None overrides applied; a bad value raises ConfigError."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return ServiceConfig(**clean)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err.get("loc", ())) or "settings"
        raise ConfigError(f"invalid service setting {field}: {err.get('msg', 'bad value')}") from None
