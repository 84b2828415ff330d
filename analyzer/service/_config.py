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
