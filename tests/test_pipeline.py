"""analyze() end to end with the scripted model: parse → chunk → extract → ground → merge → rules."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from analyzer._errors import BackendError
from analyzer.cli import cli
from analyzer.config import load_settings
from analyzer.extraction.backends.chat import FakeChat, Message
from analyzer.extraction.prompts import load_prompts
from analyzer.pipeline import analyze, analyze_async

REPO = Path(__file__).resolve().parent.parent
CALL = REPO / "fixtures" / "plain" / "discovery-budget-frozen.txt"
PROMPTS = load_prompts()
QUESTION_OF = {text: name for name, q in PROMPTS.questions.items() for text in (q.question, *q.asked().values())}


def scripted(yes: dict[str, str]) -> FakeChat:
    """Yes to the named questions, citing the first sentence containing the given text."""

    def respond(messages: Sequence[Message], schema: dict[str, Any] | None) -> str:
        user = messages[1]["content"]
        name = next(n for q, n in QUESTION_OF.items() if q in user)
        if schema is None:
            return "Yes" if name in yes else "No"
        number = next(line for line in user.split("[") if yes[name] in line).split("]")[0]
        answer: dict[str, Any] = {"ids": [int(number)]}
        if "severity" in schema["properties"]:
            answer |= {"severity": "high", "reason": "stated on the call"}
        return json.dumps(answer)

    return FakeChat(responder=respond)


async def test_scripted_findings_become_a_grounded_report() -> None:
    chat = scripted({"budget": "Our budget is frozen", "need_confirmed": "exactly what we need"})
    report = await analyze_async(CALL, seller=["Dana Reyes"], chat=chat, use_cache=False)
    assert [f.category for f in report.flags] == ["budget"]
    assert report.flags[0].evidence[0].quote == "Our budget is frozen until next fiscal year."
    assert report.flags[0].evidence[0].speaker == "Marcus Bell"
    assert [s.signal for s in report.signals] == ["need_confirmed"]
    assert report.verdict == "nurture" and report.decided_by
    assert report.prompt_version == PROMPTS.full_version and report.complete


async def test_a_failing_chunk_marks_the_report_incomplete(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALKAWAY_CHUNK_TOKENS", "300")
    monkeypatch.setenv("WALKAWAY_CHUNK_OVERLAP_TOKENS", "0")
    chat = scripted({})
    calls = {"n": 0}
    inner = chat.complete

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise BackendError("the fake endpoint answered HTTP 500")
        return await inner(*args, **kwargs)

    chat.complete = flaky  # type: ignore[method-assign]
    report = await analyze_async(CALL, seller=["Dana Reyes"], chat=chat, use_cache=False, settings=load_settings())
    assert not report.complete
    assert len(report.chunk_failures) == 1 and "HTTP 500" in report.chunk_failures[0]


async def test_every_chunk_failing_raises_the_backend_error() -> None:
    chat = FakeChat(responder=lambda m, s: BackendError("cannot reach the endpoint"))  # type: ignore[arg-type,return-value]
    with pytest.raises(BackendError, match="cannot reach"):
        await analyze_async(CALL, seller=["Dana Reyes"], chat=chat, use_cache=False)


def test_keywords_backend_needs_no_model() -> None:
    report = analyze(CALL, seller=["Dana Reyes"], backend="keywords")
    assert report.backend == "keywords" and report.usage.calls == 0


def test_cli_analyze_json_and_fail_on(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    runner = CliRunner()
    res = runner.invoke(
        cli,
        [
            "analyze",
            str(CALL),
            "--seller",
            "Dana Reyes",
            "--backend",
            "keywords",
            "--format",
            "json",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    verdict = json.loads(out.read_text())["verdict"]
    res = runner.invoke(cli, ["analyze", str(CALL), "--backend", "keywords", "--fail-on", verdict, "--out", str(out)])
    assert res.exit_code == 1


def test_cli_bad_input_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    res = CliRunner().invoke(cli, ["analyze", str(empty), "--backend", "keywords"])
    assert res.exit_code == 2
    assert res.output.startswith("error: ") and "empty.txt" in res.output and "Traceback" not in res.output


def test_sync_analyze_twice_does_not_reuse_a_client_of_a_closed_loop() -> None:
    first = analyze(CALL, seller=["Dana Reyes"], backend="fake", use_cache=False)
    second = analyze(CALL, seller=["Dana Reyes"], backend="fake", use_cache=False)
    assert first.verdict == second.verdict


async def test_concurrent_analyses_share_one_client() -> None:
    """build_chat runs on the loop thread, so every analysis of one loop reuses one client (a client per
    analysis cost a new connection pool each time and cut batch throughput to a third)."""
    from analyzer.pipeline import build_chat

    settings = load_settings(base_url="http://127.0.0.1:9/v1", api_key="x")
    assert build_chat(settings, "openai") is build_chat(settings, "openai")


async def test_an_unusable_answer_names_its_chunk_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALKAWAY_CHUNK_TOKENS", "300")
    monkeypatch.setenv("WALKAWAY_CHUNK_OVERLAP_TOKENS", "0")

    def respond(messages: Sequence[Message], schema: dict[str, Any] | None) -> str:
        user = messages[1]["content"]
        if schema is None:
            return "Yes" if PROMPTS.questions["budget"].question in user else "No"
        if "Our budget is frozen until" in user:  # the evidence of one chunk stays unusable; the other chunks are fine
            return "not json"
        first = int(user.split("[")[1].split("]")[0])
        return json.dumps(
            {"ids": [first], "severity": "low", "reason": "x"}
            if "severity" in schema["properties"]
            else {"ids": [first]}
        )

    chat = FakeChat(responder=respond)
    report = await analyze_async(CALL, seller=["Dana Reyes"], chat=chat, use_cache=False, settings=load_settings())
    (failure,) = report.chunk_failures
    chunk = failure.split(":")[0]
    assert failure.startswith(f"{chunk}: the model's evidence") and failure.count(f"{chunk}:") == 1
