"""Upload-service load test: N concurrent uploads over loopback, then wait until every job is done.

    .venv/bin/python benchmarks/service.py [--uploads 50] [--concurrency 4] [--latency 0.05]
                                           [--backend fake|keywords] [--database-url URL]
    .venv/bin/python benchmarks/service.py --big-upload 12 [--probe-interval 0.05]

The server is the real app under uvicorn in a child process (so the load generator does not share its
interpreter) on a free loopback port, with a throwaway SQLite file unless --database-url is given.
``--backend fake`` injects an analysis that parses the upload and sleeps ``--latency`` seconds (standing
in for the LLM); ``--backend keywords`` runs the real pipeline with the deterministic no-LLM extractor.
Prints p50/p95/max latency of the upload POSTs and of status GETs, the time until all jobs were done,
and checks in the database that every upload was stored and finished (none lost, none duplicated).
Exits 1 if any was lost.

``--big-upload MB`` measures responsiveness instead: one plain transcript of that many megabytes is
uploaded and analyzed with ``--backend keywords`` while a prober requests ``GET /healthz`` and a page
(``GET /analyses``) one after the other, from the moment the upload starts until the analysis is done.
Prints p50/p95/max latency of each probe (the target is under 200 ms), split into the upload (+ parse)
and the analysis, next to the same probes on the idle server; the upload and analysis times; and then
how long that call's report page takes, with the probes meanwhile. ``--analysis-in thread`` runs the
analyses in a thread of the server instead of child processes, for comparison. Exits 1 if the analysis
did not finish or a probe failed.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
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


_SELLER = (
    "Thanks for making the time today, I know your calendar is packed.",
    "Can you walk me through how your team handles this today?",
    "Our platform connects to NetSuite and matches invoices against purchase orders automatically.",
    "What would it mean for the team if quarter end took two days instead of a week?",
    "Who else would be involved in a decision like this?",
    "Pricing for your volume would be around $30,000 a year.",
    "Does a follow-up next Tuesday at 10 a.m. work for you?",
)
_PROSPECT = (
    "Yeah, that makes sense.",
    "Honestly, most of it is still manual and it falls apart at quarter end.",
    "Our budget is frozen until next fiscal year, so timing is tricky.",
    "My VP signs anything over 10k and she hasn't been part of this yet.",
    "We tried another vendor two years ago and the rollout took six months.",
    "I'd need to run this by the CFO before committing to anything.",
    "Okay.",
)


def big_call(megabytes: float, seed: int = 7) -> bytes:
    """A plain 'Name: text' transcript of about ``megabytes`` MB, two speakers, realistic turn lengths."""
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    lines: list[str] = []
    size = 0
    while size < target:
        seller = len(lines) % 2 == 0
        pool = _SELLER if seller else _PROSPECT
        text = " ".join(rng.choice(pool) for _ in range(rng.choice((1, 2, 2, 3, 4, 6, 9))))
        line = f"{'Jordan Ellis' if seller else 'Dana Price'}: {text}\n"
        lines.append(line)
        size += len(line.encode())
    return "".join(lines).encode()


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


async def responsiveness(base: str, data: bytes, interval: float) -> dict[str, Any]:
    """Upload ``data`` and probe /healthz and /analyses until its analysis is done, then while its report
    page is rendered; return the figures."""
    probes: dict[str, list[tuple[float, float]]] = {"/healthz": [], "/analyses": []}  # (sent at, latency)
    errors: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        idle: dict[str, list[float]] = {path: [] for path in probes}
        # The same probes with nothing else going on, for comparison; 100 rounds also leave the server
        # time to start its analysis processes, which happens once, at start-up.
        for _ in range(100):
            for path, lat in idle.items():
                s = time.perf_counter()
                await client.get(path, headers={"accept": "text/html"})
                lat.append(time.perf_counter() - s)
            await asyncio.sleep(interval)
        done = asyncio.Event()
        t0 = time.perf_counter()

        async def probe(done: asyncio.Event, probes: dict[str, list[tuple[float, float]]]) -> None:
            while not done.is_set():
                for path, lat in probes.items():
                    s = time.perf_counter()
                    r = await client.get(path, headers={"accept": "text/html"})
                    lat.append((s - t0, time.perf_counter() - s))
                    if r.status_code != 200:
                        errors.append(f"GET {path} answered {r.status_code}")
                await asyncio.sleep(interval)

        aid = ""

        async def upload_and_wait() -> tuple[float, float, str]:
            nonlocal aid
            try:
                r = await client.post("/api/v1/analyses", files={"file": ("big-call.txt", data, "text/plain")},
                                      data={"seller": "Jordan Ellis"})
                accepted = time.perf_counter() - t0
                if r.status_code != 202:
                    return accepted, accepted, f"upload answered {r.status_code}: {r.text[:200]}"
                aid = r.json()["id"]
                while time.perf_counter() - t0 < 600:
                    st = (await client.get(f"/api/v1/analyses/{aid}")).json()
                    if st["status"] in ("done", "failed"):
                        return accepted, time.perf_counter() - t0, str(st["status"] + (f": {st['error']}"
                                                                                      if st["error"] else ""))
                    await asyncio.sleep(0.25)
                return accepted, time.perf_counter() - t0, "still not done after 600 s"
            finally:
                done.set()

        (accepted, finished, outcome), _ = await asyncio.gather(upload_and_wait(), probe(done, probes))

        # Then the report page of that call (tens of megabytes of report to validate and render).
        shown = asyncio.Event()
        page_probes: dict[str, list[tuple[float, float]]] = {"/healthz": [], "/analyses": []}

        async def show() -> float:
            try:
                s = time.perf_counter()
                r = await client.get(f"/analyses/{aid}", headers={"accept": "text/html"})
                if r.status_code != 200:
                    errors.append(f"GET /analyses/{{id}} answered {r.status_code}")
                return time.perf_counter() - s
            finally:
                shown.set()

        page_time, _ = await asyncio.gather(show(), probe(shown, page_probes)) if aid else (0.0, None)
    return {"probes": probes, "idle": idle, "accepted": accepted, "finished": finished, "outcome": outcome,
            "errors": errors, "page_time": page_time, "page_probes": page_probes}


def serve(port: int, url: str, home: str, backend: str, concurrency: int, latency: float, where: str) -> None:
    """The child process: the real app under uvicorn."""
    settings = Settings(home=Path(home), cache=False)
    # The per-client upload limit is off: every upload here comes from one address on purpose.
    config = ServiceConfig(database_url=url, concurrency=concurrency, poll_seconds=0.5, uploads_per_minute=0,
                           analysis_processes=where == "process")
    if backend == "fake":
        # An injected analysis always runs in a thread (a closure cannot be sent to a child process).
        app = create_app(settings, config, analyzer=Engine(settings, concurrency=concurrency,
                                                           analyze=fake_analyze(latency)))
    else:
        app = create_app(settings, config, backend="keywords")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--uploads", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=4, help="worker slots (analyses at once)")
    ap.add_argument("--latency", type=float, default=0.05, help="seconds per fake analysis")
    ap.add_argument("--backend", choices=["fake", "keywords"], default="fake")
    ap.add_argument("--analysis-in", choices=["process", "thread"], default="process",
                    help="where --backend keywords analyses run (the service's default is a process per slot)")
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--big-upload", type=float, default=None, metavar="MB",
                    help="measure page latency while one upload of this many MB is analyzed (backend keywords)")
    ap.add_argument("--probe-interval", type=float, default=0.05, help="pause between probes (--big-upload)")
    args = ap.parse_args(argv)
    if args.big_upload is not None:
        args.backend = "keywords"
        # A plain call of 12 MB holds ~2 million words, far over the default word limit, which would refuse
        # it right after the parse: lift the limit so the whole analysis is measured, as before the limit.
        os.environ.setdefault("WALKAWAY_MAX_WORDS", str(10**9))

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = multiprocessing.get_context("fork").Process(
            target=serve, args=(port, url, tmp, args.backend, args.concurrency, args.latency, args.analysis_in),
        )  # not a daemon: the server starts analysis processes of its own
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
            if args.big_upload is not None:
                data = big_call(args.big_upload)
                res = asyncio.run(responsiveness(base, data, args.probe_interval))
                turns = data.count(b"\n")
                print(f"one upload of {len(data) / 1e6:.1f} MB ({turns:,} turns), backend keywords in a "
                      f"{args.analysis_in}; "
                      f"accepted after {res['accepted']:.2f} s, {res['outcome']} after {res['finished']:.2f} s")
                for path, probes in res["probes"].items():
                    print(f"  GET {path:<10} idle               {fmt_ms(res['idle'][path])}")
                    print(f"  GET {path:<10} meanwhile          {fmt_ms([lat for _, lat in probes])}")
                    for phase, inside in (("upload + parse", lambda at: at < res["accepted"]),
                                          ("analysis", lambda at: at >= res["accepted"])):
                        lats = [lat for at, lat in probes if inside(at)]
                        if lats:
                            print(f"    during {phase:<16}   {fmt_ms(lats)}")
                print(f"  GET /analyses/{{id}} of that call took {res['page_time']:.2f} s; meanwhile:")
                for path, probes in res["page_probes"].items():
                    print(f"    GET {path:<10}            {fmt_ms([lat for _, lat in probes])}")
                for err in res["errors"][:5]:
                    print(f"  probe error: {err}")
                return 1 if res["errors"] or not res["outcome"].startswith("done") else 0
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
