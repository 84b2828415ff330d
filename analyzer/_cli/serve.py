"""`walkaway serve`: the upload page and JSON API (FastAPI on uvicorn)."""

from __future__ import annotations

import errno
import ipaddress
import socket

import click

from analyzer._cli._options import model_options
from analyzer._errors import ConfigError


def _check_port(host: str, port: int) -> None:
    # uvicorn only logs a bind failure and exits 1; say it in one sentence with exit 2 instead.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            why = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
            raise ConfigError(f"port {port} on {host} {why}; choose another with --port") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@model_options()
@click.option(
    "--concurrency", type=click.IntRange(1, 256), envvar="WALKAWAY_CONCURRENCY",
    help="Analyses run at once (default 4).",
)
@click.option("--database-url", envvar="WALKAWAY_DATABASE_URL", help="SQLAlchemy URL (default: SQLite in the home).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option("--redact/--no-redact", "redact_pii", default=None,
              help="Redact personal data before uploads are sent to the model (default: on for endpoints off "
              "this machine; WALKAWAY_REDACT).")
def command(
    host: str, port: int, backend: str | None, model: str | None, strategy: str | None, profile: str | None,
    concurrency: int | None, database_url: str | None, log_level: str,
    redact_pii: bool | None,
) -> None:
    """Serve the upload page and the JSON API (docs at /docs)."""
    import os

    import uvicorn

    from analyzer._cli.analyze import redaction_notice
    from analyzer.config import load_settings
    from analyzer.service import create_app, load_service_config
    from analyzer.service._store import redact

    # Analyses may run in worker processes that read their settings from the environment.
    for var, value in (("WALKAWAY_MODEL", model), ("WALKAWAY_STRATEGY", strategy), ("WALKAWAY_PROFILE", profile)):
        if value is not None:
            os.environ[var] = value
    settings = load_settings(backend=backend, redact=redact_pii)
    redaction_notice(settings, backend or settings.resolved_backend())
    config = load_service_config(concurrency=concurrency, database_url=database_url)
    if not _is_loopback(host) and not config.service_api_key:
        click.echo(
            f"warning: listening on {host} without WALKAWAY_SERVICE_API_KEY: anyone who can reach this "
            "address can upload and read analyses", err=True,
        )
    _check_port(host, port)
    app = create_app(settings, config, backend=backend)
    url = config.resolved_database_url(settings)
    click.echo(f"walkaway: serving on http://{host}:{port}/ (database {redact(url)}, "
               f"backend {settings.resolved_backend()}, concurrency {config.concurrency})", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False, server_header=False)
