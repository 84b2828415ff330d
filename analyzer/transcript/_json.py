"""JSON exports: Gong, AssemblyAI, Deepgram, OpenAI diarized transcription, Fireflies, and the generic shape.

Shapes (times in the unit each vendor uses; all are converted to seconds):

* ``gong``: ``{"callTranscripts": [{"transcript": [{"speakerId", "sentences": [{"start", "end", "text"}]}]}]}``,
  ms; optional ``parties: [{"speakerId", "name", "emailAddress", "affiliation": "Internal"|"External"}]`` at
  the top level, inside the call transcript, or in ``calls[0]`` (the calls/extensive response).
* ``assemblyai``: ``{"utterances": [{"speaker": "A", "start", "end", "text"}]}``, ms.
* ``deepgram``: ``{"results": {"utterances": [{"speaker": 0, "start", "end", "transcript"}]}}``, seconds;
  without utterances, ``results.channels[0].alternatives[0].words[]`` runs of one ``speaker`` are joined.
* ``openai``: ``{"segments": [{"speaker", "start", "end", "text"}]}``, seconds (diarized transcription).
* ``fireflies``: ``{"sentences": [{"speaker_name", "start_time", "end_time", "text"}]}``, seconds, also
  wrapped as ``{"data": {"transcript": {...}}}`` or ``{"transcript": {...}}``.
* ``json`` (generic, documented)::

      {"turns": [{"speaker": "Dana Reyes", "text": "...", "start": 12.5, "end": 19.0, "role": "seller"}],
       "metadata": {"title": "...", "date": "..."},
       "speakers": [{"name": "Dana Reyes", "role": "seller", "email": "dana@brightline.io", "company": "Brightline"}]}

  ``start``/``end`` (seconds), ``role`` (seller/prospect/unknown) and ``speakers`` are optional; a bare
  top-level list of turn objects is accepted too.
"""

from __future__ import annotations

import json
from typing import Any

from analyzer._errors import TranscriptError
from analyzer.transcript._raw import PersonInfo, RawCue, RawDoc
from analyzer.transcript.model import Role

JSON_EXPECTED = (
    "a Gong callTranscripts[], AssemblyAI utterances[], Deepgram results.utterances[], OpenAI diarized "
    'segments[], Fireflies sentences[] or generic {"turns": [...]} export'
)
JSON_FORMATS = ("gong", "assemblyai", "deepgram", "openai", "fireflies", "json")


def load_json(text: str, path: str) -> Any:
    """``json.loads`` with a TranscriptError that names the line and column of a syntax error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (several JSON documents: JSON Lines is not a transcript export)" if exc.msg == "Extra data" else ""
        raise TranscriptError(
            f"not valid JSON: {exc.msg} at column {exc.colno}{hint}; expected {JSON_EXPECTED}",
            path=path,
            line=exc.lineno,
        ) from None


def _fireflies_root(obj: dict[str, Any]) -> dict[str, Any] | None:
    for cand in (obj, obj.get("transcript"), (obj.get("data") or {}).get("transcript")):
        if isinstance(cand, dict) and isinstance(cand.get("sentences"), list):
            return cand
    return None


def detect_json(obj: Any) -> str | None:
    """The JSON export shape of ``obj``, or None when it is none of the supported ones."""
    if isinstance(obj, list):
        return "json" if obj and all(isinstance(t, dict) and "text" in t for t in obj[:5]) else None
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("callTranscripts"), list):
        return "gong"
    if isinstance(obj.get("turns"), list):
        return "json"
    results = obj.get("results")
    if isinstance(results, dict) and ("utterances" in results or "channels" in results):
        return "deepgram"
    if isinstance(obj.get("utterances"), list):
        return "assemblyai"
    if isinstance(obj.get("segments"), list):
        return "openai"
    if _fireflies_root(obj) is not None:
        return "fireflies"
    return None


def _num(value: Any, where: str, path: str, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TranscriptError(f"{where}: expected {what} as a number, got {value!r}", path=path)
    return float(value)


def _text(value: Any, where: str, path: str, key: str = "text") -> str:
    if not isinstance(value, str):
        raise TranscriptError(f"{where}: expected a string '{key}', got {type(value).__name__}", path=path)
    return value


def _items(value: Any, where: str, path: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TranscriptError(f"{where}: expected a list of objects", path=path)
    return value


def _meta(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_meta(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_meta(v)}" for k, v in value.items())
    return str(value)


def parse_json(obj: Any, *, fmt: str, path: str) -> RawDoc:
    """Parse a loaded JSON export of shape ``fmt`` (one of JSON_FORMATS)."""
    parser = {
        "gong": _gong,
        "assemblyai": _assemblyai,
        "deepgram": _deepgram,
        "openai": _openai,
        "fireflies": _fireflies,
        "json": _generic,
    }[fmt]
    if fmt != "json" and not isinstance(obj, dict):
        raise TranscriptError(f"expected a JSON object for a {fmt} export, got a {type(obj).__name__}", path=path)
    doc = RawDoc(format=fmt, unit="item")
    parser(obj, doc, path)
    return doc


def _gong(obj: Any, doc: RawDoc, path: str) -> None:
    if not isinstance(obj, dict):
        raise TranscriptError(f"expected a JSON object with callTranscripts[]; got {type(obj).__name__}", path=path)
    calls = _items(obj.get("callTranscripts"), "callTranscripts", path)
    if len(calls) != 1:
        raise TranscriptError(
            f"callTranscripts holds {len(calls)} calls; expected exactly one call per file", path=path
        )
    call = calls[0]
    calls_meta = obj.get("calls")
    extensive: list[Any] = calls_meta if isinstance(calls_meta, list) and calls_meta else [{}]
    parties_src = obj.get("parties") or call.get("parties") or extensive[0].get("parties") or []
    names: dict[str, str] = {}
    for party in _items(parties_src, "parties", path):
        sid = str(party.get("speakerId", party.get("id", "")))
        name = str(party.get("name") or party.get("emailAddress") or f"Speaker {sid}")
        names[sid] = name
        aff = str(party.get("affiliation", "")).lower()
        role: Role | None = {"internal": "seller", "external": "prospect"}.get(aff)  # type: ignore[assignment]
        doc.people[name] = PersonInfo(
            role=role,
            reason=f"Gong affiliation {party.get('affiliation')}" if role else "",
            email=str(party.get("emailAddress") or ""),
            company=str(party.get("company") or party.get("companyName") or ""),
            descriptor=str(party.get("title") or ""),
        )
    meta = extensive[0].get("metaData") or obj.get("metaData") or {}
    if isinstance(meta, dict):
        doc.metadata.update({k: _meta(v) for k, v in meta.items() if v not in (None, "")})
    if call.get("callId"):
        doc.metadata.setdefault("call id", str(call["callId"]))
    for i, block in enumerate(_items(call.get("transcript"), "callTranscripts[0].transcript", path)):
        where = f"callTranscripts[0].transcript[{i}]"
        sid = str(block.get("speakerId", ""))
        if not sid:
            raise TranscriptError(f"{where}: expected a 'speakerId'", path=path)
        speaker = names.get(sid, f"Speaker {sid}")
        for j, sent in enumerate(_items(block.get("sentences"), f"{where}.sentences", path)):
            w = f"{where}.sentences[{j}]"
            start = _num(sent.get("start"), w, path, "'start' in milliseconds")
            end = _num(sent.get("end"), w, path, "'end' in milliseconds")
            doc.cues.append(
                RawCue(
                    speaker=speaker,
                    text=_text(sent.get("text"), w, path),
                    start=None if start is None else start / 1000,
                    end=None if end is None else end / 1000,
                )
            )


def _utterances(
    items: list[dict[str, Any]], doc: RawDoc, path: str, where: str, *, text_key: str, scale: float
) -> None:
    for i, utt in enumerate(items):
        w = f"{where}[{i}]"
        if "speaker" not in utt or utt["speaker"] is None:
            raise TranscriptError(f"{w}: expected a 'speaker' (was speaker diarization enabled?)", path=path)
        label = str(utt["speaker"])
        speaker = f"Speaker {label}" if len(label) <= 2 else label
        start = _num(utt.get("start"), w, path, "'start'")
        end = _num(utt.get("end"), w, path, "'end'")
        doc.cues.append(
            RawCue(
                speaker=speaker,
                text=_text(utt.get(text_key), w, path, text_key),
                start=None if start is None else start / scale,
                end=None if end is None else end / scale,
            )
        )


def _assemblyai(obj: Any, doc: RawDoc, path: str) -> None:
    _utterances(_items(obj.get("utterances"), "utterances", path), doc, path, "utterances", text_key="text", scale=1000)


def _deepgram(obj: Any, doc: RawDoc, path: str) -> None:
    results = obj.get("results")
    if not isinstance(results, dict):
        raise TranscriptError("expected a 'results' object (Deepgram response)", path=path)
    if isinstance(obj.get("metadata"), dict):
        for key in ("request_id", "created", "duration"):
            if key in obj["metadata"]:
                doc.metadata[key] = _meta(obj["metadata"][key])
    if "utterances" in results:
        items = _items(results["utterances"], "results.utterances", path)
        _utterances(items, doc, path, "results.utterances", text_key="transcript", scale=1)
        return
    # No utterances requested: rebuild them from per-word speaker labels.
    try:
        words = results["channels"][0]["alternatives"][0]["words"]
    except (KeyError, IndexError, TypeError):
        raise TranscriptError(
            "results has neither utterances[] nor channels[0].alternatives[0].words[]; expected a Deepgram "
            "response with utterances=true or diarize=true",
            path=path,
        ) from None
    for i, word in enumerate(_items(words, "results.channels[0].alternatives[0].words", path)):
        w = f"results.channels[0].alternatives[0].words[{i}]"
        if "speaker" not in word:
            raise TranscriptError(f"{w}: expected a 'speaker' (request with diarize=true)", path=path)
        speaker = f"Speaker {word['speaker']}"
        token = _text(word.get("punctuated_word", word.get("word")), w, path, "word")
        start, end = _num(word.get("start"), w, path, "'start'"), _num(word.get("end"), w, path, "'end'")
        if doc.cues and doc.cues[-1].speaker == speaker:
            doc.cues[-1].text += f" {token}"
            doc.cues[-1].end = end
        else:
            doc.cues.append(RawCue(speaker=speaker, text=token, start=start, end=end))


def _openai(obj: Any, doc: RawDoc, path: str) -> None:
    segs = _items(obj.get("segments"), "segments", path)
    _utterances(segs, doc, path, "segments", text_key="text", scale=1)


def _fireflies(obj: Any, doc: RawDoc, path: str) -> None:
    root = _fireflies_root(obj)
    if root is None:
        raise TranscriptError("expected 'sentences' (or data.transcript.sentences), a list of objects", path=path)
    for key in ("title", "date", "duration", "participants", "organizer_email"):
        if root.get(key) not in (None, "", []):
            doc.metadata[key] = _meta(root[key])
    for i, sent in enumerate(_items(root["sentences"], "sentences", path)):
        w = f"sentences[{i}]"
        name = sent.get("speaker_name") or (
            f"Speaker {sent['speaker_id']}" if sent.get("speaker_id") is not None else None
        )
        if not name:
            raise TranscriptError(f"{w}: expected a 'speaker_name'", path=path)
        start = _num(sent.get("start_time"), w, path, "'start_time' in seconds")
        end = _num(sent.get("end_time"), w, path, "'end_time' in seconds")
        doc.cues.append(RawCue(speaker=str(name), text=_text(sent.get("text"), w, path), start=start, end=end))
    listed = root.get("participants")
    emails: list[Any] = listed if isinstance(listed, list) else []
    _attach_emails(doc, [e for e in emails if isinstance(e, str) and "@" in e])


def _attach_emails(doc: RawDoc, emails: list[str]) -> None:
    """Give a speaker an email whose local part starts with their first name (dana.reyes@ -> Dana Reyes)."""
    for speaker in {c.speaker for c in doc.cues}:
        first = speaker.split()[0].lower()
        hits = [e for e in emails if e.split("@")[0].lower().replace("_", ".").split(".")[0] == first]
        if len(hits) == 1:
            doc.people.setdefault(speaker, PersonInfo()).email = hits[0]


_ROLES: dict[str, Role] = {"seller": "seller", "prospect": "prospect", "unknown": "unknown"}


def _role(value: Any, where: str, path: str) -> Role | None:
    if value is None:
        return None
    role = _ROLES.get(str(value).lower())
    if role is None:
        raise TranscriptError(f"{where}: role {value!r} is not one of 'seller', 'prospect', 'unknown'", path=path)
    return None if role == "unknown" else role


def _generic(obj: Any, doc: RawDoc, path: str) -> None:
    turns = obj if isinstance(obj, list) else obj.get("turns")
    if isinstance(obj, dict):
        meta = obj.get("metadata") or {}
        if not isinstance(meta, dict):
            raise TranscriptError("metadata: expected an object of header fields", path=path)
        doc.metadata.update({str(k): _meta(v) for k, v in meta.items() if v not in (None, "")})
        for i, sp in enumerate(_items(obj.get("speakers") or [], "speakers", path)):
            name = _text(sp.get("name"), f"speakers[{i}]", path, "name")
            role = _role(sp.get("role"), f"speakers[{i}]", path)
            doc.people[name] = PersonInfo(
                role=role,
                reason="role field in the export" if role else "",
                email=str(sp.get("email") or ""),
                company=str(sp.get("company") or ""),
                descriptor=str(sp.get("title") or ""),
            )
    for i, turn in enumerate(_items(turns, "turns", path)):
        w = f"turns[{i}]"
        if turn.get("speaker") in (None, ""):
            raise TranscriptError(f"{w}: expected a 'speaker'", path=path)
        speaker = str(turn["speaker"])
        role = _role(turn.get("role"), w, path)
        if role is not None:
            info = doc.people.setdefault(speaker, PersonInfo())
            if info.role is None:
                info.role, info.reason = role, "role field in the export"
        doc.cues.append(
            RawCue(
                speaker=speaker,
                text=_text(turn.get("text"), w, path),
                start=_num(turn.get("start"), w, path, "'start' in seconds"),
                end=_num(turn.get("end"), w, path, "'end' in seconds"),
            )
        )


def unknown_shape(obj: Any, path: str) -> TranscriptError:
    """The error for JSON that is valid but not a transcript export we know, saying what it looks like."""
    if isinstance(obj, dict) and "input" in obj and "ideal" in obj:
        return TranscriptError(
            "this is an OpenAI evals sample ('input' chat messages and an 'ideal' answer), not a call "
            f"transcript export; expected {JSON_EXPECTED}",
            path=path,
        )
    if isinstance(obj, dict):
        keys = ", ".join(sorted(obj)[:8]) or "none"
        got = f"an object with keys {keys}"
    else:
        got = f"a JSON {type(obj).__name__}"
    return TranscriptError(f"unknown JSON shape ({got}); expected {JSON_EXPECTED}", path=path)
