"""The embedded model's JSON answers two ways: the grammar checked against one token per step
(``LlamaCppChat._json_answer``, shipped) against ``create_chat_completion``, which applies it to every
candidate token at every step.

    .venv/bin/python benchmarks/json_answers.py [FILE ...]

Each call (default: the ~800-word and the ~3,700-word calls of ``benchmarks/local.py``) is analyzed once
with the cache off, recording every JSON request (evidence and severity). Each request is then answered
both ways on a warm prefix (the request's prompt is evaluated once first, so both times are the answer's
own), and the script prints, per call, the seconds and generated tokens of each way and whether every
answer is the same text. Greedy decoding under a grammar picks the best token the grammar allows, so the
answers must be identical; the time saved is the grammar's pass over the vocabulary per generated token.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from analyzer.config import load_settings  # noqa: E402
from analyzer.extraction.backends import llamacpp  # noqa: E402
from analyzer.extraction.backends.chat import ChatResult, Message  # noqa: E402
from analyzer.extraction.backends.factory import build_chat  # noqa: E402
from analyzer.pipeline import analyze_async  # noqa: E402
from analyzer.transcript import parse_file  # noqa: E402

DEFAULT = [
    REPO / "evals" / "dev" / "calls" / "w2-13-tri-county-electric-siem.txt",
    REPO / "evals" / "calls" / "a13-ironclad-pentest-clean-report-long.vtt",
]


Request = tuple[list[Message], int, dict[str, Any]]


def answer(model: llamacpp.LlamaCppChat, request: Request, one_token: bool) -> tuple[float, ChatResult]:
    messages, max_tokens, schema = request
    llamacpp.GRAMMAR_CHECKS_ONE_TOKEN = one_token
    started = time.perf_counter()
    result = model._generate(messages, max_tokens, schema)
    return time.perf_counter() - started, result


def main() -> None:
    files = [Path(a) for a in sys.argv[1:]] or DEFAULT
    settings = load_settings(backend="local", cache=False)
    model = llamacpp.get_local_chat(
        model_dir=settings.model_dir,
        n_ctx=settings.local_ctx,
        threads=settings.local_threads,
        quant=settings.local_quant,
    )
    requests: list[Request] = []
    shipped = model._generate

    def record(messages: list[Message], max_tokens: int, schema: dict[str, Any] | None) -> ChatResult:
        if schema is not None:
            requests.append((list(messages), max_tokens, schema))
        return shipped(messages, max_tokens, schema)

    model._generate = record  # type: ignore[method-assign]
    print(f"{'call':44} {'answers':>7} {'tokens':>6} {'all-candidates s':>16} {'one-token s':>11} {'same':>5}")
    for path in files:
        requests.clear()
        chat = build_chat(settings, "local")
        asyncio.run(analyze_async(transcript=parse_file(path), settings=settings, chat=chat, use_cache=False))
        model._generate = shipped  # type: ignore[method-assign]
        slow = fast = 0.0
        tokens = 0
        same = True
        for request in requests:
            answer(model, request, one_token=False)  # evaluates the prompt, so both timings below are warm
            t_slow, a = answer(model, request, one_token=False)
            t_fast, b = answer(model, request, one_token=True)
            slow, fast, tokens = slow + t_slow, fast + t_fast, tokens + a.completion_tokens
            same = same and a.text == b.text
            if a.text != b.text:
                print(f"  differs: {a.text!r} against {b.text!r}")
        model._generate = record  # type: ignore[method-assign]
        row = f"{path.name[:44]:44} {len(requests):7d} {tokens:6d} {slow:16.1f} {fast:11.1f} {same!s:>5}"
        print(row, flush=True)
    llamacpp.GRAMMAR_CHECKS_ONE_TOKEN = True


if __name__ == "__main__":
    main()
