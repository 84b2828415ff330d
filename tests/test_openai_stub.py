"""The local OpenAI-compatible stub: answers in OpenAI's shapes, and injects faults deterministically."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator

import httpx
import openai
import pytest
from pydantic import BaseModel

from analyzer.testing import Faults, OpenAIStub, invalid_instance, minimal_instance

REPO_ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


class Verdict(BaseModel):
    verdict: str
    score: float
    items: list[str]
    flag: bool


SCHEMA = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": ["pursue", "walk_away"]},
        "score": {"type": "number", "minimum": 0},
        "items": {"type": "array", "items": {"type": "string"}},
        "flag": {"type": "boolean"},
        "optional": {"type": "string"},
    },
    "required": ["verdict", "score", "items", "flag"],
    "additionalProperties": False,
}


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as s:
        yield s


def _client(stub: OpenAIStub, **kw: object) -> openai.OpenAI:
    return openai.OpenAI(base_url=stub.url, api_key="dummy", **kw)  # type: ignore[arg-type]


def test_models_and_plain_text(stub: OpenAIStub) -> None:
    client = _client(stub)
    assert [m.id for m in client.models.list()] == ["stub-model"]
    out = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert out.choices[0].message.content
    assert out.usage is not None
    assert out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens
    assert out.usage.prompt_tokens_details is not None
    assert out.usage.prompt_tokens_details.cached_tokens == 0
    assert stub.requests == 1


def test_logprobs_yes_no_is_deterministic(stub: OpenAIStub) -> None:
    client = _client(stub)
    answers = {}
    for question in ("Does the prospect lack budget?", "Is there a kickback?", "Is the buyer present?") * 2:
        out = client.chat.completions.create(
            model="m",
            messages=[
                {"role": "system", "content": "Answer Yes or No."},
                {"role": "user", "content": question},
            ],
            max_tokens=1,
            logprobs=True,
            top_logprobs=5,
        )
        choice = out.choices[0]
        assert choice.logprobs is not None
        assert choice.logprobs.content
        top = {t.token: t.logprob for t in choice.logprobs.content[0].top_logprobs}
        assert set(top) == {"Yes", "No"}
        assert math.exp(top["Yes"]) + math.exp(top["No"]) == pytest.approx(1.0)
        assert choice.message.content == max(top, key=lambda k: top[k])
        answers.setdefault(question, set()).add(choice.message.content)
    assert all(len(v) == 1 for v in answers.values())
    assert stub.requests == 6


@pytest.mark.parametrize(
    "response_format",
    [
        {"type": "json_schema", "json_schema": {"name": "v", "schema": SCHEMA, "strict": True}},
        {"type": "json_object", "schema": SCHEMA},
    ],
)
def test_structured_output_is_a_valid_instance(stub: OpenAIStub, response_format: dict[str, object]) -> None:
    out = _client(stub).chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "x"}],
        response_format=response_format,  # type: ignore[arg-type]
    )
    parsed = Verdict.model_validate_json(out.choices[0].message.content or "")
    assert parsed == Verdict(verdict="pursue", score=0.0, items=[], flag=False)


def test_minimal_instance_handles_refs_and_min_items() -> None:
    schema = {
        "$defs": {
            "Ev": {
                "type": "object",
                "properties": {"id": {"type": "string", "minLength": 2}},
                "required": ["id"],
            }
        },
        "type": "object",
        "properties": {
            "evidence": {"type": "array", "items": {"$ref": "#/$defs/Ev"}, "minItems": 1},
            "note": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 3}]},
        },
        "required": ["evidence", "note"],
    }
    assert minimal_instance(schema) == {"evidence": [{"id": "xx"}], "note": 3}
    assert invalid_instance(schema) == {"note": 3}


def test_429_carries_retry_after_and_retry_succeeds() -> None:
    faults = Faults(rate_429=1.0, retry_after=0.05, max_failures_per_request=1)
    with OpenAIStub(faults=faults) as stub:
        with pytest.raises(openai.RateLimitError) as info:
            _client(stub, max_retries=0).chat.completions.create(model="m", messages=[{"role": "user", "content": "a"}])
        assert info.value.response.headers["retry-after-ms"] == "50"
        # A different body gets its own failure budget; with retries the client gets through.
        out = _client(stub, max_retries=2).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "b"}]
        )
        assert out.choices[0].message.content
        assert stub.requests == 3
        assert stub.faults_served["429"] == 2


def test_500_hang_truncated() -> None:
    with OpenAIStub(faults=Faults(rate_500=1.0)) as stub, pytest.raises(openai.InternalServerError):
        _client(stub, max_retries=0).chat.completions.create(model="m", messages=[{"role": "user", "content": "a"}])
    with (
        OpenAIStub(faults=Faults(rate_hang=1.0, hang_seconds=2)) as stub,
        pytest.raises(openai.APITimeoutError),
    ):
        _client(stub, max_retries=0, timeout=0.2).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "a"}]
        )
    with OpenAIStub(faults=Faults(rate_truncated=1.0)) as stub:
        raw = httpx.post(f"{stub.url}/chat/completions", json={"model": "m", "messages": []})
        assert raw.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(raw.content)


def test_schema_invalid_is_well_formed_but_off_schema() -> None:
    with OpenAIStub(faults=Faults(rate_schema_invalid=1.0, max_failures_per_request=1)) as stub:
        client = _client(stub)
        fmt = {"type": "json_schema", "json_schema": {"name": "v", "schema": SCHEMA}}
        first = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}], response_format=fmt
        )  # type: ignore[arg-type]
        content = json.loads(first.choices[0].message.content or "")
        assert isinstance(content, dict)
        assert "verdict" not in content
        # Second identical request: its budget of one failure is spent, so it is valid.
        again = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}], response_format=fmt
        )  # type: ignore[arg-type]
        Verdict.model_validate_json(again.choices[0].message.content or "")
        # Plain text requests cannot be off-schema, so they are served normally.
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "y"}])
        assert stub.faults_served == {"schema_invalid": 1}


def test_fault_choice_is_seeded_per_request_number() -> None:
    a = Faults(rate_429=0.2, rate_500=0.2, rate_hang=0.1, seed=7)
    b = Faults(rate_429=0.2, rate_500=0.2, rate_hang=0.1, seed=7)
    picks = [a.pick(n) for n in range(1, 500)]
    assert picks == [b.pick(n) for n in range(1, 500)]
    assert picks != [Faults(rate_429=0.2, rate_500=0.2, rate_hang=0.1, seed=8).pick(n) for n in range(1, 500)]
    share = sum(p is not None for p in picks) / len(picks)
    assert 0.4 < share < 0.6


def test_cli_serves_until_terminated() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "analyzer.testing.openai_stub", "--latency", "0.01"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/v1")
        assert httpx.get(f"{url}/models").json()["data"][0]["id"] == "stub-model"
        stats = httpx.get(url.removesuffix("/v1") + "/stats").json()
        assert stats["requests"] == 0
        assert stats["latency"] == 0.01
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
