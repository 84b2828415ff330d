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
import math
import re
from typing import Any

from analyzer._errors import TranscriptError
from analyzer.transcript._raw import PersonInfo, RawCue, RawDoc
from analyzer.transcript.model import Role

JSON_EXPECTED = (
    "a Gong callTranscripts[], AssemblyAI utterances[], Deepgram results.utterances[], OpenAI diarized "
    'segments[], Fireflies sentences[] or generic {"turns": [...]} export'
)
JSON_FORMATS = ("gong", "assemblyai", "deepgram", "openai", "fireflies", "json")
UNKNOWN_SPEAKER = "Unknown speaker"


#: Longer integers are refused at load: ``int()`` of thousands of digits is slow, and Python refuses
#: more than 4,300 of them anyway (a Gong call id has 19).
MAX_INT_DIGITS = 40


class _HugeInt(Exception):
    def __init__(self, digits: str) -> None:
        super().__init__(digits)
        self.digits = digits


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise _HugeInt(digits)
    return int(digits)


def load_json(text: str, path: str) -> Any:
    """``json.loads`` with a TranscriptError that names the line and column of a syntax error.

    Integers longer than MAX_INT_DIGITS and nesting deeper than the interpreter's recursion limit are
    refused too; NaN and Infinity load (Python writes them) and are refused where a number is read."""
    try:
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        hint = " (several JSON documents: JSON Lines is not a transcript export)" if exc.msg == "Extra data" else ""
        raise TranscriptError(
            f"not valid JSON: {exc.msg} at column {exc.colno}{hint}; expected {JSON_EXPECTED}",
            path=path,
            line=exc.lineno,
        ) from None
    except _HugeInt as exc:
        at = re.search(rf"(?<![\w.]){re.escape(exc.digits)}(?![\d.eE])", text)
        raise TranscriptError(
            f"a JSON number has {len(exc.digits.lstrip('-')):,} digits; expected numbers of at most "
            f"{MAX_INT_DIGITS} digits",
            path=path,
            line=text.count("\n", 0, at.start()) + 1 if at else None,
        ) from None
    except RecursionError:
        raise TranscriptError(
            f"the JSON is nested too deeply to read; expected {JSON_EXPECTED} (a few levels deep)", path=path
        ) from None


def _fireflies_root(obj: dict[str, Any]) -> dict[str, Any] | None:
    data = obj.get("data")
    for cand in (obj, obj.get("transcript"), data.get("transcript") if isinstance(data, dict) else None):
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
        raise TranscriptError(f"{where}: expected {what} as a number, got {_show(value)}", path=path)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise TranscriptError(f"{where}: expected {what} as a finite number, got {_show(value)}", path=path)
    return number


def _show(value: Any) -> str:
    """A short description of a JSON value for an error message, spelled as JSON spells it."""
    if isinstance(value, dict | list):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'}"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _text(value: Any, where: str, path: str, key: str = "text") -> str:
    if not isinstance(value, str):
        raise TranscriptError(f"{where}: expected a string '{key}', got {_kind(value)}", path=path)
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _label(value: Any, where: str, path: str, key: str) -> str | None:
    """A speaker label: a string, a number (diarization ids), or an object with a string 'name'.

    None (JSON null) or an empty string gives None: the caller decides what an unnamed speaker is."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, dict):
        for name_key in ("name", "displayName", "label"):
            if isinstance(value.get(name_key), str) and value[name_key].strip():
                return str(value[name_key])
        raise TranscriptError(
            f"{where}.{key}: expected a speaker name, or an object with a string 'name', got an object with "
            f"keys {', '.join(sorted(map(str, value))[:6]) or 'none'}",
            path=path,
        )
    raise TranscriptError(f"{where}.{key}: expected a speaker name as a string, got {_kind(value)}", path=path)


def _opt_str(value: Any) -> str:
    """An optional string field (email, company, title); anything but a string or number reads as absent."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _items(value: Any, where: str, path: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TranscriptError(f"{where}: expected a list of objects", path=path)
    return value


def _meta(value: Any, depth: int = 0) -> str:
    if depth > 4 and isinstance(value, list | dict):  # a header field, not a document: no deep recursion
        return "..."
    if isinstance(value, list):
        return "; ".join(_meta(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_meta(v, depth + 1)}" for k, v in value.items())
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
        raise TranscriptError(f"expected a JSON object for a {fmt} export, got {_kind(obj)}", path=path)
    doc = RawDoc(format=fmt, unit="item")
    parser(obj, doc, path)
    return doc


def _gong(obj: Any, doc: RawDoc, path: str) -> None:
    if not isinstance(obj, dict):
        raise TranscriptError(f"expected a JSON object with callTranscripts[]; got {_kind(obj)}", path=path)
    calls = _items(obj.get("callTranscripts"), "callTranscripts", path)
    if len(calls) != 1:
        raise TranscriptError(
            f"callTranscripts holds {len(calls)} calls; expected exactly one call per file", path=path
        )
    call = calls[0]
    calls_meta = obj.get("calls")
    first_call = calls_meta[0] if isinstance(calls_meta, list) and calls_meta else {}
    extensive: dict[str, Any] = first_call if isinstance(first_call, dict) else {}
    parties_src = obj.get("parties") or call.get("parties") or extensive.get("parties") or []
    names: dict[str, str] = {}
    for i, party in enumerate(_items(parties_src, "parties", path)):
        sid = _label(party.get("speakerId", party.get("id")), f"parties[{i}]", path, "speakerId") or ""
        name = _label(party.get("name"), f"parties[{i}]", path, "name") or _opt_str(party.get("emailAddress"))
        name = name or f"Speaker {sid}"
        names[sid] = name
        aff = _opt_str(party.get("affiliation"))
        role: Role | None = {"internal": "seller", "external": "prospect"}.get(aff.lower())  # type: ignore[assignment]
        doc.people[name] = PersonInfo(
            role=role,
            reason=f"Gong affiliation {aff}" if role else "",
            email=_opt_str(party.get("emailAddress")),
            company=_opt_str(party.get("company") or party.get("companyName")),
            descriptor=_opt_str(party.get("title")),
        )
    meta = extensive.get("metaData") or obj.get("metaData") or {}
    if isinstance(meta, dict):
        doc.metadata.update({str(k): _meta(v) for k, v in meta.items() if v not in (None, "")})
    call_id = _opt_str(call.get("callId"))
    if call_id:
        doc.metadata.setdefault("call id", call_id)
    unnamed = 0
    for i, block in enumerate(_items(call.get("transcript"), "callTranscripts[0].transcript", path)):
        where = f"callTranscripts[0].transcript[{i}]"
        if "speakerId" not in block:
            raise TranscriptError(f"{where}: expected a 'speakerId'", path=path)
        block_sid = _label(block["speakerId"], where, path, "speakerId")
        if block_sid is None:  # Gong leaves speakerId null where it could not tell who spoke
            unnamed += 1
            speaker = UNKNOWN_SPEAKER
        else:
            speaker = names.get(block_sid, f"Speaker {block_sid}")
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
    if unnamed:
        doc.warnings.append(
            f"{unnamed} Gong transcript block(s) have no speakerId; their text is attributed to '{UNKNOWN_SPEAKER}'"
        )


def _utterances(
    items: list[dict[str, Any]], doc: RawDoc, path: str, where: str, *, text_key: str, scale: float
) -> None:
    for i, utt in enumerate(items):
        w = f"{where}[{i}]"
        label = _label(utt.get("speaker"), w, path, "speaker")
        if label is None:
            raise TranscriptError(f"{w}: expected a 'speaker' (was speaker diarization enabled?)", path=path)
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
    texts: list[list[str]] = []  # joined once at the end: appending to a string per word is quadratic
    for i, word in enumerate(_items(words, "results.channels[0].alternatives[0].words", path)):
        w = f"results.channels[0].alternatives[0].words[{i}]"
        label = _label(word.get("speaker"), w, path, "speaker")
        if label is None:
            raise TranscriptError(f"{w}: expected a 'speaker' (request with diarize=true)", path=path)
        speaker = f"Speaker {label}"
        token = _text(word.get("punctuated_word", word.get("word")), w, path, "word")
        start, end = _num(word.get("start"), w, path, "'start'"), _num(word.get("end"), w, path, "'end'")
        if doc.cues and doc.cues[-1].speaker == speaker:
            texts[-1].append(token)
            doc.cues[-1].end = end
        else:
            doc.cues.append(RawCue(speaker=speaker, text="", start=start, end=end))
            texts.append([token])
    for cue, tokens in zip(doc.cues, texts, strict=True):
        cue.text = " ".join(tokens)


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
        name = _label(sent.get("speaker_name"), w, path, "speaker_name")
        if name is None:
            sid = _label(sent.get("speaker_id"), w, path, "speaker_id")
            name = None if sid is None else f"Speaker {sid}"
        if not name:
            raise TranscriptError(f"{w}: expected a 'speaker_name'", path=path)
        start = _num(sent.get("start_time"), w, path, "'start_time' in seconds")
        end = _num(sent.get("end_time"), w, path, "'end_time' in seconds")
        doc.cues.append(RawCue(speaker=name, text=_text(sent.get("text"), w, path), start=start, end=end))
    listed = root.get("participants")
    emails: list[Any] = listed if isinstance(listed, list) else []
    _attach_emails(doc, [e for e in emails if isinstance(e, str) and "@" in e])


def _attach_emails(doc: RawDoc, emails: list[str]) -> None:
    """Give a speaker an email whose local part starts with their first name (dana.reyes@ -> Dana Reyes)."""
    for speaker in {c.speaker for c in doc.cues}:
        if not speaker.split():
            continue
        first = speaker.split()[0].lower()
        hits = [e for e in emails if e.split("@")[0].lower().replace("_", ".").split(".")[0] == first]
        if len(hits) == 1:
            doc.people.setdefault(speaker, PersonInfo()).email = hits[0]


_ROLES: dict[str, Role] = {"seller": "seller", "prospect": "prospect", "unknown": "unknown"}


def _role(value: Any, where: str, path: str) -> Role | None:
    if value is None:
        return None
    role = _ROLES.get(value.lower()) if isinstance(value, str) else None
    if role is None:
        raise TranscriptError(
            f"{where}.role: expected 'seller', 'prospect' or 'unknown', got {_show(value)}", path=path
        )
    return None if role == "unknown" else role


def _generic(obj: Any, doc: RawDoc, path: str) -> None:
    if not isinstance(obj, list | dict):
        raise TranscriptError(
            f'expected a JSON object {{"turns": [...]}} or a list of turns, got {_kind(obj)}', path=path
        )
    turns = obj if isinstance(obj, list) else obj.get("turns")
    if isinstance(obj, dict):
        meta = obj.get("metadata") or {}
        if not isinstance(meta, dict):
            raise TranscriptError("metadata: expected an object of header fields", path=path)
        doc.metadata.update({str(k): _meta(v) for k, v in meta.items() if v not in (None, "")})
        for i, sp in enumerate(_items(obj.get("speakers") or [], "speakers", path)):
            name = _label(sp.get("name"), f"speakers[{i}]", path, "name")
            if name is None:
                raise TranscriptError(f"speakers[{i}]: expected a 'name'", path=path)
            role = _role(sp.get("role"), f"speakers[{i}]", path)
            doc.people[name] = PersonInfo(
                role=role,
                reason="role field in the export" if role else "",
                email=_opt_str(sp.get("email")),
                company=_opt_str(sp.get("company")),
                descriptor=_opt_str(sp.get("title")),
            )
    for i, turn in enumerate(_items(turns, "turns", path)):
        w = f"turns[{i}]"
        speaker = _label(turn.get("speaker"), w, path, "speaker")
        if speaker is None:
            raise TranscriptError(f"{w}: expected a 'speaker'", path=path)
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
    if isinstance(obj, dict) and not obj:
        got = "an empty object"
    elif isinstance(obj, dict):
        got = f"an object with keys {', '.join(sorted(obj)[:8])}"
    elif isinstance(obj, list):
        got = f"an array of {len(obj):,} item(s) that are not turn objects with a 'text'"
    else:
        got = f"{_kind(obj)} at the top level"
    return TranscriptError(f"unknown JSON shape ({got}); expected {JSON_EXPECTED}", path=path)
