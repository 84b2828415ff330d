"""One call through each provider path against the loopback stub: requests, tokens and seconds per analysis.

    .venv/bin/python benchmarks/providers.py [FILE] [--seller NAME] [--json]

No real provider is reachable from here, so this measures walkaway's side only: how many requests and
how many prompt / generated tokens each strategy sends for one call, and the wall time with a stub that
answers at once. The stub counts tokens as characters / 4 (a rough figure; a real endpoint reports its
own). The stub's answers are not a model's, so no quality figure comes from this script. Paths:

- ``openai`` + ``chunks``: ChatOpenAI against the OpenAI chat API with log-probabilities;
- ``openai`` + ``chunks``, no logprobs: the same endpoint without log-probabilities, which falls back to
  ``structured`` after one question (the report carries the warning);
- ``openai`` + ``structured``: one strict ``json_schema`` request per chunk;
- ``anthropic`` + ``structured``: ChatAnthropic against the Messages API, a forced tool per chunk.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from analyzer.config import load_settings  # noqa: E402
from analyzer.pipeline import analyze_async  # noqa: E402
from analyzer.testing.openai_stub import OpenAIStub, default_responder  # noqa: E402


def _no_logprobs(request: dict[str, Any]) -> dict[str, Any]:
    answer = default_responder(request)
    answer.pop("logprobs", None)
    return answer


async def _one(name: str, path: Path, seller: list[str], **settings: Any) -> dict[str, Any]:
    responder = _no_logprobs if settings.pop("no_logprobs", False) else None
    with OpenAIStub(responder=responder) as stub:
        if settings.get("base_url") == "anthropic":
            settings["base_url"] = stub.anthropic_url
        elif settings.get("base_url") == "openai":
            settings["base_url"] = stub.url
        started = time.perf_counter()
        report = await analyze_async(path, seller=seller, settings=load_settings(**settings), use_cache=False)
        seconds = time.perf_counter() - started
        requests = stub.requests
    u = report.usage
    return {
        "path": name,
        "strategy": report.strategy,
        "requests": requests,
        "calls": u.calls,
        "prompt_tokens": u.prompt_tokens,
        "generated_tokens": u.completion_tokens,
        "seconds": round(seconds, 2),
        "warnings": len(report.warnings),
        "complete": report.complete,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", nargs="?", default=str(REPO / "fixtures" / "plain" / "discovery-budget-frozen.txt"))
    parser.add_argument("--seller", default="Dana Reyes")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("ANTHROPIC_API_KEY", "stub-key")
    # Provider packages are imported once per process (about 2 s for langchain_anthropic): not per analysis.
    import langchain_anthropic  # noqa: F401
    import langchain_openai  # noqa: F401

    path = Path(args.file)
    seller = [args.seller]
    common: dict[str, Any] = {"api_key": "stub-key", "redact": False}
    rows = [
        await _one("openai, questions", path, seller, base_url="openai", model="m", strategy="chunks", **common),
        await _one(
            "openai, questions, no logprobs",
            path,
            seller,
            base_url="openai",
            model="m",
            strategy="chunks",
            no_logprobs=True,
            **common,
        ),
        await _one("openai, structured", path, seller, base_url="openai", model="m", strategy="structured", **common),
        await _one(
            "anthropic, structured", path, seller, base_url="anthropic", model="anthropic:claude-stub", **common
        ),
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{path.name}: one analysis per provider path against the loopback stub (token counts: chars/4)")
    print(f"{'path':34} {'strategy':11} {'requests':>8} {'prompt tok':>10} {'generated':>9} {'seconds':>7}  warnings")
    for r in rows:
        print(
            f"{r['path']:34} {r['strategy']:11} {r['requests']:>8} {r['prompt_tokens']:>10} "
            f"{r['generated_tokens']:>9} {r['seconds']:>7}  {r['warnings']}"
        )


if __name__ == "__main__":
    asyncio.run(main())
