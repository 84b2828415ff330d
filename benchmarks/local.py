"""The embedded model at the speed of the hardware: wall time per call against that call's floor.

    .venv/bin/python benchmarks/local.py [--strategy chunks|windows] [--reports DIR] [--llama KEY=VALUE ...]
        [--json-through-completion] [FILE ...]

Cache off, the embedded model in-process (analyzer/extraction/backends/llamacpp.py), 2 cores here. For
each call (default: a ~250-word, a ~800-word and a ~3,700-word call, and a ~60-minute call built by
joining the three long core calls, since no single call that long exists in the repository) it prints:

* wall seconds, model calls, prompt tokens the model evaluated (its own count: tokens passed to
  ``llama_decode`` after the reused KV-cache prefix), generated tokens;
* ``evaluated / transcript``: evaluated prompt tokens over the transcript's own tokens (model tokenizer),
  and ``prefix / transcript``: the same without the question suffixes, i.e. transcript plus instructions
  as evaluated (1.0 would be every transcript token once and no instructions);
* the floor: (transcript tokens + every request's question suffix) / prompt speed + generated tokens /
  generation speed, with both speeds measured in the same run on the same machine, and wall / floor;
* non-LLM share: wall time spent outside model calls;
* JSON s: the time of the JSON answers (evidence and severity) alone, beside their own floor (their
  evaluated prompt tokens at the suffix speed plus the generated tokens at the generation speed).

Prompt speed is measured twice because llama.cpp is much faster per token on a long batch than on a
30-token suffix: the floor charges the transcript at the long-batch speed and the suffixes at the short
one, which is what a perfect implementation of the same questions would pay.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from analyzer.config import load_settings  # noqa: E402
from analyzer.extraction.backends import llamacpp  # noqa: E402
from analyzer.extraction.backends.llamacpp import LLAMA_OPTIONS, LlamaCppChat, get_local_chat  # noqa: E402
from analyzer.pipeline import analyze_async, build_chat  # noqa: E402
from analyzer.transcript import parse_file  # noqa: E402

DEFAULT = [
    REPO / "evals/dev/calls/w4-15-grand-oak-events-cold-call.txt",
    REPO / "evals/dev/calls/w2-13-tri-county-electric-siem.txt",
    REPO / "evals/calls/a13-ironclad-pentest-clean-report-long.vtt",
]
LONG = [
    REPO / "evals/calls/a06-lanternfish-agency-long.txt",
    REPO / "evals/calls/a13-ironclad-pentest-clean-report-long.vtt",
    REPO / "evals/calls/a20-routewise-grocery-no-line-item-long.txt",
]
END_TAGS = ("</transcript>", "</excerpt>")


class Recorder:
    """Wraps the pipeline's chat model: time inside model calls, and each request's question suffix."""

    def __init__(self, chat: Any, model: LlamaCppChat) -> None:
        self._chat = chat
        self._model = model
        self.suffix_tokens = 0
        self.model_seconds = 0.0
        self.json_seconds = 0.0
        self.json_prompt = 0
        self.json_generated = 0
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._chat, name)

    async def complete(self, messages: Sequence[dict[str, str]], **kwargs: Any) -> Any:
        user = messages[-1]["content"]
        tail = next((user.rsplit(tag, 1)[1] for tag in END_TAGS if tag in user), user)
        # The tail after the transcript plus the chat template's closing tokens (end of turn, assistant).
        self.suffix_tokens += len(self._model.llm.tokenize(tail.encode(), add_bos=False, special=True)) + 5
        started = time.perf_counter()
        evaluated = self._model.tokens_evaluated
        result = None
        try:
            result = await self._chat.complete(messages, **kwargs)
            return result
        finally:
            took = time.perf_counter() - started
            self.model_seconds += took
            self.calls += 1
            if kwargs.get("max_tokens", 1) > 1:  # a JSON answer (evidence), not a one-token yes/no
                self.json_seconds += took
                self.json_prompt += self._model.tokens_evaluated - evaluated
                self.json_generated += result.completion_tokens if result is not None else 0


def speeds(model: LlamaCppChat) -> tuple[float, float, float]:
    """(long-batch prompt tokens/s, 30-token-suffix tokens/s, generated tokens/s), measured now."""
    llm = model.llm
    text = " ".join(f"The prospect said item {i} matters to the team this quarter." for i in range(60))
    tokens = llm.tokenize(text.encode(), add_bos=True, special=True)[:480]
    llm.n_tokens = 0
    t = time.perf_counter()
    llm.eval(tokens)
    long_speed = len(tokens) / (time.perf_counter() - t)
    short: list[float] = []
    for i in range(5):
        llm.n_tokens = len(tokens)
        suffix = llm.tokenize(f" Question {i}: does the prospect name a date for going live?".encode(), add_bos=False)
        suffix = (suffix * 3)[:30]
        t = time.perf_counter()
        llm.eval(suffix)
        short.append(len(suffix) / (time.perf_counter() - t))
    llm.n_tokens = 0
    t = time.perf_counter()
    out = llm.create_completion("Write a long list of fruit names:", max_tokens=48, temperature=0.0)
    generated = int(out["usage"]["completion_tokens"])  # type: ignore[index]
    gen_speed = generated / (time.perf_counter() - t)
    llm.n_tokens = 0
    return long_speed, sorted(short)[len(short) // 2], gen_speed


def joined_long_call(folder: Path) -> Path:
    """A ~60-minute call: the three long core calls, one after another, as one plain transcript."""
    lines: list[str] = []
    for path in LONG:
        t = parse_file(path)
        lines += [f"{turn.speaker}: {turn.text}" for turn in t.turns]
    out = folder / "joined-60-minute-call.txt"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


async def bench(
    path: Path, strategy: str, model: LlamaCppChat, prompt_speed: tuple[float, float, float]
) -> dict[str, Any]:
    settings = load_settings(backend="local", strategy=strategy, cache=False)
    transcript = parse_file(path)
    words = sum(len(t.text.split()) for t in transcript.turns)
    transcript_tokens = len(model.llm.tokenize(transcript.text().encode(), add_bos=False))
    recorder = Recorder(build_chat(settings, "local"), model)
    before = model.tokens_evaluated
    started = time.perf_counter()
    report = await analyze_async(transcript=transcript, settings=settings, chat=recorder, use_cache=False)
    wall = time.perf_counter() - started
    long_speed, short_speed, gen_speed = prompt_speed
    generated = report.usage.completion_tokens
    floor = transcript_tokens / long_speed + recorder.suffix_tokens / short_speed + generated / gen_speed
    return {
        "call": path.name,
        "words": words,
        "wall_s": wall,
        "calls": recorder.calls,
        "evaluated": model.tokens_evaluated - before,
        "transcript_tokens": transcript_tokens,
        "generated": generated,
        "suffix_tokens": recorder.suffix_tokens,
        "floor_s": floor,
        "non_llm": max(0.0, wall - recorder.model_seconds) / wall if wall else 0.0,
        "json_s": recorder.json_seconds,
        "json_floor_s": recorder.json_prompt / short_speed + recorder.json_generated / gen_speed,
        "verdict": report.verdict,
        "report": report,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strategy", choices=["chunks", "windows"], default="chunks")
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument(
        "--reports",
        type=Path,
        default=None,
        help="also write each call's JSON report here, to check that a speed change left the findings alone",
    )
    parser.add_argument(
        "--llama",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a llama.cpp load setting to try (n_ubatch=256, flash_attn=true, type_k=8, use_mlock=true ...)",
    )
    parser.add_argument(
        "--json-through-completion",
        action="store_true",
        help="JSON answers through create_chat_completion (the grammar over every candidate), as before",
    )
    args = parser.parse_args()
    if args.json_through_completion:
        llamacpp.GRAMMAR_CHECKS_ONE_TOKEN = False
    for item in args.llama:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--llama {item!r}: expected KEY=VALUE")
        LLAMA_OPTIONS[key] = {"true": True, "false": False}.get(value.lower(), int(value) if value.isdigit() else value)
    s = load_settings()
    model = get_local_chat(model_dir=s.model_dir, n_ctx=s.local_ctx, threads=s.local_threads, quant=s.local_quant)
    measured = speeds(model)
    print(f"llama.cpp settings: {LLAMA_OPTIONS}")
    print(
        f"strategy {args.strategy}; measured prompt speed {measured[0]:.0f} tok/s (long batch), "
        f"{measured[1]:.0f} tok/s (30-token suffix); generation {measured[2]:.1f} tok/s"
    )
    header = (
        f"{'call':44} {'words':>6} {'wall s':>7} {'calls':>5} {'evaluated':>9} {'eval/transcript':>15} "
        f"{'prefix/transcript':>17} "
        f"{'generated':>9} {'floor s':>7} {'wall/floor':>10} {'non-LLM':>7} {'JSON s':>6} {'JSON floor s':>12}"
    )
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        files = args.files or [*DEFAULT, joined_long_call(Path(tmp))]
        for path in files:
            r = asyncio.run(bench(path, args.strategy, model, measured))
            print(
                f"{r['call'][:44]:44} {r['words']:6d} {r['wall_s']:7.1f} {r['calls']:5d} {r['evaluated']:9d} "
                f"{r['evaluated'] / r['transcript_tokens']:15.2f} "
                f"{(r['evaluated'] - r['suffix_tokens']) / r['transcript_tokens']:17.2f} "
                f"{r['generated']:9d} {r['floor_s']:7.1f} "
                f"{r['wall_s'] / r['floor_s']:10.2f} {r['non_llm']:7.1%} {r['json_s']:6.1f} {r['json_floor_s']:12.1f}",
                flush=True,
            )
            if args.reports is not None:
                args.reports.mkdir(parents=True, exist_ok=True)
                (args.reports / f"{path.stem}.json").write_text(r["report"].model_dump_json(indent=1))


if __name__ == "__main__":
    main()
