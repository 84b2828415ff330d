"""One chat interface for every backend: the OpenAI-compatible client, and a scripted fake for tests.

Everything the pipeline asks a model goes through ``ChatModel.complete``: either a one-token yes/no
answer scored by the log-probabilities of its first token, or a JSON object constrained by a schema.
Any OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama, a llama.cpp server) goes through
``OpenAIChat``; the schema is requested as strict ``json_schema`` or, for servers that only take that, as
``{"type": "json_object", "schema": ...}``. The embedded model runs in-process (``llamacpp.LlamaCppChat``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import openai

from analyzer._errors import BackendError, ConfigError

Message = dict[str, str]
SchemaMode = Literal["json_schema", "json_object"]


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
    p = yes_probability(result)
    if p is not None:
        return p
    if result.top_logprobs:
        return 0.0  # neither Yes nor No among the likeliest tokens: the model does not lean Yes
    from analyzer._errors import ExtractionError

    raise ExtractionError(
        f"the model answered {result.text[:40]!r} to the yes/no question {question!r} and returned no "
        "log-probabilities, which the yes/no strategies need; use an endpoint that returns logprobs"
    )


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


_RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_CONFIG_STATUS = frozenset({401, 403, 404})
"""Answers that mean the settings are wrong (key, model name, URL), not that the endpoint is failing."""


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


class OpenAIChat:
    """Any OpenAI-compatible endpoint through the official client.

    This is the one place a request is retried: 429/408/409/5xx, timeouts, dropped connections and
    cut-off bodies get ``max_retries`` further attempts with exponential backoff that honours Retry-After
    (capped at ``MAX_WAIT`` seconds per wait). The client's own retries are off, so budgets never stack."""

    MAX_WAIT = 60.0

    def __init__(
        self,
        *,
        backend: str,
        base_url: str | None,
        api_key: str | None,
        model: str,
        timeout: float,
        max_retries: int,
        schema_mode: SchemaMode,
        sequential: bool,
    ) -> None:
        self.backend = backend
        self.model = model
        self.sequential = sequential
        self.schema_mode: SchemaMode = schema_mode
        self.max_retries = max_retries
        # One chunk at a time on a single-slot server: interleaving two chunks' questions would evict
        # each other's cached prefix and make every question re-read its whole chunk.
        self.chunk_lock: asyncio.Lock | None = asyncio.Lock() if sequential else None
        # max_retries=0: the loop in complete() is the only retry layer.
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=0
        )

    def _response_format(self, schema: dict[str, Any], name: str) -> dict[str, Any]:
        if self.schema_mode == "json_object":
            return {"type": "json_object", "schema": schema}
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        top_logprobs: int = 0,
        schema: dict[str, Any] | None = None,
        schema_name: str = "answer",
    ) -> ChatResult:
        """Send one chat completion; transport failures become BackendError."""
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": 0.0,
        }
        if top_logprobs:
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = top_logprobs
        if schema is not None:
            kwargs["response_format"] = self._response_format(schema, schema_name)
        resp = None
        tries = self.max_retries + 1
        for attempt in range(tries):
            last = attempt == tries - 1
            wait: float | None = None
            try:
                resp = await self._client.chat.completions.create(**kwargs)
                break
            except openai.APITimeoutError:
                if last:
                    raise BackendError(f"the {self.backend} endpoint timed out ({tries} tries)") from None
            except openai.APIConnectionError as exc:
                if last:
                    raise BackendError(
                        f"cannot reach the {self.backend} endpoint ({tries} tries): {exc.__cause__ or exc}"
                    ) from None
            except openai.APIStatusError as exc:
                if exc.status_code in _CONFIG_STATUS:
                    # Not a failing backend but a setting to fix: a usage error (exit 2), never retried.
                    raise ConfigError(
                        f"the {self.backend} endpoint refused model {self.model!r} with HTTP {exc.status_code} "
                        f"({_short(exc.message)}); check WALKAWAY_MODEL, WALKAWAY_BASE_URL and the API key"
                    ) from None
                if last or exc.status_code not in _RETRYABLE_STATUS:
                    # Chained (not `from None`) so a caller can read the response, e.g. its Retry-After header.
                    raise BackendError(
                        f"the {self.backend} endpoint answered HTTP {exc.status_code}"
                        f"{f' ({tries} tries)' if exc.status_code in _RETRYABLE_STATUS else ''}: {_short(exc.message)}"
                    ) from exc
                wait = retry_after_header(exc.response.headers)
            except (openai.APIError, ValueError) as exc:
                # A body cut off mid-JSON (a proxy or server dying mid-response): transient.
                if last:
                    raise BackendError(
                        f"the {self.backend} endpoint sent an unusable response ({tries} tries): {_short(str(exc))}"
                    ) from None
            backoff = min(8.0, 0.25 * 2**attempt) * (0.5 + random.random() / 2)
            await asyncio.sleep(min(self.MAX_WAIT, wait if wait is not None else backoff))
        assert resp is not None
        if not resp.choices:
            raise BackendError(f"the {self.backend} endpoint returned no choices")
        choice = resp.choices[0]
        text = choice.message.content or ""
        alts: list[tuple[str, float]] = []
        if choice.logprobs is not None and choice.logprobs.content:
            first = choice.logprobs.content[0]
            alts = [(a.token, a.logprob) for a in first.top_logprobs] or [(first.token, first.logprob)]
        usage = resp.usage
        cached = 0
        if usage is not None and usage.prompt_tokens_details is not None:
            cached = usage.prompt_tokens_details.cached_tokens or 0
        return ChatResult(
            text=text,
            top_logprobs=alts,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            cached_tokens=cached,
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()


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
