"""Records the yes-scores of candidate questions (``evals/dev/probe-questions.yaml``) on development calls,
chunk by chunk, asked exactly as the ``chunks`` strategy asks its own questions.

Usage: python evals/dev/probe_questions.py OUT_DIR [CASE_ID ... | @FILE] [--questions FILE | --shipped] [--flagged RUN]
                                           [--unfocused]
(default: every case, writers interleaved; given ids, or one id per line of FILE, in the order given)

``--questions`` names another candidate file (default ``probe-questions.yaml``; ``severity-questions.yaml``
holds the severity candidates). With ``--flagged RUN`` (a folder of per-case runs) a candidate of a
category is asked only of the calls on which RUN raised that flag, and calls without any are skipped;
candidates under ``any`` are asked of every call that is asked anything. ``--shipped`` takes the candidates
from ``prompts/manifest.yaml`` instead: the behaviours the ``chunks`` strategy asks today. ``--unfocused``
asks every question and candidate without the cue lexicon's "Look closely at sentences ..." hint, so a
probe can measure what the lexicon's pointing does (an answer is new to the response cache only where the
lexicon matched in the chunk: elsewhere the request is the one the pipeline made).

Per chunk it asks the pipeline's 13 questions first (answered from the response cache when the call was
scored before, so they cost nothing) and then every candidate, each with the cue focus of the question it
would replace; it records every raw P(Yes). The call-level scores, calibration and the fit against the
labels are computed later from these records (``evals/dev/probe_fit.py``), without the model.
Resumable: a case whose file exists is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import yaml
from devset import ROOT, cases_to_score, labelled_cases, save_record

from analyzer.chunking import plan_chunks
from analyzer.config import load_settings
from analyzer.extraction.backends.chat import yes_score
from analyzer.extraction.cues import find_cues, scan_cues
from analyzer.extraction.extractor import ChunkExtractor, render_chunk
from analyzer.extraction.prompts import load_prompts
from analyzer.pipeline import model_chat
from analyzer.taxonomy import CATEGORIES, SIGNALS
from analyzer.transcript import parse_file

CANDIDATES = Path(__file__).with_name("probe-questions.yaml")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("out", type=Path)
    ap.add_argument("cases", nargs="*")
    ap.add_argument("--questions", type=Path, default=CANDIDATES)
    ap.add_argument("--shipped", action="store_true", help="the manifest's behaviours as the candidates")
    ap.add_argument("--flagged", default=None)
    ap.add_argument("--unfocused", action="store_true", help="no cue-lexicon focus hint on any question")
    args = ap.parse_args()
    out_dir = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    prompts = load_prompts()
    if args.shipped:
        candidates = {n: q.asked() for n, q in prompts.questions.items() if q.behaviours}
    else:
        candidates = yaml.safe_load(args.questions.read_text())
    flagged: dict[str, set[str]] | None = None
    if args.flagged:
        flagged = {c.id: {f.category for f in c.runs[0].flags} for c in labelled_cases(f"{args.flagged}/*")}
    settings = load_settings()
    chat = model_chat(settings, "local")
    m = prompts.manifest
    for case in cases_to_score(args.cases):
        target = out_dir / f"{case['id']}.json"
        if target.exists():
            continue
        wanted = set(candidates) if flagged is None else flagged.get(case["id"], set()) & set(candidates)
        if not wanted:
            continue
        wanted.add("any")  # the candidates under `any` are asked of every call that is asked anything
        t = parse_file(ROOT / "evals" / case["transcript"], seller=case.get("seller") or [])
        chunks = plan_chunks(t, budget_tokens=settings.chunk_tokens, overlap_tokens=settings.chunk_overlap_tokens)
        ex = ChunkExtractor(chat, prompts, max_reasks=settings.max_reasks, cues=find_cues(scan_cues(t)))
        started = time.perf_counter()
        records, calls, hits = [], 0, 0
        for chunk in chunks:
            rendered = render_chunk(t, chunk)
            raw: dict[str, float] = {}
            focused: list[str] = []
            asks = [(n, n, prompts.questions[n].question) for n in (*CATEGORIES, *SIGNALS)]
            asks += [(f"{tgt}.{k}", tgt, q) for tgt, qs in candidates.items() if tgt in wanted for k, q in qs.items()]
            for key, like, question in asks:
                focus = [] if args.unfocused else ex._focus(rendered, like)
                if focus:
                    focused.append(key)
                messages = ex._messages(prompts.question, rendered, question, focus)
                result = await chat.complete(messages, max_tokens=1, top_logprobs=m.top_logprobs)
                calls += 1
                hits += result.from_cache
                raw[key] = round(yes_score(result, key), 4)
            records.append({"chunk": chunk.index, "raw": raw, "focused": focused})
        seconds = time.perf_counter() - started
        save_record(
            target, case["id"], seconds, calls, hits,
            questions=prompts.full_version, unfocused=args.unfocused, chunks=records,
        )
        print(f"{case['id']}: {len(chunks)} chunks, {calls} calls ({hits} cached), {seconds:.0f} s", flush=True)


asyncio.run(main())
