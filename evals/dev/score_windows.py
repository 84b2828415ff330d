"""Records the ``windows`` strategy's answers on development calls, one JSON file per case, through the
response cache (so a later ``walkaway eval --strategy windows`` over the same calls replays them).

Usage: python evals/dev/score_windows.py OUT_DIR [CASE_ID ... | @FILE]   (default: every case, writers
interleaved; given ids, or one id per line of FILE, are scored in the order given)
Resumable: a case whose file exists is skipped. Used to pay the model's minutes once while the rest of the
strategy (combiner, fitting) is written and retuned from the records.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from devset import ROOT, cases_to_score, save_record

from analyzer.config import load_settings
from analyzer.extraction.cache import CACHE_NAMESPACE, CachedChat, ResponseCache
from analyzer.extraction.cues import find_cues, scan_cues
from analyzer.extraction.windows import WindowExtractor, load_window_spec, plan_windows
from analyzer.pipeline import build_chat
from analyzer.transcript import parse_file


async def main() -> None:
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = load_settings()
    chat = CachedChat(build_chat(settings, "local"), ResponseCache(settings.cache_path), namespace=CACHE_NAMESPACE)
    spec = load_window_spec()
    for case in cases_to_score(sys.argv[2:]):
        target = out_dir / f"{case['id']}.json"
        if target.exists():
            continue
        t = parse_file(ROOT / "evals" / case["transcript"], seller=case.get("seller") or [])
        cues = find_cues(scan_cues(t))
        windows = plan_windows(t)
        ex = WindowExtractor(chat, spec)
        started = time.perf_counter()
        records, calls, hits = [], 0, 0
        for w in windows:
            ids = set(w.prospect_ids)
            rec, cost = await ex.run(w, {n for n, sids in cues.items() if ids & set(sids)})
            records.append(rec.model_dump())
            calls += cost.calls
            hits += cost.cache_hits
        seconds = time.perf_counter() - started
        save_record(target, case["id"], seconds, calls, hits, spec=spec.version_id, windows=records)
        print(f"{case['id']}: {len(windows)} windows, {calls} calls, {seconds:.0f} s", flush=True)


asyncio.run(main())
