"""The client factory: settings and a backend name in, a ``ChatModel`` out.

- ``local`` (and ``naive`` without an endpoint): the embedded model in-process, loaded on first use;
- ``openai`` (and ``naive`` with an endpoint): any OpenAI-compatible URL through LangChain's ``ChatOpenAI``
  with ``base_url`` (OpenAI, Azure's v1 API, vLLM, Ollama's /v1, a llama.cpp server);
- ``langchain``: any ``provider:model`` string LangChain's ``init_chat_model`` knows
  (``anthropic:claude-...``, ``ollama:qwen2.5:7b``, ``google_genai:gemini-...``); the provider's package is
  an optional extra, and a missing one is one sentence naming the extra;
- ``fake``: the scripted test model.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import logging
import time
from collections.abc import Sequence
from typing import Any

from analyzer._errors import ConfigError
from analyzer.config import Settings
from analyzer.extraction.backends.chat import ChatModel, ChatResult, FakeChat, Message
from analyzer.extraction.backends.langchain import LangChainChat

progress = logging.getLogger("walkaway.progress")

PROVIDERS: dict[str, tuple[str, str | None]] = {
    # provider -> (LangChain package module, walkaway extra that installs it; None: a core dependency)
    "openai": ("langchain_openai", None),
    "azure_openai": ("langchain_openai", None),
    "anthropic": ("langchain_anthropic", "anthropic"),
    "ollama": ("langchain_ollama", "ollama"),
    "google_genai": ("langchain_google_genai", "google"),
    "bedrock_converse": ("langchain_aws", "bedrock"),
}
"""The ``provider:`` prefixes walkaway accepts in ``--model``, and where each one's package comes from."""

_OPENAI_FAMILY = ("openai", "azure_openai")
_chats: dict[tuple[Any, ...], tuple[asyncio.AbstractEventLoop | None, ChatModel]] = {}


def split_model(model: str | None) -> tuple[str | None, str | None]:
    """``"anthropic:claude-x"`` -> ``("anthropic", "claude-x")``; a name without a known provider prefix
    (``"gpt-4o-mini"``, or Ollama's ``"qwen2.5:7b"``) -> ``(None, name)``."""
    if model and ":" in model:
        provider, _, name = model.partition(":")
        if provider in PROVIDERS and name:
            return provider, name
    return None, model


class LazyLocalChat:
    """The embedded model, loaded on the first request that the response cache could not answer.

    A re-run answered entirely from the cache therefore never loads the model (seconds and ~1.5 GB saved).
    """

    backend = "local"
    sequential = True

    def __init__(self, settings: Settings) -> None:
        from analyzer.extraction.backends.localmodel import model_name

        self.model = model_name(settings.local_quant)
        self._settings = settings
        self._inner: ChatModel | None = None
        self.chunk_lock = asyncio.Lock()

    async def _chat(self) -> ChatModel:
        if self._inner is None:
            from analyzer.extraction.backends.llamacpp import get_local_chat

            s = self._settings
            progress.info("loading the embedded model (1.1 GB, once per process)...")
            started = time.perf_counter()
            self._inner = await asyncio.to_thread(
                get_local_chat,
                model_dir=s.model_dir,
                n_ctx=s.local_ctx,
                threads=s.local_threads,
                quant=s.local_quant,
            )
            progress.info("model loaded in %.1f s", time.perf_counter() - started)
        return self._inner

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        top_logprobs: int = 0,
        schema: dict[str, Any] | None = None,
        schema_name: str = "answer",
    ) -> ChatResult:
        """Forward to the in-process model, loading it first if needed."""
        chat = await self._chat()
        return await chat.complete(
            messages, max_tokens=max_tokens, top_logprobs=top_logprobs, schema=schema, schema_name=schema_name
        )


def openai_compatible_chat(
    *,
    base_url: str | None,
    api_key: str | None,
    model: str,
    timeout: float,
    max_retries: int,
    backend: str = "openai",
) -> LangChainChat:
    """An OpenAI-compatible endpoint through ``ChatOpenAI`` (the provider's own retries off: ours count)."""
    from langchain_openai import ChatOpenAI

    cls: type[ChatOpenAI] = ChatOpenAI if base_url is None else _compatible_chat_openai()
    lc = cls(
        model=model,
        base_url=base_url,
        api_key=api_key or "not-needed",
        timeout=timeout,
        max_retries=0,
        temperature=0.0,
    )
    return LangChainChat(lc, backend=backend, model_name=model, max_retries=max_retries, openai_family=True)


@functools.lru_cache(maxsize=1)
def _compatible_chat_openai() -> Any:
    """``ChatOpenAI`` that sends ``max_tokens`` as the request's length cap.

    ChatOpenAI renames it ``max_completion_tokens`` (OpenAI's newer name). Servers that only know the older
    one (llama.cpp's, older vLLM and Ollama builds) ignore the unknown field, so a one-token yes/no question
    would generate a whole answer. Used for every ``base_url`` endpoint; OpenAI itself gets ChatOpenAI."""
    from langchain_openai import ChatOpenAI

    class CompatibleChatOpenAI(ChatOpenAI):
        def _get_request_payload(self, input_: Any, *, stop: list[str] | None = None, **kwargs: Any) -> dict[str, Any]:
            payload: dict[str, Any] = super()._get_request_payload(input_, stop=stop, **kwargs)
            if "max_completion_tokens" in payload:
                payload["max_tokens"] = payload.pop("max_completion_tokens")
            return payload

    return CompatibleChatOpenAI


def provider_chat(settings: Settings, provider: str, name: str) -> LangChainChat:
    """``init_chat_model`` for one provider; its usual environment variables (ANTHROPIC_API_KEY...) apply."""
    module, extra = PROVIDERS[provider]
    if importlib.util.find_spec(module) is None:
        hint = f"pip install 'walkaway[{extra}]'" if extra else f"pip install {module.replace('_', '-')}"
        raise ConfigError(f"the {provider} provider needs the {module.replace('_', '-')} package: run {hint}")
    from langchain.chat_models import init_chat_model

    kwargs: dict[str, Any] = {"temperature": 0.0}
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
    if provider in (*_OPENAI_FAMILY, "anthropic"):
        # These SDKs retry on their own by default; the one retry layer is LangChainChat.complete.
        kwargs["max_retries"] = 0
        kwargs["timeout"] = settings.request_timeout
    if provider in _OPENAI_FAMILY and settings.api_key:
        kwargs["api_key"] = settings.api_key
    try:
        lc = init_chat_model(name, model_provider=provider, **kwargs)
    except ImportError as exc:
        raise ConfigError(
            f"the {provider} provider cannot load its package ({exc}); install walkaway[{extra}]"
        ) from None
    except Exception as exc:
        raise ConfigError(f"cannot set up model {provider}:{name}: {_first_line(exc)}") from None
    return LangChainChat(
        lc,
        backend=provider,
        model_name=name,
        max_retries=settings.max_retries,
        openai_family=provider in _OPENAI_FAMILY,
        # Anthropic requires max_tokens; the others take their defaults rather than a name they may reject.
        max_tokens_param="max_tokens" if provider in (*_OPENAI_FAMILY, "anthropic") else None,
    )


def _route(settings: Settings, backend: str) -> tuple[str, str | None, str | None]:
    """(kind, provider, model name) for a backend name: the one place that decides which client a backend
    gets, so that building it (``build_chat``) and naming it (``identity``) cannot drift apart.
    Kinds: ``fake``, ``keywords`` (no model), ``provider`` (LangChain ``init_chat_model``), ``openai`` (an
    OpenAI-compatible URL, or Azure with ``azure_openai:``), ``local`` (the embedded model)."""
    provider, name = split_model(settings.model)
    if backend in ("fake", "keywords"):
        return backend, None, None
    if backend == "langchain" or (provider is not None and provider not in _OPENAI_FAMILY and backend != "local"):
        if provider is None or name is None:
            known = ", ".join(PROVIDERS)
            raise ConfigError(
                f"the langchain backend needs --model PROVIDER:MODEL (WALKAWAY_MODEL), e.g. "
                f"anthropic:claude-3-5-haiku-latest; got {settings.model!r} (providers: {known})"
            )
        return "provider", provider, name
    if backend == "openai" or (backend == "naive" and settings.base_url):
        return "openai", provider, name
    if backend in ("local", "naive"):
        return "local", None, None
    raise ConfigError(f"unknown backend {backend!r}; expected one of local, openai, langchain, fake, naive, keywords")


def build_chat(settings: Settings, backend: str) -> ChatModel:
    """The chat model for a backend name (reused within one event loop)."""
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    key = (backend, settings.base_url, settings.model, str(settings.home), id(loop))
    cached = _chats.get(key)
    # Loop ids are reused after a loop closes (each sync analyze() runs its own loop): a client bound to
    # a closed loop must not be handed out again.
    if cached is not None and cached[0] is loop and loop is not None and not loop.is_closed():
        return cached[1]
    kind, provider, name = _route(settings, backend)
    chat: ChatModel
    if kind == "keywords":
        raise ConfigError("the keywords backend asks no model: it has no chat client")
    if kind == "fake":
        chat = FakeChat()
    elif kind == "provider" and provider is not None and name is not None:
        chat = provider_chat(settings, provider, name)
    elif kind == "openai" and provider == "azure_openai":
        chat = provider_chat(settings, provider, name or "")
    elif kind == "openai":
        if not settings.base_url and not settings.api_key:
            raise ConfigError(
                "the openai backend needs WALKAWAY_BASE_URL or an API key (WALKAWAY_API_KEY / OPENAI_API_KEY)"
            )
        chat = openai_compatible_chat(
            base_url=settings.base_url,
            api_key=settings.api_key,
            model=name or "gpt-4o-mini",
            timeout=settings.request_timeout,
            max_retries=settings.max_retries,
        )
    else:
        chat = LazyLocalChat(settings)
    _chats[key] = (loop, chat)
    return chat


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def identity(settings: Settings, backend: str) -> tuple[str, str]:
    """(backend label, model name) a backend will report, without building it: for profile lookup and
    fingerprints. The label is the provider for ``provider:model`` names (``anthropic``)."""
    kind, provider, name = _route(settings, backend)
    if kind == "fake":
        return "fake", "fake-model"
    if kind == "keywords":
        return "keywords", ""
    if kind == "local":
        from analyzer.extraction.backends.localmodel import model_name

        return "local", model_name(settings.local_quant)
    if kind == "provider" or provider == "azure_openai":
        return provider or "", name or ""
    return "openai", name or "gpt-4o-mini"
