"""The embedded model in-process: llama-cpp-python's ``Llama``, with yes/no answers read from one logit row.

Why not the ``llama_cpp.server`` child process (the design until this round): to return log-probabilities
the server must load the model with ``logits_all``, which keeps every prompt position's logits (151k
floats each) and turns them into log-probabilities on every request. Measured here (2 cores): a
16-token question suffix on a warm prefix took 1.3-3.3 s with ``top_logprobs`` and 0.4 s without, and
a 846-token prefix 13 s of which the model's own evaluation was 5 s. In-process, the model keeps only
the last position's logits; a yes/no question evaluates its new suffix tokens and reads that one row.

Prefix reuse is explicit: a request's tokens are compared with those already in the KV cache and only
the new tail is evaluated, so every question after the first over one window or chunk costs its own
suffix. JSON answers (evidence, the naive baseline) are decoded greedily under a grammar built from the
schema, reusing the same cache the same way (``_json_answer``); free text goes through
``create_chat_completion``.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from analyzer._errors import BackendError, ConfigError
from analyzer.extraction.backends.chat import ChatResult, Message

LLAMA_OPTIONS: dict[str, Any] = {"n_batch": 512, "logits_all": False}
"""llama.cpp load settings besides the model, context and threads; read when a model is loaded.
``benchmarks/llama_settings.sh`` measures the alternatives (micro-batch, flash attention, quantised KV
cache, mlock) on this hardware; README "Speed of the embedded model" records what each did."""

GRAMMAR_CHECKS_ONE_TOKEN = True
"""JSON answers check the grammar against the model's best token first (``LlamaCppChat._json_answer``);
False: through ``create_chat_completion``, which applies it to every candidate (``benchmarks/local.py
--json-through-completion`` and ``benchmarks/json_answers.py`` compare the two)."""


class LlamaCppChat:
    """A ChatModel over an in-process GGUF model (one per process; calls are serialised)."""

    backend = "local"
    sequential = True

    def __init__(self, model_path: Path, *, model_name: str, n_ctx: int, threads: int | None) -> None:
        try:
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError:
            raise ConfigError(
                "llama-cpp-python is not installed; install walkaway with the 'local' extra (bash .ci/setup) "
                "or configure an OpenAI-compatible endpoint with WALKAWAY_BASE_URL"
            ) from None
        self.model = model_name
        try:
            self.llm = Llama(
                model_path=str(model_path),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
                **LLAMA_OPTIONS,
            )
        except (ValueError, RuntimeError) as exc:
            raise BackendError(f"the local model {model_path} could not be loaded: {exc}") from None
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise BackendError(f"the local model {model_path} has no chat template in its metadata")
        eos = self.llm.token_eos()
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=self.llm._model.token_get_text(eos) if eos != -1 else "",
            bos_token="",
            stop_token_ids=[eos],
        )
        self._n_vocab = self.llm.n_vocab()
        self._lock = threading.Lock()
        self._vocabulary: Any = None  # ctypes array of llama_token_data, one per token (``_json_answer``)
        self.tokens_evaluated = 0
        """Prompt tokens the model actually evaluated (cache misses), for benchmarks."""

    def _tokens(self, messages: Sequence[Message]) -> list[int]:
        prompt = self._formatter(messages=list(messages)).prompt  # type: ignore[arg-type]
        tokens: list[int] = self.llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        if len(tokens) >= self.llm.n_ctx():
            raise BackendError(
                f"the request has {len(tokens)} tokens, more than the local model's context of {self.llm.n_ctx()} "
                "(lower WALKAWAY_CHUNK_TOKENS or raise WALKAWAY_LOCAL_CTX)"
            )
        return tokens

    def _reuse(self, tokens: list[int]) -> int:
        """How many leading tokens are already in the KV cache (at least one token is always re-evaluated)."""
        have = self.llm.input_ids[: self.llm.n_tokens].tolist()
        common = 0
        for a, b in zip(have, tokens, strict=False):
            if a != b:
                break
            common += 1
        return min(common, len(tokens) - 1)

    def _evaluate(self, messages: Sequence[Message]) -> tuple[list[int], int]:
        """The request's tokens, evaluated past what the KV cache already holds; and how many were reused."""
        tokens = self._tokens(messages)
        common = self._reuse(tokens)
        self.llm.n_tokens = common  # eval() drops the KV cache past this point first
        self.llm.eval(tokens[common:])
        self.tokens_evaluated += len(tokens) - common
        return tokens, common

    def _next_token(self, messages: Sequence[Message], top: int) -> ChatResult:
        import numpy as np
        from llama_cpp import llama_get_logits_ith

        tokens, common = self._evaluate(messages)
        row = np.ctypeslib.as_array(llama_get_logits_ith(self.llm.ctx, -1), shape=(self._n_vocab,))
        logits = row.astype(np.float64)
        shift = logits.max()
        logprobs = logits - (shift + np.log(np.exp(logits - shift).sum()))
        k = max(1, min(top, self._n_vocab))
        best = np.argpartition(-logprobs, k - 1)[:k]
        best = best[np.argsort(-logprobs[best])]
        pairs = [
            (self.llm.detokenize([int(t)]).decode("utf-8", errors="replace"), float(logprobs[int(t)])) for t in best
        ]
        return ChatResult(
            text=pairs[0][0],
            top_logprobs=pairs,
            prompt_tokens=len(tokens),
            completion_tokens=1,
            cached_tokens=common,
        )

    def _json_answer(self, messages: Sequence[Message], max_tokens: int, schema: dict[str, Any]) -> ChatResult:
        """The greedy answer under the schema's grammar, checking the grammar against one token per step.

        ``create_chat_completion`` runs llama.cpp's grammar sampler over all 151k candidates at every step
        (measured here: 14-23 ms a token, against about 60 ms for the token itself). Greedy decoding under a
        grammar picks the best token the grammar allows, so when the model's unconstrained best token is
        allowed it is the answer; only when it is not is the grammar applied to the whole vocabulary
        (llama.cpp's own common sampler does the same). The answer is the one the grammar sampler gives.
        """
        import json

        import llama_cpp as lc
        import numpy as np
        from llama_cpp.llama_grammar import LlamaGrammar

        tokens, common = self._evaluate(messages)
        grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        vocab = self.llm._model.vocab
        guide = lc.llama_sampler_init_grammar(vocab, grammar._grammar.encode(), grammar._root.encode())
        if not guide:
            raise BackendError("the local model could not build a grammar from the answer's schema")
        one = (lc.llama_token_data * 1)()
        if self._vocabulary is None:  # the candidates for the grammar's whole-vocabulary pass, made once
            self._vocabulary = (lc.llama_token_data * self._n_vocab)()
            np.ctypeslib.as_array(self._vocabulary)["id"] = np.arange(self._n_vocab, dtype=np.int32)
        everything = self._vocabulary
        view = np.ctypeslib.as_array(everything)
        out: list[int] = []
        try:
            while len(out) < max_tokens:
                row = np.ctypeslib.as_array(lc.llama_get_logits_ith(self.llm.ctx, -1), shape=(self._n_vocab,))
                token = int(np.argmax(row))
                one[0] = lc.llama_token_data(token, float(row[token]), 0.0)
                lc.llama_sampler_apply(guide, ctypes.byref(lc.llama_token_data_array(one, 1, -1, False)))
                if not np.isfinite(one[0].logit):  # the grammar rules the model's best token out
                    view["logit"], view["p"] = row, 0.0
                    candidates = lc.llama_token_data_array(everything, self._n_vocab, -1, False)
                    lc.llama_sampler_apply(guide, ctypes.byref(candidates))
                    token = int(np.argmax(view["logit"]))
                if lc.llama_vocab_is_eog(vocab, token):
                    break
                lc.llama_sampler_accept(guide, token)
                out.append(token)
                self.llm.eval([token])
        finally:
            lc.llama_sampler_free(guide)
        return ChatResult(
            text=self.llm.detokenize(out).decode("utf-8", errors="replace"),
            prompt_tokens=len(tokens),
            completion_tokens=len(out),
            cached_tokens=common,
        )

    def _generate(self, messages: Sequence[Message], max_tokens: int, schema: dict[str, Any] | None) -> ChatResult:
        if schema is not None and GRAMMAR_CHECKS_ONE_TOKEN:
            return self._json_answer(messages, max_tokens, schema)
        tokens = self._tokens(messages)
        common = self._reuse(tokens)
        fmt: Any = {"type": "json_object", "schema": schema} if schema is not None else None
        out: Any = self.llm.create_chat_completion(
            messages=list(messages),  # type: ignore[arg-type]
            max_tokens=max_tokens,
            temperature=0.0,
            response_format=fmt,
        )
        self.tokens_evaluated += len(tokens) - common
        usage = out.get("usage") or {}
        return ChatResult(
            text=out["choices"][0]["message"].get("content") or "",
            prompt_tokens=int(usage.get("prompt_tokens", len(tokens))),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            cached_tokens=common,
        )

    def _complete(
        self, messages: Sequence[Message], max_tokens: int, top_logprobs: int, schema: dict[str, Any] | None
    ) -> ChatResult:
        with self._lock:
            try:
                if top_logprobs and max_tokens == 1 and schema is None:
                    return self._next_token(messages, top_logprobs)
                return self._generate(messages, max_tokens, schema)
            except (ValueError, RuntimeError) as exc:
                # llama.cpp reports a failed decode as RuntimeError; the cache state is unknown afterwards.
                self.llm.n_tokens = 0
                raise BackendError(f"the local model failed: {exc}") from None

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        top_logprobs: int = 0,
        schema: dict[str, Any] | None = None,
        schema_name: str = "answer",
    ) -> ChatResult:
        """Answer at temperature 0 (in a worker thread: the model call blocks)."""
        return await asyncio.to_thread(self._complete, messages, max_tokens, top_logprobs, schema)


_lock = threading.Lock()
_models: dict[tuple[str, int, int | None], LlamaCppChat] = {}


def get_local_chat(*, model_dir: Path, n_ctx: int, threads: int | None, quant: str = "q4_k_m") -> LlamaCppChat:
    """The process-wide in-process model, loaded on first use and kept warm afterwards."""
    from analyzer.extraction.backends.localmodel import local_model, model_name

    with _lock:
        path = local_model(model_dir, quant)
        key = (str(path), n_ctx, threads)
        if key not in _models:
            if not _models:
                atexit.register(_close_models)
            _models[key] = LlamaCppChat(path, model_name=model_name(quant), n_ctx=n_ctx, threads=threads)
        return _models[key]


def _close_models() -> None:
    """Free the process-wide models while llama.cpp's bindings still exist. Left to ``Llama.__del__`` at
    interpreter teardown, the free function can already be gone, and Python prints "Exception ignored in
    Llama.__del__ ... 'NoneType' object is not callable" after a run that otherwise succeeded (seen at the
    end of a full test run)."""
    with _lock:
        for model in _models.values():
            model.llm.close()
        _models.clear()
