"""Upload-service load test: N concurrent uploads over loopback, then wait until every job is done.

    .venv/bin/python benchmarks/service.py [--uploads 50] [--concurrency 4] [--latency 0.05]
                                           [--backend fake|keywords] [--database-url URL]

The server is the real app under uvicorn in a child process (so the load generator does not share its
interpreter) on a free loopback port, with a throwaway SQLite file unless --database-url is given.
``--backend fake`` injects an analysis that parses the upload and sleeps ``--latency`` seconds (standing
in for the LLM); ``--backend keywords`` runs the real pipeline with the deterministic no-LLM extractor.
Prints p50/p95/max latency of the upload POSTs and of status GETs, the time until all jobs were done,
and checks in the database that every upload was stored and finished (none lost, none duplicated).
Exits 1 if any was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from analyzer.batch.engine import Engine
from analyzer.config import Settings
from analyzer.extraction.findings import Evidence, Flag
from analyzer.report.model import Report
from analyzer.service import ServiceConfig, Store, create_app
from analyzer.transcript import parse_bytes

CALL = """Jordan Ellis: Thanks for making the time today. What are you hoping to fix?
Dana Price: Our dispatch team loses hours every week to manual routing, call {i}.
Dana Price: Honestly, a finder's fee paid to me directly would help this move.
Jordan Ellis: I understand. What budget have you set aside?
Dana Price: The budget is frozen until next fiscal year.
"""


def fake_analyze(latency: float) -> Any:
    """An analysis with the pipeline's signature: real parse, fixed sleep, one grounded flag."""

    async def analyze(
        path: Path | None = None, *, data: bytes | None = None, filename: str | None = None,
        seller: Sequence[str] = (), seller_domain: str | None = None, **_: Any,
    ) -> Report:
        assert data is not None
        t = parse_bytes(data, filename=filename or "upload", seller=seller, seller_domain=seller_domain)
        await asyncio.sleep(latency)
        turn = t.turns[2]
        ev = Evidence(sentence_id=turn.sentences[0].id, turn_id=turn.id, speaker=turn.speaker, role=turn.role,
                      quote=turn.sentences[0].text)
        return Report(source=t.source, verdict="walk_away", transcript=t,
                      flags=[Flag(category="ethics", severity="high", evidence=[ev])])

    return analyze


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def fmt_ms(values: list[float]) -> str:
    return (f"p50 {pct(values, .5) * 1000:7.1f} ms   p95 {pct(values, .95) * 1000:7.1f} ms   "
            f"max {max(values) * 1000:7.1f} ms   (n={len(values)})")


async def drive(base: str, uploads: int) -> tuple[list[float], list[float], float, dict[str, Any]]:
    post_lat: list[float] = []
    get_lat: list[float] = []
    limits = httpx.Limits(max_connections=uploads, max_keepalive_connections=uploads)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        start = time.perf_counter()

        async def one(i: int) -> str:
            t0 = time.perf_counter()
            r = await client.post("/api/v1/analyses", files={"file": (f"call-{i}.txt", CALL.format(i=i).encode())},
                                  data={"seller": "Jordan Ellis", "account": f"acct-{i % 5}"})
            post_lat.append(time.perf_counter() - t0)
            if r.status_code != 202:
                raise SystemExit(f"upload {i} answered {r.status_code}: {r.text}")
            return str(r.json()["id"])

        ids = await asyncio.gather(*(one(i) for i in range(uploads)))
        pending = set(ids)
        while pending:
            async def status(aid: str) -> tuple[str, str]:
                t0 = time.perf_counter()
                r = await client.get(f"/api/v1/analyses/{aid}")
                get_lat.append(time.perf_counter() - t0)
                return aid, str(r.json()["status"])

            for aid, st in await asyncio.gather(*(status(a) for a in pending)):
                if st in ("done", "failed"):
                    pending.discard(aid)
            if pending:
                await asyncio.sleep(0.05)
        drained = time.perf_counter() - start
        listing = (await client.get("/api/v1/analyses", params={"limit": 200})).json()
        listing["ids"] = ids
    return post_lat, get_lat, drained, listing


def serve(port: int, url: str, home: str, backend: str, concurrency: int, latency: float) -> None:
    """The child process: the real app under uvicorn."""
    settings = Settings(home=Path(home), cache=False)
    config = ServiceConfig(database_url=url, concurrency=concurrency, poll_seconds=0.5)
    if backend == "fake":
        analyzer = Engine(settings, concurrency=concurrency, analyze=fake_analyze(latency))
    else:
        analyzer = Engine(settings, concurrency=concurrency, backend="keywords")
    app = create_app(settings, config, analyzer=analyzer)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--uploads", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=4, help="worker slots (analyses at once)")
    ap.add_argument("--latency", type=float, default=0.05, help="seconds per fake analysis")
    ap.add_argument("--backend", choices=["fake", "keywords"], default="fake")
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = multiprocessing.get_context("fork").Process(
            target=serve, args=(port, url, tmp, args.backend, args.concurrency, args.latency), daemon=True
        )
        proc.start()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or not proc.is_alive():
                raise SystemExit("the server did not start")
            time.sleep(0.05)
        try:
            post_lat, get_lat, drained, listing = asyncio.run(drive(base, args.uploads))
        finally:
            proc.terminate()  # SIGTERM: uvicorn shuts down gracefully, the worker stops
            proc.join(15)
        # Count from the database itself, not only through the API.
        store = Store(url)
        counts = store.counts()
        store.close()

    ids = listing["ids"]
    stored = {item["id"]: item for item in listing["items"]}
    lost = [i for i in ids if i not in stored]
    not_done = [i for i in ids if i in stored and stored[i]["status"] != "done"]
    db = "PostgreSQL" if args.database_url and "postgres" in args.database_url else "SQLite"
    print(f"{args.uploads} concurrent uploads, backend {args.backend}"
          f"{f' ({args.latency * 1000:.0f} ms each)' if args.backend == 'fake' else ''}, "
          f"{args.concurrency} worker slots, {db}")
    print(f"  POST /api/v1/analyses       {fmt_ms(post_lat)}")
    print(f"  GET  /api/v1/analyses/{{id}}  {fmt_ms(get_lat)}")
    ideal = args.uploads * (args.latency if args.backend == "fake" else 0) / args.concurrency
    print(f"  all done after {drained:.2f} s (ideal for the fake latency at this concurrency: {ideal:.2f} s)")
    print(f"  stored {listing['total']} / {args.uploads} (in the database: {counts}); distinct ids {len(set(ids))}; "
          f"lost {len(lost)}; "
          f"not done {len(not_done)}; mean attempts "
          f"{statistics.mean(item['attempts'] for item in stored.values()):.2f}")
    return 1 if lost or not_done or listing["total"] != args.uploads or len(set(ids)) != len(ids) else 0


if __name__ == "__main__":
    sys.exit(main())
