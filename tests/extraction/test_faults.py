"""The OpenAI-compatible path against a real local HTTP server that misbehaves."""

from __future__ import annotations

import pytest
from extraction_helpers import CALL, whole_chunk

from analyzer._errors import BackendError
from analyzer.extraction.backends.factory import openai_compatible_chat
from analyzer.extraction.backends.langchain import LangChainChat
from analyzer.extraction.extractor import ChunkExtractor, render_chunk
from analyzer.extraction.prompts import load_prompts
from analyzer.testing.openai_stub import Faults, OpenAIStub

PROMPTS = load_prompts()


def chat_for(stub: OpenAIStub, *, timeout: float = 5.0, retries: int = 4) -> LangChainChat:
    return openai_compatible_chat(
        base_url=stub.url, api_key="test", model="stub", timeout=timeout, max_retries=retries
    )


async def run_chunk(stub: OpenAIStub, **kw: float) -> object:
    chat = chat_for(stub, **kw)  # type: ignore[arg-type]
    try:
        return await ChunkExtractor(chat, PROMPTS, max_reasks=2).run(render_chunk(CALL, whole_chunk(CALL)))
    finally:
        await chat.aclose()


async def clean_scores() -> dict[str, float]:
    with OpenAIStub() as stub:
        out = await run_chunk(stub)
    return out.scores  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize(
    "faults",
    [
        Faults(rate_429=0.5, retry_after=0.05, max_failures_per_request=2, seed=1),
        Faults(rate_500=0.5, max_failures_per_request=2, seed=2),
        Faults(rate_truncated=0.5, max_failures_per_request=2, seed=3),
        Faults(rate_schema_invalid=0.4, seed=11),
    ],
    ids=["429-retry-after", "500", "truncated-json", "schema-invalid"],
)
async def test_transient_faults_give_the_clean_answer(faults: Faults) -> None:
    expected = await clean_scores()
    with OpenAIStub(faults=faults) as stub:
        out = await run_chunk(stub)
        assert sum(stub.faults_served.values()) > 0  # faults really happened and were retried or re-asked
    assert out.scores == expected  # type: ignore[attr-defined]


async def test_hang_past_timeout_is_retried() -> None:
    expected = await clean_scores()
    faults = Faults(rate_hang=0.3, hang_seconds=3, max_failures_per_request=1, seed=5)
    with OpenAIStub(faults=faults) as stub:
        out = await run_chunk(stub, timeout=0.5)
    assert out.scores == expected  # type: ignore[attr-defined]


async def test_endpoint_that_always_fails_raises_one_clear_backend_error() -> None:
    with OpenAIStub(faults=Faults(rate_500=1.0)) as stub, pytest.raises(BackendError, match=r"HTTP 500"):
        await run_chunk(stub, retries=1)
