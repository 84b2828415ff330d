"""Every hosted or self-hosted model through LangChain chat models: OpenAI-compatible URLs, Azure,
Anthropic, Ollama, Google, Bedrock... (``init_chat_model``'s ``provider:model`` strings).

``LangChainChat`` adapts one LangChain chat model to walkaway's ``ChatModel``:

- yes/no questions ask for the first token's log-probabilities. ``ChatOpenAI`` passes OpenAI's
  ``logprobs`` / ``top_logprobs`` through and returns them in ``response_metadata["logprobs"]`` (checked
  against the loopback stub in tests/extraction/test_providers.py), so the OpenAI family keeps the
  ``questions`` strategies. Other providers return none; ``yes_score`` then raises ``LogprobsMissing``
  and the pipeline falls back to the ``structured`` strategy with a warning in the report;
- a schema request on the OpenAI family binds ``response_format`` as strict ``json_schema`` (what the
  extractor validated before LangChain: the raw text comes back and the re-ask loop sees the model's own
  words); on other providers it is ``with_structured_output`` (tool calling for Anthropic), and the
  parsed object comes back as JSON text;
- retries live here, the one retry layer (the LangChain model is built with ``max_retries=0``): 429, 408,
  409 and 5xx answers, timeouts, dropped connections and cut-off bodies get ``max_retries`` further
  attempts with exponential backoff that honours Retry-After. The OpenAI and Anthropic SDKs raise the same
  shapes of error (``APIStatusError`` with ``status_code`` and ``response``; ``APITimeoutError``;
  ``APIConnectionError``); the OpenAI ones are matched by type, the others by attribute and class name so
  no optional provider package is imported here.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import openai

from analyzer._errors import BackendError, ConfigError
from analyzer.extraction.backends.chat import ChatResult, Message, retry_after_header

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

_RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_CONFIG_STATUS = frozenset({401, 403, 404})
"""Answers that mean the settings are wrong (key, model name, URL), not that the endpoint is failing."""


def _kind(exc: BaseException) -> str:
    """'status', 'timeout', 'connection' or 'malformed' for an error raised by a provider SDK.

    The OpenAI SDK's classes (what ``ChatOpenAI`` raises) are checked by type; other SDKs built on the
    same generator (Anthropic's) or on httpx by the same attributes and class names."""
    if isinstance(exc, openai.APIStatusError):
        return "status"
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"  # before APIConnectionError, its base class
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status >= 400:
        return "status"
    names = {c.__name__ for c in type(exc).__mro__}
    if names & {"APITimeoutError", "TimeoutException", "TimeoutError", "ReadTimeout"}:
        return "timeout"
    if names & {"APIConnectionError", "ConnectError", "TransportError", "ConnectionError", "RemoteProtocolError"}:
        return "connection"
    return "malformed"


class LangChainChat:
    """One LangChain chat model behind walkaway's ``ChatModel`` interface."""

    MAX_WAIT = 60.0

    def __init__(
        self,
        model: BaseChatModel,
        *,
        backend: str,
        model_name: str,
        max_retries: int,
        openai_family: bool,
        max_tokens_param: str | None = "max_tokens",
    ) -> None:
        self.backend = backend
        self.model = model_name
        # Endpoints serve many requests at once: a chunk's questions go out together (ChunkExtractor.run).
        self.sequential = False
        self.max_retries = max_retries
        # Only the OpenAI chat API takes logprobs and a raw response_format; other providers reject the
        # unknown parameters, so they get no logprobs and structured output by their own method.
        self.openai_family = openai_family
        self.max_tokens_param = max_tokens_param
        self._model = model

    async def _invoke(
        self, messages: list[Message], max_tokens: int, top_logprobs: int, schema: dict[str, Any] | None, name: str
    ) -> ChatResult:
        kwargs: dict[str, Any] = {}
        if self.max_tokens_param:
            kwargs[self.max_tokens_param] = max_tokens
        if schema is not None and not self.openai_family:
            titled = {"title": name, "description": f"The {name} answer.", **schema}
            runnable = self._model.bind(**kwargs).with_structured_output(titled, include_raw=True)
            out = await runnable.ainvoke(messages)
            raw = out["raw"]
            parsed = out.get("parsed")
            if parsed is not None:
                text = json.dumps(parsed)
            else:
                # Hand the unparsed answer to the caller's re-ask loop, which quotes it back to the model.
                calls = getattr(raw, "tool_calls", None) or []
                text = json.dumps(calls[0].get("args")) if calls else _text(raw.content)
            return _result(raw, text, [])
        if top_logprobs and self.openai_family:
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = top_logprobs
        if schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": True},
            }
        msg = await self._model.bind(**kwargs).ainvoke(messages)
        alts: list[tuple[str, float]] = []
        content = ((msg.response_metadata or {}).get("logprobs") or {}).get("content") or []
        if content:
            first = content[0]
            alts = [(a["token"], a["logprob"]) for a in first.get("top_logprobs") or []]
            alts = alts or [(first["token"], first["logprob"])]
        return _result(msg, _text(msg.content), alts)

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        top_logprobs: int = 0,
        schema: dict[str, Any] | None = None,
        schema_name: str = "answer",
    ) -> ChatResult:
        """One answer at temperature 0; transport failures become BackendError after the retry budget."""
        tries = self.max_retries + 1
        for attempt in range(tries):
            last = attempt == tries - 1
            wait: float | None = None
            try:
                return await self._invoke(list(messages), max_tokens, top_logprobs, schema, schema_name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                kind = _kind(exc)
                detail = _short(str(getattr(exc, "message", None) or exc))
                if kind == "status":
                    status = int(exc.status_code)  # type: ignore[attr-defined]
                    if status in _CONFIG_STATUS:
                        # Not a failing backend but a setting to fix: a usage error (exit 2), never retried.
                        raise ConfigError(
                            f"the {self.backend} endpoint refused model {self.model!r} with HTTP {status} "
                            f"({detail}); check WALKAWAY_MODEL, WALKAWAY_BASE_URL and the API key"
                        ) from None
                    if last or status not in _RETRYABLE_STATUS:
                        # Chained (not `from None`) so a caller can read the response, e.g. its Retry-After.
                        raise BackendError(
                            f"the {self.backend} endpoint answered HTTP {status}"
                            f"{f' ({tries} tries)' if status in _RETRYABLE_STATUS else ''}: {detail}"
                        ) from exc
                    wait = retry_after_header(getattr(getattr(exc, "response", None), "headers", None))
                elif last and kind == "timeout":
                    raise BackendError(f"the {self.backend} endpoint timed out ({tries} tries)") from None
                elif last and kind == "connection":
                    cause = exc.__cause__ or exc
                    raise BackendError(f"cannot reach the {self.backend} endpoint ({tries} tries): {cause}") from None
                elif last:
                    # A body cut off mid-JSON (a proxy or server dying mid-response): transient until now.
                    raise BackendError(
                        f"the {self.backend} endpoint sent an unusable response ({tries} tries): "
                        f"{type(exc).__name__}: {detail}"
                    ) from None
            backoff = min(8.0, 0.25 * 2**attempt) * (0.5 + random.random() / 2)
            await asyncio.sleep(min(self.MAX_WAIT, wait if wait is not None else backoff))
        raise AssertionError("unreachable: the last try returns or raises")

    async def aclose(self) -> None:
        """Close the model's HTTP clients where the provider exposes them (the OpenAI family does)."""
        client = getattr(self._model, "async_client", None)
        root = getattr(client, "_client", None)
        close = getattr(root, "close", None)
        if close is not None:
            await close()


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks (Anthropic, Google)
        return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content)
    return str(content or "")


def _result(msg: Any, text: str, alts: list[tuple[str, float]]) -> ChatResult:
    usage = getattr(msg, "usage_metadata", None) or {}
    details = usage.get("input_token_details") or {}
    return ChatResult(
        text=text,
        top_logprobs=alts,
        prompt_tokens=int(usage.get("input_tokens") or 0),
        completion_tokens=int(usage.get("output_tokens") or 0),
        cached_tokens=int(details.get("cache_read") or 0),
    )


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
