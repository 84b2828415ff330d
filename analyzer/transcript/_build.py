"""Raw cues to a ``Transcript``: merge, ids, sentences, roles, and the checks every format shares."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from analyzer._errors import TranscriptError
from analyzer.transcript._clean import Scrubber, without_surrogates
from analyzer.transcript._raw import RawCue, RawDoc
from analyzer.transcript._roles import assign_roles
from analyzer.transcript._sentences import normalize_space, split_sentences
from analyzer.transcript.model import Sentence, Transcript, Turn

# What a speaker line looks like per format, for "no turns found" errors.
_SHAPES = {
    "plain": "lines like 'Name: text' or '[12:04] Name: text'",
    "markdown": "lines like '**Name:** text'",
    "docx": "paragraphs like 'Name: text'",
    "otter": "a 'Name  0:12' line followed by what they said",
    "vtt": "cues with '<v Name>' voice spans or 'Name: text'",
    "srt": "cues with 'Name: text'",
}


def _check_time(value: float | None, cue: RawCue, source: str) -> float | None:
    # Parsers refuse non-finite times where they read them; this keeps the invariant for every format.
    if value is not None and not math.isfinite(value):
        raise TranscriptError(
            f"a time of {value} is not a number of seconds; expected finite times", path=source, line=cue.line
        )
    return value


@dataclass
class _Group:
    """Consecutive cues of one speaker: one turn in the making."""

    speaker: str
    start: float | None
    end: float | None
    parts: list[str]
    text: str = ""


def build_transcript(
    raw: RawDoc,
    *,
    source: str,
    seller: Sequence[str] = (),
    seller_domain: str | None = None,
) -> Transcript:
    """Normalize a parsed file into a Transcript (see the model for the id scheme)."""
    scrub = Scrubber()
    scrub.doc(raw)
    source = without_surrogates(source)  # a file name that is not valid UTF-8
    cues: list[RawCue] = []
    for cue in raw.cues:
        cue.start, cue.end = _check_time(cue.start, cue, source), _check_time(cue.end, cue, source)
        text = normalize_space(cue.text)
        speaker = normalize_space(cue.speaker)
        if text and speaker:
            cue.text, cue.speaker = text, speaker
            cues.append(cue)
    if not cues:
        shape = _SHAPES.get(raw.format, "one entry per utterance with a speaker and text")
        raise TranscriptError(f"no speaker turns found; expected {shape} ({raw.format} format)", path=source, line=1)

    # Consecutive cues by one speaker are one turn. Turns are first gathered as plain lists and each
    # model is built once, complete: a 20 MB call has ~150,000 turns, and every pydantic attribute
    # assignment after construction costs as much as building the model.
    groups: list[_Group] = []
    first_cue: dict[str, RawCue] = {}
    for cue in cues:
        first_cue.setdefault(cue.speaker, cue)
        if groups and groups[-1].speaker == cue.speaker:
            last = groups[-1]
            last.parts.append(cue.text)
            last.end = cue.end if cue.end is not None else last.end
        else:
            groups.append(_Group(cue.speaker, cue.start, cue.end, [cue.text]))

    if len(first_cue) < 2:
        only = cues[0]
        raise TranscriptError(
            f"only one speaker ({only.speaker!r}) was found; expected a conversation between at least two speakers",
            path=source,
            line=only.line,
        )

    texts: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for g in groups:
        g.text = " ".join(g.parts)
        texts.setdefault(g.speaker, []).append(g.text)
        counts[g.speaker] = counts.get(g.speaker, 0) + 1
    speakers, warnings = assign_roles(
        [(name, counts[name], " ".join(texts[name])) for name in texts],
        raw.people,
        raw.metadata,
        seller=seller,
        seller_domain=seller_domain,
    )
    roles = {s.name: s.role for s in speakers}
    turns: list[Turn] = []
    for index, g in enumerate(groups):
        tid = f"t{index + 1}"
        sentences = [Sentence(id=f"{tid}.{i}", text=s) for i, s in enumerate(split_sentences(g.text), 1)]
        turns.append(
            Turn(
                id=tid,
                index=index,
                speaker=g.speaker,
                role=roles[g.speaker],
                start=g.start,
                end=g.end,
                text=g.text,
                sentences=sentences,
            )
        )
    if not any(s.role == "prospect" for s in speakers):
        warnings.append(
            f"every speaker ({', '.join(s.name for s in speakers[:5])}{', ...' if len(speakers) > 5 else ''}) "
            "is on the selling side: nobody speaks for the prospect, so the verdict rests on the seller's "
            "words alone"
        )
    return Transcript(
        source=source,
        format=raw.format,
        metadata=raw.metadata,
        speakers=speakers,
        turns=turns,
        warnings=[*raw.warnings, *scrub.warnings(), *warnings],
    )
