"""The exit-code contract of ``analyzer/_errors.py``, command by command.

0 ok; 1 the analysis or eval said no; 2 usage, configuration or input error; 3 the backend was
unreachable or kept failing; 4 an internal error. Every non-zero exit prints one sentence, no traceback.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from analyzer._errors import EXIT_BACKEND, EXIT_INTERNAL, EXIT_NO, EXIT_OK, EXIT_USAGE
from analyzer.cli import cli

REPO = Path(__file__).resolve().parent.parent
CALL = REPO / "fixtures" / "plain" / "discovery-budget-frozen.txt"
SMOKE = REPO / "evals" / "smoke.yaml"


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _one_sentence(res: Result) -> None:
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    errors = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, res.output


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALKAWAY_BASE_URL", f"http://127.0.0.1:{_closed_port()}/v1")
    monkeypatch.setenv("WALKAWAY_MAX_RETRIES", "0")


# parse ---------------------------------------------------------------------------------------------


def test_parse_ok_and_input_errors(tmp_path: Path) -> None:
    assert _run("parse", str(CALL)).exit_code == EXIT_OK
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    res = _run("parse", str(empty))
    assert res.exit_code == EXIT_USAGE
    _one_sentence(res)
    assert "empty.txt" in res.output
    res = _run("parse", str(tmp_path / "missing.txt"))
    assert res.exit_code == EXIT_USAGE


# analyze -------------------------------------------------------------------------------------------


def test_analyze_ok_fail_on_and_usage() -> None:
    ok = _run("analyze", str(CALL), "--backend", "keywords", "--format", "json")
    assert ok.exit_code == EXIT_OK, ok.output
    verdict = json.loads(ok.output)["verdict"]
    assert _run("analyze", str(CALL), "--backend", "keywords", "--fail-on", verdict).exit_code == EXIT_NO
    assert _run("analyze", str(CALL), "--backend", "keywordz").exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("WALKAWAY_CHUNK_TOKENS", "0"),
        ("WALKAWAY_CHUNK_OVERLAP_TOKENS", "5000"),
        ("WALKAWAY_MAX_RETRIES", "-1"),
        ("WALKAWAY_LOCAL_QUANT", "q3_k"),
    ],
)
def test_bad_settings_are_one_sentence_exit_2(monkeypatch: pytest.MonkeyPatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    res = _run("analyze", str(CALL), "--backend", "fake")
    assert res.exit_code == EXIT_USAGE, res.output
    _one_sentence(res)
    assert "invalid setting" in res.output and var in res.output


@pytest.mark.usefixtures("unreachable")
def test_analyze_unreachable_endpoint_is_exit_3() -> None:
    res = _run("analyze", str(CALL), "--backend", "openai", "--no-cache")
    assert res.exit_code == EXIT_BACKEND, res.output
    _one_sentence(res)
    assert "cannot reach the openai endpoint" in res.output


def test_internal_error_is_one_sentence_exit_4(monkeypatch: pytest.MonkeyPatch) -> None:
    import analyzer.pipeline as pipeline

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("something impossible")

    monkeypatch.setattr(pipeline, "analyze", boom)
    res = _run("analyze", str(CALL), "--backend", "keywords")
    assert res.exit_code == EXIT_INTERNAL
    _one_sentence(res)
    assert "internal error (RuntimeError" in res.output and "please report" in res.output


# explain -------------------------------------------------------------------------------------------


def test_explain_ok_fail_on_and_bad_report(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    assert _run("analyze", str(CALL), "--backend", "keywords", "--format", "json", "--out", str(report)).exit_code == 0
    verdict = json.loads(report.read_text())["verdict"]
    assert _run("explain", str(report)).exit_code == EXIT_OK
    assert _run("explain", str(report), "--fail-on", verdict).exit_code == EXIT_NO
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    res = _run("explain", str(bad))
    assert res.exit_code == EXIT_USAGE
    _one_sentence(res)


# eval ----------------------------------------------------------------------------------------------


def test_eval_ok_typo_and_thresholds(tmp_path: Path) -> None:
    res = _run("eval", str(SMOKE), "--backend", "keywords", "--out", str(tmp_path / "a"))
    assert res.exit_code in (EXIT_OK, EXIT_NO), res.output  # the smoke suite's thresholds judge keywords
    assert _run("eval", str(SMOKE), "--backend", "keywordz", "--out", str(tmp_path / "b")).exit_code == EXIT_USAGE
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        SMOKE.read_text()
        .replace("transcript: smoke/", f"transcript: {SMOKE.parent}/smoke/")
        .replace("thresholds: {", "thresholds: {signal_macro_f1: 1.0, ", 1)
        .replace("verdict_accuracy: 0.6", "verdict_accuracy: 1.0", 1)
    )
    res = _run("eval", str(strict), "--backend", "keywords", "--out", str(tmp_path / "c"))
    assert res.exit_code == EXIT_NO, res.output
    assert "threshold missed:" in res.output


@pytest.mark.usefixtures("unreachable")
def test_eval_every_case_failing_on_the_backend_is_exit_3(tmp_path: Path) -> None:
    res = _run("eval", str(SMOKE), "--backend", "openai", "--no-cache", "--case", "s2-clear-pursue")
    assert res.exit_code == EXIT_BACKEND, res.output
    _one_sentence(res)


def test_eval_tune_usage_errors_are_exit_2(tmp_path: Path) -> None:
    res = _run("eval", "tune", str(tmp_path / "no-run"))
    assert res.exit_code == EXIT_USAGE
    _one_sentence(res)


# batch ---------------------------------------------------------------------------------------------


def test_batch_ok_failed_item_and_usage(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "good.txt").write_text(CALL.read_text())
    assert _run("batch", str(calls), "--out", str(tmp_path / "o1"), "--backend", "keywords").exit_code == EXIT_OK
    (calls / "bad.txt").write_text("")
    assert _run("batch", str(calls), "--out", str(tmp_path / "o2"), "--backend", "keywords").exit_code == EXIT_NO
    res = _run("batch", str(tmp_path / "nothing-here"), "--out", str(tmp_path / "o3"))
    assert res.exit_code == EXIT_USAGE
    _one_sentence(res)


@pytest.mark.usefixtures("unreachable")
def test_batch_every_item_failing_on_the_backend_is_exit_3(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "good.txt").write_text(CALL.read_text())
    res = _run("batch", str(calls), "--out", str(tmp_path / "o"), "--backend", "openai", "--no-cache")
    assert res.exit_code == EXIT_BACKEND, res.output


# serve ---------------------------------------------------------------------------------------------


def test_serve_usage_error_is_exit_2() -> None:
    assert _run("serve", "--port", "not-a-port").exit_code == EXIT_USAGE


@pytest.mark.parametrize("command", ["parse", "analyze"])
def test_a_folder_or_a_missing_file_is_one_sentence(command: str, tmp_path: Path) -> None:
    for target in (tmp_path, tmp_path / "missing.txt"):
        res = _run(command, str(target), *(["--backend", "keywords"] if command == "analyze" else []))
        assert res.exit_code == EXIT_USAGE
        _one_sentence(res)
        assert "Usage:" not in res.output


def test_an_unknown_model_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class NotFound(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            body = b'{"error": {"message": "The model `gpt-9` does not exist", "type": "invalid_request_error"}}'
            self.send_response(404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("WALKAWAY_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/v1")
        res = _run("analyze", str(CALL), "--backend", "openai", "--model", "gpt-9", "--no-cache")
    finally:
        server.shutdown()
        server.server_close()
    assert res.exit_code == EXIT_USAGE, res.output
    _one_sentence(res)
    assert "refused model 'gpt-9' with HTTP 404" in res.output
