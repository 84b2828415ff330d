"""Builds the development suite (``evals/dev.yaml`` and ``evals/dev/calls/``) from the writers' sources.

Run: ``python evals/dev/render.py``. Reproducible: the same sources give the same files.

Each independent writer (``src/w1`` ... ``src/w6``) wrote calls as plain ``Name: text`` lines plus a
``labels.yaml`` (see ``evals/README.md``, "Development set"). The labels used for scoring are the settled
ones in ``adjudicated.yaml`` where the second reader disagreed, else the writer's. This script only lays
each call out in one of the export formats walkaway reads, with plausible timings (about 2.6 words per
second), so the suite exercises every parser; it never changes a word. Calls written as speech-to-text
output go to the formats speech-to-text tools produce. Exports that carry no speaker names (Deepgram's
numbered speakers, AssemblyAI's letters) get the seller hint the parser will see (``Speaker 0``...).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "fixtures"))

from make_exports import _split, _timings, openai, srt, teams_vtt, zoom_vtt  # noqa: E402

Dialogue = list[tuple[str, str]]

WRITERS = ("w1", "w2", "w3", "w4", "w5", "w6")
FORMATS = (
    "plain", "bracket", "paren", "markdown", "zoom", "teams", "srt", "otter",
    "gong", "assemblyai", "deepgram", "openai", "fireflies", "json", "docx",
)  # fmt: skip
ASR_FORMATS = ("deepgram", "assemblyai", "otter", "srt", "zoom", "openai", "plain")
EXT = {
    "plain": ".txt", "bracket": ".txt", "paren": ".txt", "markdown": ".md", "zoom": ".vtt", "teams": ".vtt",
    "srt": ".srt", "otter": ".txt", "gong": ".json", "assemblyai": ".json", "deepgram": ".json",
    "openai": ".json", "fireflies": ".json", "json": ".json", "docx": ".docx",
}  # fmt: skip


def read_dialogue(path: Path) -> Dialogue:
    turns: Dialogue = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, text = line.partition(":")
        if not sep or not text.strip():
            raise SystemExit(f"{path}, line {n}: expected 'Name: text'")
        turns.append((name.strip(), text.strip()))
    return turns


def _clock(s: float) -> str:
    s = int(s)
    return f"{s // 60:02d}:{s % 60:02d}"


def _hms(s: float) -> str:
    s = int(s)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _otter_time(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def render_text(fmt: str, d: Dialogue, title: str) -> str:
    t = _timings(d)
    if fmt == "plain":
        return "\n".join(f"{s}: {x}" for s, x in d) + "\n"
    if fmt == "bracket":
        return "\n".join(f"[{_clock(a)}] {s}: {x}" for s, x, a, _ in t) + "\n"
    if fmt == "paren":
        return "\n".join(f"{s} ({_hms(a)}): {x}" for s, x, a, _ in t) + "\n"
    if fmt == "markdown":
        people = ", ".join(dict.fromkeys(s for s, _ in d))
        head = [f"# {title}", "", f"**Participants:** {people}", ""]
        return "\n".join(head + [f"**{s}:** {x}\n" for s, x in d])
    if fmt == "otter":
        body = [f"{title}", "Otter.ai transcript", ""]
        for s, x, a, _ in t:
            body += [f"{s}  {_otter_time(a)}", x, ""]
        return "\n".join(body)
    if fmt == "zoom":
        return zoom_vtt(d)
    if fmt == "teams":
        return teams_vtt(d)
    if fmt == "srt":
        return srt(d)
    raise ValueError(fmt)


def _ids(d: Dialogue) -> dict[str, int]:
    return {name: i for i, name in enumerate(dict.fromkeys(s for s, _ in d))}


def render_json(fmt: str, d: Dialogue, title: str, sellers: list[str]) -> dict[str, Any]:
    t = _timings(d)
    ids = _ids(d)
    if fmt == "openai":
        return openai(d)
    if fmt == "assemblyai":
        letters = {n: chr(ord("A") + i) for n, i in ids.items()}
        utts = [
            {"speaker": letters[s], "text": x, "confidence": 0.91, "start": round(a * 1000), "end": round(b * 1000)}
            for s, x, a, b in t
        ]
        return {"id": hashlib.sha1(title.encode()).hexdigest()[:12], "status": "completed", "utterances": utts}
    if fmt == "deepgram":
        utts = [
            {"start": a, "end": b, "confidence": 0.95, "channel": 0, "transcript": x, "speaker": ids[s]}
            for s, x, a, b in t
        ]
        return {"metadata": {"duration": t[-1][3], "channels": 1}, "results": {"utterances": utts}}
    if fmt == "gong":
        blocks = []
        for s, x, a, b in t:
            pieces = _split(x)
            step = (b - a) / len(pieces)
            sentences = [
                {"start": round((a + i * step) * 1000), "end": round((a + (i + 1) * step) * 1000), "text": p}
                for i, p in enumerate(pieces)
            ]
            blocks.append({"speakerId": str(7000 + ids[s]), "topic": None, "sentences": sentences})
        parties = [
            {
                "speakerId": str(7000 + i),
                "name": n,
                "affiliation": "Internal" if n in sellers else "External",
            }
            for n, i in ids.items()
        ]
        return {"callTranscripts": [{"callId": title, "transcript": blocks}], "parties": parties}
    if fmt == "fireflies":
        sentences = []
        for s, x, a, b in t:
            for piece in _split(x):
                sentences.append(
                    {
                        "index": len(sentences),
                        "speaker_name": s,
                        "speaker_id": ids[s],
                        "text": piece,
                        "start_time": a,
                        "end_time": b,
                    }
                )
        return {"data": {"transcript": {"title": title, "sentences": sentences}}}
    if fmt == "json":
        return {
            "metadata": {"title": title},
            "turns": [{"speaker": s, "start": a, "end": b, "text": x} for s, x, a, b in t],
        }
    raise ValueError(fmt)


def render_docx(d: Dialogue, title: str, target: Path) -> None:
    import docx

    doc = docx.Document()
    fixed = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)  # reproducible files
    doc.core_properties.created = doc.core_properties.modified = fixed
    doc.add_paragraph(title)
    for s, x, a, _ in _timings(d):
        doc.add_paragraph(f"[{_hms(a)}] {s}: {x}")
    buf = io.BytesIO()
    doc.save(buf)
    # Zip entries carry the time of writing; pin it so a re-render gives the same bytes.
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(zipfile.ZipInfo(info.filename, date_time=(2026, 11, 1, 0, 0, 0)), src.read(info.filename))


def seller_hint(fmt: str, d: Dialogue, sellers: list[str]) -> list[str]:
    ids = _ids(d)
    if fmt == "deepgram":
        return [f"Speaker {ids[s]}" for s in sellers]
    if fmt == "assemblyai":
        return [f"Speaker {chr(ord('A') + ids[s])}" for s in sellers]
    return list(sellers)


def assign_formats(cases: list[dict[str, Any]]) -> dict[str, str]:
    """Round-robin over the formats in a fixed order, ASR-style calls over the speech-to-text formats."""
    out: dict[str, str] = {}
    asr = [c for c in cases if c["asr"]]
    other = [c for c in cases if not c["asr"]]
    for i, c in enumerate(asr):
        out[c["id"]] = ASR_FORMATS[i % len(ASR_FORMATS)]
    for i, c in enumerate(other):
        out[c["id"]] = FORMATS[i % len(FORMATS)]
    return out


def load_sources() -> list[dict[str, Any]]:
    settled = {}
    adjudicated = HERE / "adjudicated.yaml"
    if adjudicated.exists():
        settled = {c["id"]: c for c in yaml.safe_load(adjudicated.read_text(encoding="utf-8")) or []}
    cases: list[dict[str, Any]] = []
    for w in WRITERS:
        labels = HERE / "src" / w / "labels.yaml"
        if not labels.exists():
            continue
        for entry in yaml.safe_load(labels.read_text(encoding="utf-8")):
            stem = Path(entry["file"]).stem
            cid = f"{w}-{stem}"
            decision = settled.get(cid, {})
            if decision.get("drop"):
                continue
            expected = dict(entry["expected"])
            expected.update(decision.get("expected", {}))
            cases.append(
                {
                    "id": cid,
                    "writer": w,
                    "src": HERE / "src" / w / entry["file"],
                    "seller": list(entry["seller"]),
                    "asr": bool(entry.get("asr")),
                    "expected": expected,
                    "industry": entry.get("industry", ""),
                    "words": entry.get("words"),
                    "decoys": entry.get("decoys", ""),
                    "settled": decision.get("how", ""),
                }
            )
    return cases


def main() -> None:
    cases = load_sources()
    formats = assign_formats(cases)
    calls = HERE / "calls"
    calls.mkdir(exist_ok=True)
    for old in calls.iterdir():
        old.unlink()
    suite_cases = []
    for c in cases:
        d = read_dialogue(c["src"])
        fmt = formats[c["id"]]
        title = c["id"]
        target = calls / f"{c['id']}{EXT[fmt]}"
        if fmt == "docx":
            render_docx(d, title, target)
        elif EXT[fmt] == ".json":
            target.write_text(json.dumps(render_json(fmt, d, title, c["seller"]), indent=1) + "\n", encoding="utf-8")
        else:
            target.write_text(render_text(fmt, d, title), encoding="utf-8")
        exp = c["expected"]
        expected: dict[str, Any] = {"verdict": exp["verdict"], "flags": dict(exp.get("flags") or {})}
        if exp.get("signals") is not None:
            expected["signals"] = list(exp["signals"])
        if exp.get("evidence"):
            expected["evidence"] = list(exp["evidence"])
        notes = f"{fmt}; {c['industry']}; ~{c['words']} words" + ("; ASR-style" if c["asr"] else "")
        if c["decoys"]:
            notes += f"; decoys: {c['decoys']}"
        if c["settled"]:
            notes += f"; settled: {c['settled']}"
        suite_cases.append(
            {
                "id": c["id"],
                "writer": c["writer"],
                "transcript": f"dev/calls/{target.name}",
                "seller": seller_hint(fmt, d, c["seller"]),
                "expected": expected,
                "notes": notes,
            }
        )
    header = (
        "# Development set: calls by six independent writers (evals/dev/src/w*), each label checked by a second\n"
        "# reader (evals/dev/agreement.md). Generated by evals/dev/render.py; edit the sources, not this file.\n"
    )
    body = yaml.safe_dump({"name": "dev", "cases": suite_cases}, sort_keys=False, allow_unicode=True, width=120)
    (REPO / "evals" / "dev.yaml").write_text(header + body, encoding="utf-8")
    print(f"{len(suite_cases)} cases; formats: " + ", ".join(f"{f} {list(formats.values()).count(f)}" for f in FORMATS))


if __name__ == "__main__":
    main()
