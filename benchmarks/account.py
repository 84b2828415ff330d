"""What `walkaway account` adds on top of the per-call analyses, measured with the embedded model.

    .venv/bin/python benchmarks/account.py [--account aw4-nestwork] [--backend local]

For each call of one account of ``evals/accounts.yaml``, with the response cache off: the per-call
analysis (`walkaway analyze`) alone, then the account behaviour questions alone (``prompts/account.yaml``
over the same chunks), then the patterns, the policy and the draft over the finished calls. Prints seconds
and model calls for each part and the share the account adds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from analyzer.accounts.analyze import account_from_reports  # noqa: E402
from analyzer.accounts.evaluate import load_account_suite  # noqa: E402
from analyzer.accounts.policy import load_account_policy  # noqa: E402
from analyzer.config import load_settings  # noqa: E402
from analyzer.extraction.behaviours import keyword_behaviours, model_behaviours  # noqa: E402
from analyzer.extraction.prompts import load_prompts  # noqa: E402
from analyzer.pipeline import analyze_async, model_chat  # noqa: E402
from analyzer.transcript import parse_file  # noqa: E402


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--account", default="aw4-nestwork")
    parser.add_argument("--backend", default="local")
    args = parser.parse_args()
    suite = load_account_suite(REPO / "evals" / "accounts.yaml")
    (acc,) = [a for a in suite.accounts if a.id == args.account]
    settings = load_settings(backend=args.backend, cache=False)
    chat = model_chat(settings, args.backend, cache=False) if args.backend != "keywords" else None
    prompts = load_prompts()
    analysis_s = behaviour_s = 0.0
    calls = []
    for c in acc.calls:
        t = parse_file(suite.path.parent / c.transcript, seller=c.seller)
        t0 = time.perf_counter()
        report = await analyze_async(transcript=t, settings=settings, backend=args.backend, use_cache=False)
        t1 = time.perf_counter()
        if chat is None:
            report.behaviours = keyword_behaviours(t)
        else:
            report.behaviours = await model_behaviours(
                t, chat, prompts, budget_tokens=settings.chunk_tokens, overlap_tokens=settings.chunk_overlap_tokens
            )
        t2 = time.perf_counter()
        report.transcript = t
        analysis_s += t1 - t0
        behaviour_s += t2 - t1
        calls.append((Path(c.transcript).name, c.date, report))
        print(
            f"  {Path(c.transcript).name}: analysis {t1 - t0:.1f} s ({report.usage.calls} model calls), "
            f"account questions {t2 - t1:.1f} s",
            flush=True,
        )
    t3 = time.perf_counter()
    account = account_from_reports(acc.id, calls, load_account_policy())
    rules_s = time.perf_counter() - t3
    added = behaviour_s + rules_s
    print(f"{acc.id}: {len(acc.calls)} calls, backend {args.backend}; verdict {account.verdict}")
    print(f"  per-call analyses     {analysis_s:7.1f} s")
    print(f"  account questions     {behaviour_s:7.1f} s")
    print(f"  patterns, policy      {rules_s * 1000:7.1f} ms")
    print(f"  added by the account  {added:7.1f} s = {100 * added / analysis_s:.0f}% of the per-call analyses")


if __name__ == "__main__":
    asyncio.run(main())
