"""LangChain providers, the structured strategy and model profiles, against loopback stub servers.

The stub speaks OpenAI's chat API (with and without log-probabilities) and Anthropic's Messages API; the
provider packages are pointed at it with a base URL, so every byte stays on 127.0.0.1 (conftest's guard).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from extraction_helpers import CALL as SMALL_CALL
from extraction_helpers import whole_chunk

from analyzer._errors import ExtractionError
from analyzer.cli import cli
from analyzer.config import load_settings
from analyzer.extraction.backends.chat import ChatResult, FakeChat, Message, yes_score
from analyzer.extraction.backends.factory import PROVIDERS, openai_compatible_chat
from analyzer.extraction.extractor import render_chunk
from analyzer.extraction.findings import Usage
from analyzer.extraction.prompts import load_prompts
from analyzer.extraction.structured import StructuredExtractor, answer_model, answer_schema
from analyzer.pipeline import analyze_async
from analyzer.taxonomy import CATEGORIES, SIGNALS
from analyzer.testing.openai_stub import Faults, OpenAIStub, last_user_text, request_schema

REPO = Path(__file__).resolve().parents[2]
CALL = REPO / "fixtures" / "plain" / "discovery-budget-frozen.txt"
SELLER = ["Dana Reyes"]
PROMPTS = load_prompts()


def _number(text: str, phrase: str) -> int:
    match = re.search(r"\[(\d+)\] " + re.escape(phrase), text)
    assert match, phrase
    return int(match.group(1))


def structured_answer(user: str, present: dict[str, str]) -> dict[str, Any]:
    """An answer to the structured schema: the named items present, citing the sentence that starts with
    the given text; every other item absent."""
    out: dict[str, Any] = {}
    for name in (*CATEGORIES, *SIGNALS):
        on = name in present
        item: dict[str, Any] = {"present": on, "sentences": [_number(user, present[name])] if on else []}
        if name in CATEGORIES:
            item |= {"severity": "high" if on else "low", "reason": "said on the call" if on else ""}
        out[name] = item
    return out


FOUND = {"budget": "Our budget is frozen", "need_confirmed": "That sounds like exactly what we need"}


def call_responder(request: dict[str, Any], *, logprobs: bool = True) -> dict[str, Any]:
    """A stub model that reads this call well: structured requests (a forced tool or a response_format
    schema) get FOUND; yes/no requests get Yes for budget, No otherwise, with or without logprobs."""
    user = last_user_text(request)
    tools = request.get("tools") or []
    if tools:
        args = structured_answer(user, FOUND)
        call = {
            "id": "call_1",
            "type": "function",
            "function": {"name": tools[0]["function"]["name"], "arguments": json.dumps(args)},
        }
        return {"content": None, "tool_calls": [call], "finish_reason": "tool_calls"}
    if request_schema(request) is not None:
        return {"content": json.dumps(structured_answer(user, FOUND))}
    answer = "No"
    if not logprobs:
        return {"content": answer}
    entry = {"token": answer, "logprob": -0.05, "bytes": list(answer.encode())}
    entry["top_logprobs"] = [dict(entry), {"token": "Yes", "logprob": -3.0, "bytes": list(b"Yes")}]
    return {"content": answer, "logprobs": {"content": [entry], "refusal": None}}


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub(responder=call_responder) as s:
        yield s


async def test_chat_openai_keeps_the_logprobs_of_an_openai_compatible_server() -> None:
    # The question the issue asks: do logprobs survive LangChain's ChatOpenAI? They do (response_metadata).
    with OpenAIStub() as s:
        chat = openai_compatible_chat(base_url=s.url, api_key="k", model="m", timeout=5, max_retries=0)
        result = await chat.complete(
            [{"role": "user", "content": "Is it? Answer Yes or No."}], max_tokens=1, top_logprobs=5
        )
        await chat.aclose()
    assert {t for t, _ in result.top_logprobs} == {"Yes", "No"}
    assert 0.0 < yes_score(result, "q") < 1.0
    assert result.prompt_tokens > 0
    assert s.log[0]["logprobs"] is True and s.log[0]["top_logprobs"] == 5
    # The older name of the length cap, which every OpenAI-compatible server knows (llama.cpp's included).
    assert s.log[0]["max_tokens"] == 1 and "max_completion_tokens" not in s.log[0]


async def test_anthropic_model_through_langchain_gives_a_grounded_report(
    stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    settings = load_settings(model="anthropic:claude-test", base_url=stub.anthropic_url)
    assert settings.resolved_backend() == "langchain"
    report = await analyze_async(CALL, seller=SELLER, settings=settings, use_cache=False)
    assert report.backend == "anthropic" and report.model == "claude-test"
    # No profile names this model: the structured strategy, and the report says it is uncalibrated.
    assert report.strategy == "structured" and report.profile == ""
    assert any("uncalibrated" in w for w in report.warnings)
    assert [f.category for f in report.flags] == ["budget"]
    assert report.flags[0].evidence[0].quote == "Our budget is frozen until next fiscal year."
    assert report.flags[0].severity == "high" and report.flags[0].rationale == "said on the call"
    assert [s.signal for s in report.signals] == ["need_confirmed"]
    assert report.verdict == "nurture" and report.complete
    # One structured request per chunk, over the Messages API with a forced tool.
    assert report.usage.calls == len(stub.log) == 1
    assert stub.log[0]["anthropic"] and stub.log[0]["tool_choice"]["function"]["name"] == "call_review"


def test_cli_analyze_with_an_anthropic_model_prints_the_report(
    stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("WALKAWAY_BASE_URL", stub.anthropic_url)
    res = CliRunner().invoke(
        cli, ["analyze", str(CALL), "--model", "anthropic:claude-test", "--seller", SELLER[0], "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["backend"] == "anthropic" and data["strategy"] == "structured"
    assert data["flags"][0]["evidence"][0]["speaker"] == "Marcus Bell"


async def test_an_endpoint_without_logprobs_falls_back_to_structured_and_says_so() -> None:
    with OpenAIStub(responder=lambda r: call_responder(r, logprobs=False)) as s:
        settings = load_settings(backend="openai", base_url=s.url, model="no-logprobs", strategy="chunks")
        report = await analyze_async(CALL, seller=SELLER, settings=settings, use_cache=False)
    # Never a silent "No" to every question: the flag is found and the fallback is on the report.
    assert report.strategy == "structured"
    assert any("returned no log-probabilities" in w and "structured" in w for w in report.warnings)
    assert [f.category for f in report.flags] == ["budget"]
    assert s.log[0].get("logprobs") is True and "response_format" in s.log[-1]
    assert len(s.log) == 2  # the first yes/no question, then one structured request


async def test_a_rate_limited_anthropic_endpoint_is_retried_by_the_one_retry_layer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    faults = Faults(rate_429=1.0, retry_after=0.05, max_failures_per_request=2)
    with OpenAIStub(responder=call_responder, faults=faults) as s:
        settings = load_settings(model="anthropic:claude-test", base_url=s.anthropic_url, max_retries=3)
        report = await analyze_async(CALL, seller=SELLER, settings=settings, use_cache=False)
    assert s.faults_served["429"] == 2 and s.requests == 3  # the SDK's own retries are off
    assert [f.category for f in report.flags] == ["budget"]


async def test_a_structured_answer_that_is_invalid_is_reasked_then_used() -> None:
    rendered = render_chunk(SMALL_CALL, whole_chunk(SMALL_CALL))
    good = structured_answer(rendered.text, {})
    good["ethics"] = {"present": True, "sentences": [1, 999], "severity": "medium", "reason": "asked for a fee"}
    missing = {k: v for k, v in good.items() if k != "budget"}
    chat = FakeChat(["{not json", json.dumps(missing), json.dumps(good)])
    usage = Usage()
    raw, scores = await StructuredExtractor(chat, PROMPTS, max_reasks=2).run(rendered, usage)
    assert usage.calls == 3
    # Each re-ask quotes the model's own answer back with what was wrong with it.
    assert "not JSON" in chat.calls[1]["messages"][-1]["content"]
    assert "budget: Field required" in chat.calls[2]["messages"][-1]["content"]
    (finding,) = raw
    assert finding.name == "ethics" and finding.severity == "medium" and finding.reason == "asked for a fee"
    # A number the prompt never showed is dropped and counted (grounding reports it).
    assert finding.sentence_ids == [rendered.numbers[1]] and finding.unknown_ids == 1
    assert scores["ethics"] == 1.0 and scores["budget"] == 0.0

    chat = FakeChat(["{not json", "[]"])
    with pytest.raises(ExtractionError, match="stayed invalid after 1 re-asks"):
        await StructuredExtractor(chat, PROMPTS, max_reasks=1).run(rendered, Usage())


def test_the_structured_schema_is_flat_closed_and_limits_sentence_numbers() -> None:
    schema = answer_schema(answer_model(PROMPTS), [1, 2, 5])
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text
    assert set(schema["properties"]) == {*CATEGORIES, *SIGNALS}
    assert schema["required"] == list(schema["properties"]) and schema["additionalProperties"] is False
    budget = schema["properties"]["budget"]
    assert budget["description"].startswith("Red flag: ") and budget["additionalProperties"] is False
    assert budget["properties"]["sentences"]["items"] == {"type": "integer", "enum": [1, 2, 5]}
    assert set(budget["properties"]) == {"present", "sentences", "severity", "reason"}
    assert set(schema["properties"]["next_step_agreed"]["properties"]) == {"present", "sentences"}


def test_a_provider_whose_package_is_missing_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PROVIDERS, "ollama", ("walkaway_test_absent_module", "ollama"))
    monkeypatch.setenv("WALKAWAY_BASE_URL", "http://127.0.0.1:9")
    res = CliRunner().invoke(cli, ["analyze", str(CALL), "--model", "ollama:qwen2.5:7b", "--seller", SELLER[0]])
    assert res.exit_code == 2
    assert res.output.startswith("error: the ollama provider needs") and "pip install 'walkaway[ollama]'" in res.output
    assert "Traceback" not in res.output


def test_a_bare_model_name_with_a_colon_is_not_a_provider() -> None:
    # Ollama's own names carry a colon; only a known provider prefix selects LangChain's provider.
    settings = load_settings(model="qwen2.5:7b", base_url="http://127.0.0.1:11434/v1")
    assert settings.resolved_backend() == "openai"
    assert load_settings(model="openai:gpt-4o-mini").resolved_backend() == "openai"
    assert load_settings(strategy="questions").strategy == "chunks"


async def test_the_embedded_profile_keeps_the_small_models_strategy_and_thresholds() -> None:
    def respond(messages: Sequence[Message], schema: dict[str, Any] | None) -> str | ChatResult:
        return "No" if schema is None else "{}"

    report = await analyze_async(CALL, seller=SELLER, chat=FakeChat(responder=respond), use_cache=False)
    assert report.strategy == "chunks" and report.profile.startswith("embedded@") and not report.warnings
    assert report.prompt_version.endswith(report.profile.split("@")[1])


@pytest.mark.parametrize(
    ("backend", "model", "base_url"),
    [
        ("fake", None, None),
        ("local", None, None),
        ("local", "anthropic:claude-test", None),  # --backend local wins over a provider model name
        ("naive", None, None),
        ("naive", None, "http://127.0.0.1:9/v1"),
        ("openai", "gpt-4o-mini", "http://127.0.0.1:9/v1"),
        ("openai", "anthropic:claude-test", None),
        ("langchain", "anthropic:claude-test", None),
        ("naive", "anthropic:claude-test", None),
    ],
)
async def test_identity_names_the_client_build_chat_builds(
    backend: str, model: str | None, base_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Profiles and batch fingerprints are chosen from identity() before any client exists: it must name the
    # very client build_chat makes, or a profile meant for one model would run with another.
    from analyzer.extraction.backends.factory import build_chat, identity

    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    settings = load_settings(model=model, base_url=base_url, api_key="k")
    chat = build_chat(settings, backend)
    assert identity(settings, backend) == (chat.backend, chat.model)
