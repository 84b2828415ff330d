"""Parse + chunk of a 60-minute call (~9,000 words) in three formats: plain text, Zoom WebVTT, Gong JSON.

The call is generated in memory from a seeded turn generator (sales-call sentences, realistic turn
lengths: short acknowledgements, medium answers, a few long explanations), so the run is reproducible.
Prints milliseconds per transcript (median of repeats; wall clock and process CPU time, since a busy
machine inflates wall time) and MB/s of input.

    python benchmarks/ingest.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from analyzer.chunking import plan_chunks
from analyzer.config import Settings
from analyzer.tokens import count_tokens
from analyzer.transcript import parse_bytes

_SELLER = [
    "Thanks for making the time today, I know your calendar is packed.",
    "Can you walk me through how your team handles this today?",
    "Our platform connects to NetSuite and matches invoices against purchase orders automatically.",
    "Most of our customers in distribution cut manual entry by about 80 percent.",
    "What would it mean for the team if quarter end took two days instead of a week?",
    "Who else would be involved in a decision like this?",
    "Pricing for your volume would be around $30,000 a year, e.g. about $2.5K a month.",
    "I can put together a short business case with your numbers in it.",
    "Let me share my screen and show you the approval workflow.",
    "Does a follow-up next Tuesday at 10 a.m. work for you?",
]
_PROSPECT = [
    "Yeah, that makes sense.",
    "Honestly, most of it is still manual and it falls apart at quarter end.",
    "We process about 3,500 invoices a month, more in December.",
    "Our budget is frozen until next fiscal year, so timing is tricky.",
    "My VP signs anything over 10k and she hasn't been part of this yet.",
    "We tried another vendor two years ago and the rollout took six months.",
    "Mr. Alvarez in IT will want to see the security documentation first.",
    "How long does implementation usually take?",
    "I'd need to run this by the CFO before committing to anything.",
    "Okay.",
]
_NAMES = ("Dana Reyes", "Marcus Bell")


def make_call(words_target: int = 9000, seed: int = 7) -> list[tuple[str, str, float, float]]:
    """Turns (speaker, text, start, end) for a ~60-minute call: ~150 spoken words a minute."""
    rng = random.Random(seed)
    turns: list[tuple[str, str, float, float]] = []
    words, t = 0, 0.0
    while words < words_target:
        speaker = _NAMES[len(turns) % 2]
        pool = _SELLER if speaker == _NAMES[0] else _PROSPECT
        n = rng.choice((1, 1, 2, 2, 3, 4, 6, 9))  # mostly short turns, now and then a long one
        text = " ".join(rng.choice(pool) for _ in range(n))
        dur = len(text.split()) / 2.5
        turns.append((speaker, text, t, t + dur))
        words += len(text.split())
        t += dur + 0.4
    return turns


def _clock(s: float) -> str:
    ms = round(s * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def render(turns: list[tuple[str, str, float, float]], fmt: str) -> bytes:
    """The call in one export format."""
    if fmt == "plain":
        return "\n".join(f"{s}: {x}" for s, x, _, _ in turns).encode()
    if fmt == "vtt":
        cues = [f"{i}\n{_clock(a)} --> {_clock(b)}\n{s}: {x}\n" for i, (s, x, a, b) in enumerate(turns, 1)]
        return ("WEBVTT\n\n" + "\n".join(cues)).encode()
    ids = {name: str(9000 + i) for i, name in enumerate(_NAMES)}
    doc = {
        "callTranscripts": [
            {
                "callId": "1",
                "transcript": [
                    {"speakerId": ids[s], "sentences": [{"start": round(a * 1000), "end": round(b * 1000), "text": x}]}
                    for s, x, a, b in turns
                ],
            }
        ],
        "parties": [
            {"speakerId": ids[_NAMES[0]], "name": _NAMES[0], "affiliation": "Internal"},
            {"speakerId": ids[_NAMES[1]], "name": _NAMES[1], "affiliation": "External"},
        ],
    }
    return json.dumps(doc).encode()


def main() -> None:
    """Run the benchmark and print one line per format."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    settings = Settings()
    turns = make_call()
    words = sum(len(x.split()) for _, x, _, _ in turns)
    count_tokens("warm up")  # load the BPE once, outside the timings
    print(f"call: {len(turns)} turns, {words} words, {turns[-1][3] / 60:.1f} minutes")
    for fmt, name in (("plain", "call.txt"), ("vtt", "call.vtt"), ("gong", "call.json")):
        data = render(turns, fmt)
        parse_ms, total_ms, cpu_ms = [], [], []
        for _ in range(args.repeats):
            c0, t0 = time.process_time(), time.perf_counter()
            # max_bytes passed as the CLI does (it loads Settings once per run, not per parse)
            transcript = parse_bytes(data, filename=name, max_bytes=settings.max_file_bytes)
            t1 = time.perf_counter()
            chunks = plan_chunks(
                transcript, budget_tokens=settings.chunk_tokens, overlap_tokens=settings.chunk_overlap_tokens
            )
            t2, c2 = time.perf_counter(), time.process_time()
            cpu_ms.append((c2 - c0) * 1000)
            parse_ms.append((t1 - t0) * 1000)
            total_ms.append((t2 - t0) * 1000)
        med = statistics.median(total_ms)
        print(
            f"{fmt:6s} {len(data) / 1e6:6.3f} MB  parse {statistics.median(parse_ms):7.2f} ms  "
            f"parse+chunk {med:7.2f} ms (CPU {statistics.median(cpu_ms):6.2f} ms)  "
            f"{len(data) / 1e6 / (med / 1000):6.2f} MB/s  "
            f"{len(transcript.turns)} turns  {len(chunks)} chunks  {sum(c.tokens for c in chunks)} chunk tokens"
        )


if __name__ == "__main__":
    main()
