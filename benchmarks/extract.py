"""Extraction on the embedded local model: tokens and seconds per call, and prompt tokens per transcript.

    .venv/bin/python benchmarks/extract.py [FILE ...]

For each transcript (default: three fixtures of different lengths) it runs the full pipeline with the
response cache off and prints:

* calls, seconds per call, prompt tokens and generated tokens per call (as the server reports them);
* prompt tokens the server really evaluated, read from its own log ("prompt eval time = ... / N tokens"
  per request), i.e. what was not reused from its KV cache;
* that figure relative to the transcript's own tokens (counted by the model's tokenizer) plus one copy
  of the instructions per chunk;
* the *transcript* tokens among those evaluated, relative to the transcript's own tokens: DESIGN.md's
  target ("transcript tokens processed per analysis <= 1.3x the transcript's own tokens, plus
  instructions") is this figure. llama.cpp evaluates the end of a prompt that differs from its cached
  prefix, so for each request the evaluated span is matched against the prompt's layout: the tokens
  after the transcript (question, focus hint, chat-template tail) are evaluated first; only what is
  evaluated beyond them reaches back into the transcript.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from analyzer.chunking import plan_chunks  # noqa: E402
from analyzer.config import load_settings  # noqa: E402
from analyzer.extraction.backends.localmodel import get_local_server  # noqa: E402
from analyzer.extraction.extractor import _TEMPLATE_TAIL_TOKENS  # noqa: E402
from analyzer.extraction.prompts import load_prompts  # noqa: E402
from analyzer.pipeline import analyze_async, build_chat  # noqa: E402
from analyzer.transcript import parse_file  # noqa: E402

DEFAULT = [
    (REPO / "evals/smoke/s1-kickback-walk-away.txt", ["Nina Brooks"]),
    (REPO / "fixtures/plain/discovery-budget-frozen.txt", ["Dana Reyes"]),
    (REPO / "evals/calls/b08-shieldops-mdr.txt", []),
]


class Recorder:
    """Wraps the pipeline's chat model and keeps, per request sent to the server, the user text after
    the transcript and the transcript's own text (the layout needed to split evaluated tokens)."""

    def __init__(self, chat: Any) -> None:
        self._chat = chat
        self.requests: list[tuple[str, str]] = []  # (transcript part, text after it)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._chat, name)

    async def complete(self, messages: Any, **kwargs: Any) -> Any:
        result = await self._chat.complete(messages, **kwargs)
        if not result.from_cache:
            _, _, rest = messages[1]["content"].partition("<transcript>")
            body, _, tail = rest.partition("</transcript>")
            # A re-ask appends turns after the first user message: they all follow the transcript.
            extra = "".join(m["content"] for m in messages[2:])
            self.requests.append((body, tail + extra))
        return result


# llama.cpp prints, per request, how many prompt tokens it really evaluated (the rest came from its KV cache).
_EVALUATED = re.compile(r"prompt eval time =\s+[\d.]+ ms /\s+(\d+) tokens")


def main() -> None:
    files = [(Path(a), []) for a in sys.argv[1:]] or DEFAULT
    settings = load_settings()
    server = get_local_server(
        model_dir=settings.model_dir,
        home=settings.home,
        n_ctx=settings.local_ctx,
        threads=settings.local_threads,
        timeout=settings.local_start_timeout,
    )
    prompts = load_prompts()

    def model_tokens(text: str) -> int:
        r = httpx.post(server.base_url.removesuffix("/v1") + "/extras/tokenize/count", json={"input": text}, timeout=60)
        return int(r.json()["count"])

    empty_question = prompts.question.format(transcript="", question="", context="", focus="")
    instr = model_tokens(prompts.system) + model_tokens(empty_question)
    print(f"prompts {prompts.full_version}; instructions ~{instr} model tokens per chunk")
    header = (
        f"{'transcript':34} {'chunks':>6} {'calls':>5} {'s/call':>7} {'prompt/call':>11} {'gen/call':>8} "
        f"{'evaluated':>9} {'transcript':>10} {'ratio':>6} {'tr.eval':>7} {'tr.ratio':>8} {'total s':>8}"
    )
    print(header)
    for path, seller in files:
        transcript = parse_file(path, seller=seller)
        t_tokens = model_tokens(transcript.text())
        log_start = server.log_path.stat().st_size
        started = time.perf_counter()

        async def run(p: Path = path, s: list[str] = seller) -> tuple[Any, Recorder]:
            # Built on the running loop, as the pipeline does; wrapped to record each request's layout.
            rec = Recorder(build_chat(settings, "local"))
            return await analyze_async(p, seller=s, backend="local", use_cache=False, chat=rec), rec

        report, rec = asyncio.run(run())
        wall = time.perf_counter() - started
        with server.log_path.open("rb") as f:
            f.seek(log_start)
            log = f.read().decode("utf-8", "replace")
        per_request = [int(m.group(1)) for m in _EVALUATED.finditer(log)]
        evaluated = sum(per_request)
        transcript_evaluated = 0
        if len(per_request) == len(rec.requests):
            for n, (body, tail) in zip(per_request, rec.requests, strict=True):
                after = model_tokens(tail) + _TEMPLATE_TAIL_TOKENS
                transcript_evaluated += min(max(0, n - after), model_tokens(body))
        else:
            transcript_evaluated = -1  # the log and the requests do not line up: no figure rather than a wrong one
        u = report.usage
        plan = plan_chunks(
            transcript, budget_tokens=settings.chunk_tokens, overlap_tokens=settings.chunk_overlap_tokens
        )
        chunks = len(plan)
        ratio = evaluated / (t_tokens + chunks * instr)
        print(
            f"{path.name[:34]:34} {chunks:>6} {u.calls:>5} {wall / u.calls:>7.2f} {u.prompt_tokens / u.calls:>11.0f} "
            f"{u.completion_tokens / u.calls:>8.1f} {evaluated:>9} {t_tokens:>10} {ratio:>6.2f} "
            f"{transcript_evaluated:>7} {transcript_evaluated / t_tokens:>8.2f} {wall:>8.1f}"
        )
    print("ratio = evaluated prompt tokens / (transcript tokens + instructions x chunks)")
    print("tr.ratio = transcript tokens among the evaluated ones / transcript tokens; DESIGN.md target <= 1.3")


if __name__ == "__main__":
    main()
