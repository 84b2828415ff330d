"""One chat interface for every backend, and a scripted fake for tests.

Everything the pipeline asks a model goes through ``ChatModel.complete``: either a one-token yes/no
answer scored by the log-probabilities of its first token, or a JSON object constrained by a schema.
Hosted and self-hosted models go through LangChain (``langchain.LangChainChat``, built by
``factory.build_chat``); the embedded model runs in-process (``llamacpp.LlamaCppChat``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from analyzer._errors import ExtractionError

Message = dict[str, str]


@dataclass
class ChatResult:
    """One model answer with what it cost."""

    text: str
    top_logprobs: list[tuple[str, float]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    from_cache: bool = False


class ChatModel(Protocol):
    """What the extraction stage needs from a model."""

    backend: str
    model: str
    #: True when questions over one chunk should be sent one after another, so a single-slot server
    #: (llama.cpp) reuses the chunk's KV cache instead of thrashing it.
    sequential: bool

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        top_logprobs: int = 0,
        schema: dict[str, Any] | None = None,
        schema_name: str = "answer",
    ) -> ChatResult:
        """Answer the messages at temperature 0."""
        ...


def yes_score(result: ChatResult, question: str) -> float:
    """``yes_probability``, where an answer with no log-probabilities and no Yes/No is an error, not a No.

    An endpoint that returns no log-probabilities must not turn every question into a silent "No" and a
    report that claims to be complete; the chunk (or window) fails instead and the report says so.
    """
    if not result.top_logprobs:
        # Even a clean "Yes"/"No" text is no score: without log-probabilities every threshold and the
        # calibration are meaningless, and most such answers would be a flat "No".
        raise LogprobsMissing(
            f"the model answered {result.text[:40]!r} to the yes/no question {question!r} without "
            "log-probabilities, which the questions strategies need; use --strategy structured"
        )
    p = yes_probability(result)
    return 0.0 if p is None else p  # neither Yes nor No among the likeliest tokens: no lean to Yes


class LogprobsMissing(ExtractionError):
    """The endpoint returned no log-probabilities for a yes/no question (Anthropic, many proxies)."""


def yes_probability(result: ChatResult) -> float | None:
    """P(yes) / (P(yes) + P(no)) over the first token's alternatives, or None when neither appears.

    Normalising over the two answers removes the mass the model puts on other tokens (punctuation, a
    leading space), which varies with the prompt and is not an opinion about the question.
    """
    yes = no = 0.0
    for token, logprob in result.top_logprobs:
        t = token.strip().lower()
        if t in ("yes", "y"):
            yes += math.exp(logprob)
        elif t in ("no", "n"):
            no += math.exp(logprob)
    if yes + no == 0.0:
        t = result.text.strip().lower()
        if t.startswith("yes"):
            return 1.0
        if t.startswith("no"):
            return 0.0
        return None
    return yes / (yes + no)


def retry_after_header(headers: Any) -> float | None:
    """Seconds an endpoint asked to wait (``retry-after-ms`` or ``retry-after`` in seconds), else None."""
    with contextlib.suppress(TypeError, ValueError, AttributeError):
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return float(ms) / 1000.0
        ra = headers.get("retry-after")
        if ra is not None:
            return float(ra)
    return None


Responder = Callable[[Sequence[Message], dict[str, Any] | None], "str | ChatResult"]


class FakeChat:
    """A scripted chat model for tests: answers from a queue, or from a function of the request.

    Queue items and responder results may be a string (the answer text; for yes/no calls "Yes"/"No"
    become confident log-probabilities), a ChatResult, or an Exception to raise.
    """

    backend = "fake"
    sequential = True

    def __init__(
        self,
        script: Sequence[str | ChatResult | Exception] = (),
        *,
        responder: Responder | None = None,
        model: str = "fake-model",
    ) -> None:
        self.model = model
        self._queue: list[str | ChatResult | Exception] = list(script)
        self._responder = responder
        self.calls: list[dict[str, Any]] = []

    def enqueue(self, *items: str | ChatResult | Exception) -> None:
        """Append answers to the script."""
        self._queue.extend(items)

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        top_logprobs: int = 0,
        schema: dict[str, Any] | None = None,
        schema_name: str = "answer",
    ) -> ChatResult:
        """Return the next scripted answer."""
        await asyncio.sleep(0)
        self.calls.append({"messages": list(messages), "schema": schema, "top_logprobs": top_logprobs})
        item: str | ChatResult | Exception
        if self._queue:
            item = self._queue.pop(0)
        elif self._responder is not None:
            item = self._responder(messages, schema)
        else:
            item = "No" if schema is None else "{}"
        if isinstance(item, Exception):
            raise item
        if isinstance(item, ChatResult):
            return item
        alts: list[tuple[str, float]] = []
        if top_logprobs and schema is None:
            p = 0.95 if item.strip().lower().startswith("yes") else 0.05
            alts = [("Yes", math.log(p)), ("No", math.log(1 - p))]
        words = sum(len(m["content"].split()) for m in messages)
        return ChatResult(text=item, top_logprobs=alts, prompt_tokens=words, completion_tokens=max(1, len(item) // 4))


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
