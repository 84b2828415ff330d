"""`walkaway serve`: its options, and one-sentence errors with exit code 2 before anything starts."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from analyzer.cli import cli


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    for opt in ("--host", "--port", "--backend", "--concurrency", "--database-url"):
        assert opt in result.output


def test_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port), "--backend", "keywords"])
    assert result.exit_code == 2
    assert f"error: port {port} on 127.0.0.1 is already in use; choose another with --port" in result.output


def test_unreachable_database_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALKAWAY_DATABASE_URL", "postgresql://u:pw@127.0.0.1:1/x")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = CliRunner().invoke(cli, ["serve", "--port", str(port), "--backend", "keywords"])
    assert result.exit_code == 2
    assert "error: cannot open database postgresql+psycopg://u:***@127.0.0.1:1/x: " in result.output
    assert "Traceback" not in result.output


def test_bad_concurrency_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["serve", "--concurrency", "0"])
    assert result.exit_code == 2
